//! Running programs by path: CGI scripts run by mod_cgi in a child and by
//! mod_cgid's daemon, and piped loggers. A child of the jailed daemon parent
//! that is still root leaves the jail before an exec (see `lifecycle`).
//!
//! The `p` variants search PATH when the name contains no slash. Such a search
//! runs inside the jail unchanged; only a name with a slash is a path here.

use std::os::raw::{c_char, c_int};

use libc::{pid_t, posix_spawn_file_actions_t, posix_spawnattr_t};
use redhook::real;

use super::{hooks, with_path};
use crate::lifecycle;

type Strings = *const *const c_char;

hooks! {
    unsafe fn execve(path: *const c_char, argv: Strings, envp: Strings) -> c_int => hook_execve {
        lifecycle::before_exec();
        with_path("execve", path, -1, |path| real!(execve)(path, argv, envp))
    }
    unsafe fn execv(path: *const c_char, argv: Strings) -> c_int => hook_execv {
        lifecycle::before_exec();
        with_path("execv", path, -1, |path| real!(execv)(path, argv))
    }
    unsafe fn execvp(file: *const c_char, argv: Strings) -> c_int => hook_execvp {
        lifecycle::before_exec();
        if !has_slash(file) {
            return real!(execvp)(file, argv);
        }
        with_path("execvp", file, -1, |file| real!(execvp)(file, argv))
    }
    unsafe fn execvpe(file: *const c_char, argv: Strings, envp: Strings) -> c_int => hook_execvpe {
        lifecycle::before_exec();
        if !has_slash(file) {
            return real!(execvpe)(file, argv, envp);
        }
        with_path("execvpe", file, -1, |file| real!(execvpe)(file, argv, envp))
    }
    unsafe fn execveat(dirfd: c_int, path: *const c_char, argv: Strings, envp: Strings, flags: c_int) -> c_int => hook_execveat {
        lifecycle::before_exec();
        with_path("execveat", path, -1, |path| real!(execveat)(dirfd, path, argv, envp, flags))
    }
    unsafe fn posix_spawn(
        pid: *mut pid_t,
        path: *const c_char,
        actions: *const posix_spawn_file_actions_t,
        attributes: *const posix_spawnattr_t,
        argv: Strings,
        envp: Strings
    ) -> c_int => hook_posix_spawn {
        spawn_status(with_path("posix_spawn", path, -1, |path| real!(posix_spawn)(pid, path, actions, attributes, argv, envp)))
    }
    unsafe fn posix_spawnp(
        pid: *mut pid_t,
        file: *const c_char,
        actions: *const posix_spawn_file_actions_t,
        attributes: *const posix_spawnattr_t,
        argv: Strings,
        envp: Strings
    ) -> c_int => hook_posix_spawnp {
        if !has_slash(file) {
            return real!(posix_spawnp)(pid, file, actions, attributes, argv, envp);
        }
        spawn_status(with_path("posix_spawnp", file, -1, |file| real!(posix_spawnp)(pid, file, actions, attributes, argv, envp)))
    }
}

/// Returns posix_spawn's status: it reports an error as its return value,
/// not in errno, so the hooks' -1 failure becomes the errno value.
fn spawn_status(result: c_int) -> c_int {
    if result == -1 {
        crate::errno::Errno::last().0
    } else {
        result
    }
}

/// # Safety
///
/// `name` is NULL or a valid C string.
unsafe fn has_slash(name: *const c_char) -> bool {
    !name.is_null() && std::ffi::CStr::from_ptr(name).to_bytes().contains(&b'/')
}

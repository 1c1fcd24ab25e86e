//! Creating, removing, renaming and changing files and directories by path,
//! and changing the working directory.
//!
//! `rename` also watches for httpd publishing its pidfile, the moment the
//! daemon parent enters the jail. `symlink` translates only the new link's
//! path: its target is stored as written and resolved inside the jail.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_uint};

use libc::{dev_t, mode_t, timespec, timeval, uid_t, gid_t, utimbuf};
use redhook::real;

use super::{hooks, with_path, with_two_paths};
use crate::lifecycle;
use crate::pidfile;

hooks! {
    unsafe fn mkdir(path: *const c_char, mode: mode_t) -> c_int => hook_mkdir {
        with_path("mkdir", path, -1, |path| real!(mkdir)(path, mode))
    }
    unsafe fn mkdirat(dirfd: c_int, path: *const c_char, mode: mode_t) -> c_int => hook_mkdirat {
        with_path("mkdirat", path, -1, |path| real!(mkdirat)(dirfd, path, mode))
    }
    unsafe fn rmdir(path: *const c_char) -> c_int => hook_rmdir {
        with_path("rmdir", path, -1, |path| real!(rmdir)(path))
    }
    unsafe fn unlink(path: *const c_char) -> c_int => hook_unlink {
        removing(path);
        with_path("unlink", path, -1, |path| real!(unlink)(path))
    }
    unsafe fn unlinkat(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int => hook_unlinkat {
        removing(path);
        with_path("unlinkat", path, -1, |path| real!(unlinkat)(dirfd, path, flags))
    }
    unsafe fn remove(path: *const c_char) -> c_int => hook_remove {
        removing(path);
        with_path("remove", path, -1, |path| real!(remove)(path))
    }
    unsafe fn rename(old: *const c_char, new: *const c_char) -> c_int => hook_rename {
        if !old.is_null() && !new.is_null() {
            let published = pidfile::intercept_rename(CStr::from_ptr(old), CStr::from_ptr(new), || real!(rename)(old, new));
            if let Some(result) = published {
                return result;
            }
        }
        with_two_paths("rename", old, new, -1, |old, new| real!(rename)(old, new))
    }
    unsafe fn renameat(old_dirfd: c_int, old: *const c_char, new_dirfd: c_int, new: *const c_char) -> c_int => hook_renameat {
        with_two_paths("renameat", old, new, -1, |old, new| real!(renameat)(old_dirfd, old, new_dirfd, new))
    }
    unsafe fn renameat2(old_dirfd: c_int, old: *const c_char, new_dirfd: c_int, new: *const c_char, flags: c_uint) -> c_int => hook_renameat2 {
        with_two_paths("renameat2", old, new, -1, |old, new| real!(renameat2)(old_dirfd, old, new_dirfd, new, flags))
    }
    unsafe fn link(old: *const c_char, new: *const c_char) -> c_int => hook_link {
        with_two_paths("link", old, new, -1, |old, new| real!(link)(old, new))
    }
    unsafe fn linkat(old_dirfd: c_int, old: *const c_char, new_dirfd: c_int, new: *const c_char, flags: c_int) -> c_int => hook_linkat {
        with_two_paths("linkat", old, new, -1, |old, new| real!(linkat)(old_dirfd, old, new_dirfd, new, flags))
    }
    unsafe fn symlink(target: *const c_char, path: *const c_char) -> c_int => hook_symlink {
        with_path("symlink", path, -1, |path| real!(symlink)(target, path))
    }
    unsafe fn symlinkat(target: *const c_char, dirfd: c_int, path: *const c_char) -> c_int => hook_symlinkat {
        with_path("symlinkat", path, -1, |path| real!(symlinkat)(target, dirfd, path))
    }
    unsafe fn chmod(path: *const c_char, mode: mode_t) -> c_int => hook_chmod {
        with_path("chmod", path, -1, |path| real!(chmod)(path, mode))
    }
    unsafe fn fchmodat(dirfd: c_int, path: *const c_char, mode: mode_t, flags: c_int) -> c_int => hook_fchmodat {
        with_path("fchmodat", path, -1, |path| real!(fchmodat)(dirfd, path, mode, flags))
    }
    unsafe fn chown(path: *const c_char, owner: uid_t, group: gid_t) -> c_int => hook_chown {
        with_path("chown", path, -1, |path| real!(chown)(path, owner, group))
    }
    unsafe fn lchown(path: *const c_char, owner: uid_t, group: gid_t) -> c_int => hook_lchown {
        with_path("lchown", path, -1, |path| real!(lchown)(path, owner, group))
    }
    unsafe fn fchownat(dirfd: c_int, path: *const c_char, owner: uid_t, group: gid_t, flags: c_int) -> c_int => hook_fchownat {
        with_path("fchownat", path, -1, |path| real!(fchownat)(dirfd, path, owner, group, flags))
    }
    unsafe fn mkfifo(path: *const c_char, mode: mode_t) -> c_int => hook_mkfifo {
        with_path("mkfifo", path, -1, |path| real!(mkfifo)(path, mode))
    }
    unsafe fn mkfifoat(dirfd: c_int, path: *const c_char, mode: mode_t) -> c_int => hook_mkfifoat {
        with_path("mkfifoat", path, -1, |path| real!(mkfifoat)(dirfd, path, mode))
    }
    unsafe fn mknod(path: *const c_char, mode: mode_t, device: dev_t) -> c_int => hook_mknod {
        with_path("mknod", path, -1, |path| real!(mknod)(path, mode, device))
    }
    unsafe fn mknodat(dirfd: c_int, path: *const c_char, mode: mode_t, device: dev_t) -> c_int => hook_mknodat {
        with_path("mknodat", path, -1, |path| real!(mknodat)(dirfd, path, mode, device))
    }
    unsafe fn utime(path: *const c_char, times: *const utimbuf) -> c_int => hook_utime {
        with_path("utime", path, -1, |path| real!(utime)(path, times))
    }
    unsafe fn utimes(path: *const c_char, times: *const timeval) -> c_int => hook_utimes {
        with_path("utimes", path, -1, |path| real!(utimes)(path, times))
    }
    unsafe fn lutimes(path: *const c_char, times: *const timeval) -> c_int => hook_lutimes {
        with_path("lutimes", path, -1, |path| real!(lutimes)(path, times))
    }
    unsafe fn futimesat(dirfd: c_int, path: *const c_char, times: *const timeval) -> c_int => hook_futimesat {
        with_path("futimesat", path, -1, |path| real!(futimesat)(dirfd, path, times))
    }
    unsafe fn utimensat(dirfd: c_int, path: *const c_char, times: *const timespec, flags: c_int) -> c_int => hook_utimensat {
        with_path("utimensat", path, -1, |path| real!(utimensat)(dirfd, path, times, flags))
    }
    unsafe fn chdir(path: *const c_char) -> c_int => hook_chdir {
        with_path("chdir", path, -1, |path| real!(chdir)(path))
    }
}

/// Lets the lifecycle see a removal by path before it happens.
///
/// # Safety
///
/// `path` is NULL or a valid C string.
unsafe fn removing(path: *const c_char) {
    if !path.is_null() {
        lifecycle::before_removal(CStr::from_ptr(path));
    }
}

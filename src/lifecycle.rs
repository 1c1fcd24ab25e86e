//! The daemon parent's round trip through the jail in server mode.
//!
//! At every restart, graceful or not, httpd's daemon parent reads its whole
//! configuration again: it opens the configuration files, loads the modules
//! through the dynamic loader, reopens the logs and spawns piped loggers and
//! mod_cgid's daemon. None of that works from inside the jail. So the
//! parent works in the jail only while httpd runs its MPM: it enters after
//! each pidfile it publishes, and leaves again
//!
//! - at its first interposed call after the MPM stopped running (httpd
//!   then destroys the old configuration, reads the new one, or exits), or
//! - when it removes its own pidfile, the first step of a stop or
//!   graceful-stop.
//!
//! To leave, the parent keeps close-on-exec `O_PATH` descriptors of the
//! host's root and of its working directory, opened just before each entry
//! and closed as it leaves. A child forked by the jailed parent closes them
//! before its first identity change, so no process that drops root
//! privileges has them open. A child that instead runs a program while it
//! is still root (httpd restarting a piped logger that died) leaves the jail
//! through them first, because httpd runs piped loggers on the host.

use std::ffi::{CStr, CString};
use std::os::raw::c_int;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;

use crate::errno::ErrnoGuard;
use crate::paths::{self, Location, Translation};
use crate::state;
use crate::sys;

/// The pidfile that the daemon parent published last, as httpd named it.
static PIDFILE: Mutex<Option<CString>> = Mutex::new(None);

/// Returns whether this process works in the jail now. The daemon parent
/// first leaves the jail when its MPM has stopped running.
pub fn is_jailed() -> bool {
    if !state::is_jailed() {
        return false;
    }
    if state::is_daemon_parent() && !mpm_running() {
        leave("the daemon parent", "its MPM stopped running (restart or stop)");
    }
    state::is_jailed()
}

fn mpm_running() -> bool {
    state::active().map_or(true, |process| process.httpd.is_running_mpm())
}

/// Records the pidfile published by the daemon parent.
pub fn note_pidfile(path: &CStr) {
    state::set_daemon_parent(true);
    if let Ok(mut slot) = PIDFILE.lock() {
        *slot = Some(path.to_owned());
    }
}

/// Leaves the jail before the jailed daemon parent removes its own pidfile,
/// the first step of a stop. The pidfile and everything removed after it
/// are then removed at their host paths.
pub fn before_removal(path: &CStr) {
    if !state::is_daemon_parent() || !state::is_jailed() {
        return;
    }
    let own = match PIDFILE.lock() {
        Ok(slot) => slot.as_deref() == Some(path),
        Err(_) => false,
    };
    if own {
        leave("the daemon parent", "it removes its pidfile to stop");
    }
}

/// Opens the descriptors through which the daemon parent leaves the jail
/// again, and the host's /dev/shm. Runs just before it enters the jail.
pub fn hold_host_directories() {
    hold(&state::HOST_ROOT, sys::cstr!("/"));
    hold(&state::HOST_CWD, sys::cstr!("."));
    hold(&state::HOST_SHM_DIR, sys::cstr!("/dev/shm"));
}

fn hold(slot: &AtomicI32, path: &CStr) {
    let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC;
    let fd = match sys::open(path, flags) {
        Ok(fd) => fd,
        Err(errno) => {
            log::debug!("not holding {}: open failed: {}", path.to_bytes().escape_ascii(), errno);
            -1
        }
    };
    release(slot, fd);
}

/// Stores `fd` in `slot` and closes the descriptor it held before.
fn release(slot: &AtomicI32, fd: c_int) {
    let previous = slot.swap(fd, Ordering::AcqRel);
    if previous >= 0 {
        sys::close(previous);
    }
}

/// Checks access(2) with X_OK for a path outside the jail on the host, in
/// the jailed daemon parent, because its children run such programs as
/// root on the host (`before_exec`). APR checks a piped logger's program
/// this way before httpd restarts it. Returns None for other calls.
///
/// NOTE: the path is resolved from the host's root descriptor, so an
/// absolute symlink on the way is still resolved inside the jail.
pub fn access_on_host(path: &CStr, mode: c_int) -> Option<c_int> {
    if mode & libc::X_OK == 0 || !state::is_daemon_parent() || !is_jailed() {
        return None;
    }
    let root = state::HOST_ROOT.load(Ordering::Acquire);
    let process = state::active()?;
    let outside = matches!(
        paths::translate(path.to_bytes(), &process.settings.spellings()),
        Translation::Unchanged(Location::Outside)
    );
    if root < 0 || !outside {
        return None;
    }

    match sys::faccessat(root, relative_to_root(path), mode) {
        Ok(()) => Some(0),
        Err(errno) => {
            errno.set();
            Some(-1)
        }
    }
}

/// Returns `path` without its leading slashes, to resolve it from a
/// descriptor of the root directory.
fn relative_to_root(path: &CStr) -> &CStr {
    let skipped = path.to_bytes().iter().take_while(|&&byte| byte == b'/').count();
    // SAFETY: a suffix of a C string ends at the same NUL byte.
    unsafe { CStr::from_ptr(path.as_ptr().add(skipped)) }
}

/// Leaves the jail before a child of the jailed daemon parent runs a
/// program as root: httpd restarting a piped logger, which runs on the host
/// as at startup. Processes that dropped root privileges have no descriptor
/// to leave through and run their programs (CGI scripts) in the jail.
pub fn before_exec() {
    if !state::is_jailed() || state::is_daemon_parent() || state::HOST_ROOT.load(Ordering::Acquire) < 0 {
        return;
    }
    // SAFETY: geteuid(2) has no preconditions and always succeeds.
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    leave("a child of the daemon parent", "it runs a program as root, as httpd's piped loggers run on the host");
}

/// Closes the descriptors to the host before a child of the daemon parent
/// changes its user or group identity.
pub fn before_identity_change() {
    if !state::is_daemon_parent() {
        release_all();
    }
}

/// Moves the process back to the host's root and working directory. If
/// that fails the process stays in the jail: the daemon parent then fails
/// to read its new configuration and httpd exits, which is the safe outcome.
fn leave(role: &str, reason: &str) {
    let _errno = ErrnoGuard::save();
    let root = state::HOST_ROOT.load(Ordering::Acquire);
    let result = sys::fchdir(root).and_then(|()| sys::chroot(sys::cstr!(".")));
    if let Err(errno) = result {
        log::error!(
            "{} cannot leave the jail although {}: fchdir or chroot of the host's root failed: {}. \
             Stop httpd with apache2ctl stop and start it again",
            role,
            reason,
            errno
        );
        return;
    }
    state::mark_left();

    let cwd = state::HOST_CWD.load(Ordering::Acquire);
    if sys::fchdir(cwd).is_err() {
        let _ = sys::chdir(sys::cstr!("/"));
    }
    release_all();

    // SAFETY: getpid(2) has no preconditions and always succeeds.
    let pid = unsafe { libc::getpid() };
    log::info!("{} (pid {}) left the jail because {}", role, pid, reason);
}

fn release_all() {
    release(&state::HOST_ROOT, -1);
    release(&state::HOST_CWD, -1);
    release(&state::HOST_SHM_DIR, -1);
}

/// Marks a new child as not the daemon parent. Runs in every child right
/// after fork(), before httpd's code does.
pub extern "C" fn after_fork_in_child() {
    state::set_daemon_parent(false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_path_drops_leading_slashes() {
        let cases: [(&CStr, &[u8]); 4] = [
            (c"/usr/bin/rotatelogs", b"usr/bin/rotatelogs"),
            (c"///usr//bin", b"usr//bin"),
            (c"/", b""),
            (c"usr/bin", b"usr/bin"),
        ];
        for (path, expected) in cases {
            assert_eq!(relative_to_root(path).to_bytes(), expected, "path {:?}", path);
        }
    }
}

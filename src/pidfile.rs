//! Recognizing the moment httpd publishes its pidfile, when the daemon
//! parent enters the jail.
//!
//! httpd 2.4.47 and later write `<pidfile>.XXXXXX` with mkstemp(3) and
//! rename(2) it onto the pidfile. Earlier releases open the pidfile with
//! `O_WRONLY|O_CREAT|O_TRUNC`, write the pid and close(2) it. Either way the
//! file contains the writer's pid and a newline, and httpd's main state is
//! "running the MPM": all modules are loaded, logs are open and no child of
//! the MPM exists yet.

use std::ffi::{CStr, CString};
use std::os::raw::c_int;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;

use crate::errno::ErrnoGuard;
use crate::config::Mode;
use crate::jail::{self, Trigger};
use crate::lifecycle;
use crate::preflight;
use crate::rejection;
use crate::state;
use crate::sys;

/// Returns whether `temporary` is `target` plus mkstemp's `.XXXXXX` suffix.
pub fn is_temporary_name(temporary: &[u8], target: &[u8]) -> bool {
    temporary.len() == target.len() + 7
        && temporary.starts_with(target)
        && temporary[target.len()] == b'.'
        && !temporary[target.len() + 1..].contains(&b'/')
}

/// Returns whether `content` is `pid` in decimal followed by a newline.
pub fn holds_pid(content: &[u8], pid: libc::pid_t) -> bool {
    let digits = match content.strip_suffix(b"\n") {
        Some(digits) if !digits.is_empty() && digits.len() <= 10 => digits,
        _ => return false,
    };
    if digits[0] == b'0' || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let value = digits.iter().fold(0u64, |value, digit| value * 10 + u64::from(digit - b'0'));
    value == pid as u64
}

/// Returns whether the file at `path` contains this process's pid.
fn file_holds_own_pid(path: &CStr) -> bool {
    let fd = match sys::open(path, libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW) {
        Ok(fd) => fd,
        Err(_) => return false,
    };
    let mut content = [0u8; 24];
    let read = sys::read_to_fill(fd, &mut content);
    sys::close(fd);

    // SAFETY: getpid(2) has no preconditions and always succeeds.
    let pid = unsafe { libc::getpid() };
    matches!(read, Ok(length) if holds_pid(&content[..length], pid))
}

/// Returns whether a pidfile written now would start the jail: a server
/// process outside the jail whose httpd runs the MPM.
fn publishing_is_watched() -> bool {
    if state::is_jailed() {
        return false;
    }
    if let Some(process) = state::active() {
        return process.invocation == crate::role::Invocation::Server && process.httpd.is_running_mpm();
    }
    if let Some(rejected) = state::rejection() {
        return rejected.httpd.is_running_mpm();
    }
    false
}

/// Handles `rename(old, new)` when it publishes the pidfile: runs the real
/// rename, then enters the jail. Returns None for every other rename.
pub fn intercept_rename(old: &CStr, new: &CStr, real_rename: impl FnOnce() -> c_int) -> Option<c_int> {
    let publishing = {
        let _errno = ErrnoGuard::save();
        publishing_is_watched() && is_temporary_name(old.to_bytes(), new.to_bytes()) && file_holds_own_pid(old)
    };
    if !publishing {
        return None;
    }
    Some(publish_and_enter(old, new, real_rename))
}

/// Publishes the pidfile `pidfile` with `publish`, then enters the jail.
/// `pending` is the file that exists before publishing: it is removed when
/// the server is rejected. Returns -1 with errno set when the server must
/// stop, and otherwise the result of `publish`.
fn publish_and_enter(pending: &CStr, pidfile: &CStr, publish: impl FnOnce() -> c_int) -> c_int {
    if let Some(rejected) = state::rejection() {
        // The server must not start: leave nothing behind and fail the call,
        // so that httpd logs AH10231 and exits.
        rejection::report(rejected);
        withdraw(pending, pidfile);
        rejected.errno.set();
        return -1;
    }

    // Name-service and time zone lookups can take milliseconds, so they run
    // before the pidfile appears rather than between it and the chroot.
    if let Some(process) = state::active() {
        jail::prepare(process, Trigger::PidfilePublished(pidfile.to_bytes()));
        if let Err(errno) = preflight::before_publish(process) {
            withdraw(pending, pidfile);
            errno.set();
            return -1;
        }
    }
    let result = publish();
    if result != 0 {
        return result;
    }
    lifecycle::note_pidfile(pidfile);
    match state::active() {
        Some(process) if process.settings.mode == Mode::Children => {
            stay_outside(process);
            0
        }
        _ => enter_or_withdraw(pidfile),
    }
}

/// Removes the pending pidfile of a refused configuration, and the pidfile
/// of the previous one when it still names this process, so that no
/// stale pidfile outlives the server.
fn withdraw(pending: &CStr, pidfile: &CStr) {
    if pending != pidfile {
        let _ = sys::unlinkat(libc::AT_FDCWD, pending);
    }
    if file_holds_own_pid(pidfile) {
        let _ = sys::unlinkat(libc::AT_FDCWD, pidfile);
    }
}

/// Reports that the daemon parent stays outside the jail in children mode.
fn stay_outside(process: &state::Process) {
    // SAFETY: getpid(2) has no preconditions and always succeeds.
    let pid = unsafe { libc::getpid() };
    log::info!(
        "the daemon parent (pid {}) stays outside the jail ({}=children); every server process enters jail {} \
         before it drops root privileges",
        pid,
        crate::config::MODE_VARIABLE,
        process.settings.resolved.as_bytes().escape_ascii()
    );
}

/// Enters the jail after the pidfile `path` was published. On failure the
/// pidfile is removed again and -1 is returned with errno set.
fn enter_or_withdraw(path: &CStr) -> c_int {
    let process = match state::active() {
        Some(process) => process,
        None => return 0,
    };
    match jail::enter_prepared(process, Trigger::PidfilePublished(path.to_bytes())) {
        Ok(()) => 0,
        Err(error) => {
            log::error!("{}", error);
            let _ = sys::unlinkat(libc::AT_FDCWD, path);
            error.errno().set();
            -1
        }
    }
}

/// The descriptor of a file that may be a pidfile being written the old
/// way, and its path; -1 when there is none.
static LEGACY_FD: AtomicI32 = AtomicI32::new(-1);
static LEGACY_PATH: Mutex<Option<CString>> = Mutex::new(None);

/// Notes a successful open(2) that may write a pidfile the old way.
pub fn note_open(path: &CStr, flags: c_int, fd: c_int) {
    let required = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC;
    if fd < 0 || flags & (libc::O_ACCMODE | required) != required || !publishing_is_watched() {
        return;
    }
    // Only the daemon parent gets here, before it forks the MPM's children.
    if let Ok(mut slot) = LEGACY_PATH.lock() {
        *slot = Some(path.to_owned());
        LEGACY_FD.store(fd, Ordering::Release);
    }
}

/// Handles close(2): when `fd` is a noted file that now contains this
/// process's pid, the pidfile is published and the daemon enters the jail.
/// httpd ignores close's result there, so a failure ends the process.
pub fn intercept_close(fd: c_int, real_close: impl FnOnce() -> c_int) -> c_int {
    if fd < 0 || LEGACY_FD.load(Ordering::Acquire) != fd {
        return real_close();
    }
    LEGACY_FD.store(-1, Ordering::Release);
    let result = real_close();
    let _errno = ErrnoGuard::save();

    let path = match LEGACY_PATH.lock() {
        Ok(mut slot) => slot.take(),
        Err(_) => None,
    };
    let path = match path {
        Some(path) if file_holds_own_pid(&path) => path,
        _ => return result,
    };

    // The pidfile is complete already, so publishing has nothing left to do.
    if publish_and_enter(&path, &path, || 0) != 0 {
        // SAFETY: exit runs httpd's atexit handlers, which stop the
        // processes it started, as httpd does when its pidfile fails.
        unsafe { libc::exit(1) };
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_name_needs_mkstemp_suffix() {
        assert!(is_temporary_name(b"/run/httpd.pid.aB3xYz", b"/run/httpd.pid"));
        assert!(!is_temporary_name(b"/run/httpd.pid.aB3xY", b"/run/httpd.pid"));
        assert!(!is_temporary_name(b"/run/httpd.pidXaB3xYz", b"/run/httpd.pid"));
        assert!(!is_temporary_name(b"/run/other.pid.aB3xYz", b"/run/httpd.pid"));
        assert!(!is_temporary_name(b"/run/httpd.pid./B3xYz", b"/run/httpd.pid"));
    }

    #[test]
    fn pid_content_must_match_exactly() {
        assert!(holds_pid(b"4242\n", 4242));
        assert!(!holds_pid(b"4242", 4242));
        assert!(!holds_pid(b"4243\n", 4242));
        assert!(!holds_pid(b"04242\n", 4242));
        assert!(!holds_pid(b" 4242\n", 4242));
        assert!(!holds_pid(b"4242\n\n", 4242));
        assert!(!holds_pid(b"\n", 4242));
        assert!(!holds_pid(b"99999999999\n", 4242));
    }
}

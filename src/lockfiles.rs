//! Lock files that jailed processes cannot reopen.
//!
//! With `Mutex flock:DIR`, the daemon parent creates each lock file with
//! `O_CREAT|O_EXCL` and every child opens it again by path. A child inside
//! the jail cannot reach a file outside it. httpd then reports only ENOENT:
//! for the accept mutex it stops (AH00155), but mod_ssl's session cache
//! (AH02024) keeps the descriptor inherited from the parent, and its
//! children no longer exclude each other. The library remembers the files
//! that a server process outside the jail created that way. When a jailed
//! child fails to open one of them, it logs what went wrong and how to fix
//! it, then exits with httpd's fatal-child status, which stops the server.

use std::ffi::{CStr, CString};
use std::os::raw::c_int;
use std::sync::Mutex;

use crate::errno::{Errno, ErrnoGuard};
use crate::paths::{self, Location, Translation};
use crate::role::Invocation;
use crate::state;

/// At most this many paths are remembered; the oldest is forgotten first.
const REMEMBERED: usize = 32;

static CREATED: Mutex<Vec<CString>> = Mutex::new(Vec::new());

/// Returns whether open(2) flags create a file that must not exist yet.
pub fn creates_exclusively(flags: c_int) -> bool {
    flags & (libc::O_CREAT | libc::O_EXCL) == libc::O_CREAT | libc::O_EXCL
}

/// Returns whether `path` lies outside the jail `process` uses.
fn outside_jail(process: &state::Process, path: &[u8]) -> bool {
    matches!(paths::translate(path, &process.settings.spellings()), Translation::Unchanged(Location::Outside))
}

/// Remembers a file that a server process outside the jail has created
/// exclusively at a path outside the jail.
pub fn note_created(path: &CStr, flags: c_int) {
    if !creates_exclusively(flags) {
        return;
    }
    let process = match state::active() {
        Some(process) if process.invocation == Invocation::Server => process,
        _ => return,
    };
    if !outside_jail(process, path.to_bytes()) {
        return;
    }
    if let Ok(mut created) = CREATED.lock() {
        if created.iter().any(|known| known.as_c_str() == path) {
            return;
        }
        if created.len() == REMEMBERED {
            created.remove(0);
        }
        created.push(path.to_owned());
    }
}

/// Explains a failed open(2) of `path` in a jailed process when the path is
/// a remembered file outside the jail, and ends a child process then. Runs
/// only on that error path.
pub fn explain_failure(path: &CStr) {
    let _errno = ErrnoGuard::save();
    if Errno::last().0 != libc::ENOENT {
        return;
    }
    let process = match state::active() {
        Some(process) => process,
        None => return,
    };
    // try_lock: a forked child must not wait for a lock another thread of
    // its parent held at fork time.
    let known = match CREATED.try_lock() {
        Ok(created) => created.iter().any(|known| known.as_c_str() == path),
        Err(_) => false,
    };
    if !known {
        return;
    }

    let jail = process.settings.jail.as_bytes().escape_ascii();
    log::error!(
        "cannot open {} in the jail: the server created this lock file outside jail {}, and jailed processes \
         cannot reopen it by path (Mutex flock:). Put the lock directory under the jail, for example \
         \"Mutex flock:{}/run/lock default\", or use a mechanism without files: \"Mutex sysvsem default\". \
         This process exits, which stops the server, rather than run without the lock",
        path.to_bytes().escape_ascii(),
        jail,
        jail
    );
    if !state::is_daemon_parent() {
        // SAFETY: _exit ends this child at once. On the fatal-child status
        // (APEXIT_CHILDFATAL), httpd's parent stops the server.
        unsafe { libc::_exit(crate::httpd::CHILD_FATAL) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_creation_needs_both_flags() {
        assert!(creates_exclusively(libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL));
        assert!(creates_exclusively(libc::O_RDWR | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC));
        assert!(!creates_exclusively(libc::O_WRONLY | libc::O_CREAT));
        assert!(!creates_exclusively(libc::O_WRONLY | libc::O_EXCL));
        assert!(!creates_exclusively(libc::O_RDONLY));
    }
}

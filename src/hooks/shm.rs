//! POSIX shared memory by name: httpd's named scoreboard (`ScoreBoardFile`).
//!
//! glibc implements shm_open(3) as an open(2) under /dev/shm inside libc,
//! which no hook intercepts, and the jail has no /dev/shm of its own. The daemon
//! parent creates the named scoreboard right after it enters the jail, and
//! removes it when it exits, so in the daemon parent these calls use the
//! host's /dev/shm through a directory descriptor opened before the chroot.
//! Children never hold that descriptor and get the real calls.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};
use std::sync::atomic::Ordering;

use libc::mode_t;
use redhook::real;

use super::hooks;
use crate::errno::Errno;
use crate::lifecycle;
use crate::state;
use crate::sys;

hooks! {
    unsafe fn shm_open(name: *const c_char, flags: c_int, mode: mode_t) -> c_int => hook_shm_open {
        let directory = host_shm_dir();
        if directory < 0 || name.is_null() {
            return real!(shm_open)(name, flags, mode);
        }
        match object_name(CStr::from_ptr(name)) {
            Ok(object) => {
                let flags = flags | libc::O_NOFOLLOW | libc::O_CLOEXEC;
                match sys::openat(directory, object, flags, mode) {
                    Ok(fd) => fd,
                    Err(errno) => {
                        errno.set();
                        -1
                    }
                }
            }
            Err(errno) => {
                errno.set();
                -1
            }
        }
    }
    unsafe fn shm_unlink(name: *const c_char) -> c_int => hook_shm_unlink {
        let directory = host_shm_dir();
        if directory < 0 || name.is_null() {
            return real!(shm_unlink)(name);
        }
        let result = object_name(CStr::from_ptr(name)).and_then(|object| sys::unlinkat(directory, object));
        match result {
            Ok(()) => 0,
            Err(errno) => {
                errno.set();
                -1
            }
        }
    }
}

/// Maximum file name length on Linux file systems, as glibc checks it.
const NAME_MAX: usize = 255;

/// Returns the held /dev/shm descriptor in a jailed daemon parent, or -1.
fn host_shm_dir() -> c_int {
    if !lifecycle::is_jailed() {
        return -1;
    }
    state::HOST_SHM_DIR.load(Ordering::Acquire)
}

/// Checks a shared memory object name as glibc does: leading slashes are
/// dropped, and the rest must be a single, non-empty file name.
fn object_name(name: &CStr) -> Result<&CStr, Errno> {
    let bytes = name.to_bytes();
    let skipped = bytes.iter().take_while(|&&b| b == b'/').count();
    let object = &bytes[skipped..];
    if object.is_empty() || object == b"." || object == b".." || object.contains(&b'/') {
        return Err(Errno(libc::EINVAL));
    }
    if object.len() > NAME_MAX {
        return Err(Errno(libc::ENAMETOOLONG));
    }
    // SAFETY: `object` is a suffix of a C string, so it ends at its NUL.
    Ok(unsafe { CStr::from_ptr(name.as_ptr().add(skipped)) })
}

//! Calls that return a resolved path: realpath(3) and getcwd(3).
//!
//! Inside the jail the kernel resolves paths from the jail's root, so the
//! real functions return jail-relative paths such as `/www/index.html`. The
//! hooks return them with the resolved jail prefixed again
//! (`/srv/jail/www/index.html`), so that code comparing the result with the
//! host paths in httpd's configuration (PHP's open_basedir, for example)
//! gets the same value as without the jail.

use std::ffi::CStr;
use std::os::raw::c_char;

use libc::size_t;
use redhook::real;

use super::{hooks, jailed_call, route};
use crate::errno::Errno;
use crate::paths::{PathBuffer, PATH_MAX};
use crate::state;

hooks! {
    unsafe fn realpath(path: *const c_char, resolved: *mut c_char) -> *mut c_char => hook_realpath {
        host_realpath("realpath", path, resolved)
    }
    unsafe fn __realpath_chk(path: *const c_char, resolved: *mut c_char, resolved_size: size_t) -> *mut c_char => hook_realpath_chk {
        if !resolved.is_null() && resolved_size < PATH_MAX {
            // Let glibc's fortify check report the short buffer.
            return real!(__realpath_chk)(path, resolved, resolved_size);
        }
        host_realpath("__realpath_chk", path, resolved)
    }
    unsafe fn canonicalize_file_name(path: *const c_char) -> *mut c_char => hook_canonicalize_file_name {
        host_realpath("canonicalize_file_name", path, std::ptr::null_mut())
    }
    unsafe fn getcwd(buf: *mut c_char, size: size_t) -> *mut c_char => hook_getcwd {
        let _busy = match jailed_call() {
            Some(busy) => busy,
            None => return real!(getcwd)(buf, size),
        };

        let mut inner = PathBuffer::new();
        if real!(getcwd)(inner.as_mut_ptr(), PATH_MAX).is_null() {
            return std::ptr::null_mut();
        }
        deliver(CStr::from_ptr(inner.as_mut_ptr()), buf, size)
    }
}

/// Returns what realpath(3) returns outside the jail.
///
/// # Safety
///
/// `path` is NULL or a valid C string; `resolved` is NULL or has room for
/// PATH_MAX bytes.
unsafe fn host_realpath(call: &str, path: *const c_char, resolved: *mut c_char) -> *mut c_char {
    let _busy = match jailed_call() {
        Some(busy) => busy,
        None => return real!(realpath)(path, resolved),
    };

    let mut input = PathBuffer::new();
    let routed = match route(call, path, &mut input) {
        Ok(routed) => routed,
        Err(errno) => {
            errno.set();
            return std::ptr::null_mut();
        }
    };

    let mut inner = PathBuffer::new();
    if real!(realpath)(routed, inner.as_mut_ptr()).is_null() {
        return std::ptr::null_mut();
    }
    let size = if resolved.is_null() { 0 } else { PATH_MAX };
    deliver(CStr::from_ptr(inner.as_mut_ptr()), resolved, size)
}

/// Copies `inner`, a path seen inside the jail, in host spelling into the
/// caller's `buf` of `size` bytes. When `buf` is NULL it allocates the
/// buffer with malloc(3), of `size` bytes or just large enough when `size`
/// is 0, as getcwd(3) and realpath(3) do.
///
/// # Safety
///
/// `buf` is NULL or writable for `size` bytes.
unsafe fn deliver(inner: &CStr, buf: *mut c_char, size: size_t) -> *mut c_char {
    let process = match state::active() {
        Some(process) => process,
        None => return copy_out(inner, buf, size),
    };
    if inner.to_bytes().first() != Some(&b'/') {
        return copy_out(inner, buf, size);
    }

    let mut host = PathBuffer::new();
    match host.store_host_spelling(&process.settings.resolved, inner.to_bytes()) {
        Ok(host) => copy_out(host, buf, size),
        Err(errno) => {
            errno.set();
            std::ptr::null_mut()
        }
    }
}

/// # Safety
///
/// As for `deliver`.
unsafe fn copy_out(text: &CStr, buf: *mut c_char, size: size_t) -> *mut c_char {
    let needed = text.to_bytes_with_nul().len();
    let (target, capacity) = if buf.is_null() {
        let capacity = if size == 0 { needed } else { size };
        let target = libc::malloc(capacity) as *mut c_char;
        if target.is_null() {
            Errno(libc::ENOMEM).set();
            return std::ptr::null_mut();
        }
        (target, capacity)
    } else {
        (buf, size)
    };

    if needed > capacity {
        if buf.is_null() {
            libc::free(target.cast());
        }
        Errno(libc::ERANGE).set();
        return std::ptr::null_mut();
    }
    std::ptr::copy_nonoverlapping(text.as_ptr(), target, needed);
    target
}

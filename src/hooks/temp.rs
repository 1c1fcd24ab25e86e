//! Creating uniquely named temporary files and directories from a template.
//!
//! These functions replace the `XXXXXX` in the caller's template. When the
//! template is rewritten to its jail-relative spelling, the hook copies the
//! chosen name back into the caller's template, which then names the
//! created file in host spelling.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

use redhook::real;

use super::{hooks, jailed_call, route};
use crate::paths::PathBuffer;

hooks! {
    unsafe fn mkstemp(template: *mut c_char) -> c_int => hook_mkstemp {
        with_template("mkstemp", template, -1, |template| real!(mkstemp)(template))
    }
    unsafe fn mkstemp64(template: *mut c_char) -> c_int => hook_mkstemp64 {
        with_template("mkstemp64", template, -1, |template| real!(mkstemp64)(template))
    }
    unsafe fn mkostemp(template: *mut c_char, flags: c_int) -> c_int => hook_mkostemp {
        with_template("mkostemp", template, -1, |template| real!(mkostemp)(template, flags))
    }
    unsafe fn mkostemp64(template: *mut c_char, flags: c_int) -> c_int => hook_mkostemp64 {
        with_template("mkostemp64", template, -1, |template| real!(mkostemp64)(template, flags))
    }
    unsafe fn mkstemps(template: *mut c_char, suffix_length: c_int) -> c_int => hook_mkstemps {
        with_template("mkstemps", template, -1, |template| real!(mkstemps)(template, suffix_length))
    }
    unsafe fn mkstemps64(template: *mut c_char, suffix_length: c_int) -> c_int => hook_mkstemps64 {
        with_template("mkstemps64", template, -1, |template| real!(mkstemps64)(template, suffix_length))
    }
    unsafe fn mkostemps(template: *mut c_char, suffix_length: c_int, flags: c_int) -> c_int => hook_mkostemps {
        with_template("mkostemps", template, -1, |template| real!(mkostemps)(template, suffix_length, flags))
    }
    unsafe fn mkostemps64(template: *mut c_char, suffix_length: c_int, flags: c_int) -> c_int => hook_mkostemps64 {
        with_template("mkostemps64", template, -1, |template| real!(mkostemps64)(template, suffix_length, flags))
    }
    unsafe fn mkdtemp(template: *mut c_char) -> *mut c_char => hook_mkdtemp {
        let created = with_template("mkdtemp", template, std::ptr::null_mut(), |template| real!(mkdtemp)(template));
        if created.is_null() {
            created
        } else {
            // mkdtemp returns its argument; the caller expects its own buffer.
            template
        }
    }
}

/// Calls `real` with the template as a process inside the jail must pass
/// it, and copies the chosen name back into the caller's template.
///
/// # Safety
///
/// `template` is NULL or a valid, writable C string.
unsafe fn with_template<R>(call: &str, template: *mut c_char, failure: R, real: impl FnOnce(*mut c_char) -> R) -> R {
    if template.is_null() {
        return real(template);
    }
    let _busy = match jailed_call() {
        Some(busy) => busy,
        None => return real(template),
    };

    let mut buffer = PathBuffer::new();
    let routed = match route(call, template, &mut buffer) {
        Ok(routed) => routed,
        Err(errno) => {
            errno.set();
            return failure;
        }
    };
    if std::ptr::eq(routed, template) {
        return real(template);
    }

    // The rewritten template is the tail of the caller's one, so the chosen
    // name goes back to the same offset from the end.
    let original_length = CStr::from_ptr(template).to_bytes().len();
    let routed_length = CStr::from_ptr(routed).to_bytes().len();
    let result = real(buffer.as_mut_ptr());
    let _errno = crate::errno::ErrnoGuard::save();
    std::ptr::copy_nonoverlapping(
        buffer.as_mut_ptr() as *const c_char,
        template.add(original_length - routed_length),
        routed_length,
    );
    result
}

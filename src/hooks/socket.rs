//! Unix domain sockets named by path: mod_cgid's ScriptSock, and any
//! AF_UNIX socket a module binds or connects to.

use std::ffi::CStr;
use std::mem::{size_of, MaybeUninit};
use std::os::raw::{c_int, c_void};

use libc::{sa_family_t, size_t, sockaddr, sockaddr_un, socklen_t, ssize_t};
use redhook::real;

use super::{hooks, jailed_call, route};
use crate::paths::{self, PathBuffer, Translation};
use crate::state;

hooks! {
    unsafe fn bind(fd: c_int, address: *const sockaddr, length: socklen_t) -> c_int => hook_bind {
        warn_if_unreachable(address, length);
        with_address("bind", address, length, |address, length| real!(bind)(fd, address, length))
    }
    unsafe fn connect(fd: c_int, address: *const sockaddr, length: socklen_t) -> c_int => hook_connect {
        with_address("connect", address, length, |address, length| real!(connect)(fd, address, length))
    }
    unsafe fn sendto(fd: c_int, data: *const c_void, size: size_t, flags: c_int, address: *const sockaddr, length: socklen_t) -> ssize_t => hook_sendto {
        with_address("sendto", address, length, |address, length| real!(sendto)(fd, data, size, flags, address, length) as c_int) as ssize_t
    }
}

const PATH_OFFSET: usize = size_of::<sa_family_t>();

/// Returns the path of an AF_UNIX address bound to a file, or None for any
/// other address (abstract sockets start with a NUL byte).
///
/// # Safety
///
/// `address` is NULL or readable for `length` bytes.
unsafe fn socket_path<'a>(address: *const sockaddr, length: socklen_t) -> Option<&'a [u8]> {
    let length = length as usize;
    if address.is_null() || length <= PATH_OFFSET || (*address).sa_family != libc::AF_UNIX as sa_family_t {
        return None;
    }
    let bytes = std::slice::from_raw_parts(address as *const u8, length.min(size_of::<sockaddr_un>()));
    let path = &bytes[PATH_OFFSET..];
    let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
    if end == 0 || path[0] != b'/' {
        return None;
    }
    Some(&path[..end])
}

/// Calls `real` with the address as a process inside the jail must pass it:
/// an AF_UNIX path under the jail is rewritten in a copy of the address.
///
/// # Safety
///
/// `address` is NULL or readable for `length` bytes.
unsafe fn with_address(
    call: &str,
    address: *const sockaddr,
    length: socklen_t,
    real: impl FnOnce(*const sockaddr, socklen_t) -> c_int,
) -> c_int {
    let _busy = match jailed_call() {
        Some(busy) => busy,
        None => return real(address, length),
    };
    let path = match socket_path(address, length) {
        Some(path) => path,
        None => return real(address, length),
    };

    // The path inside the address may lack a NUL byte, so it is first
    // copied into a buffer that has one.
    let mut original = PathBuffer::new();
    let mut inside = PathBuffer::new();
    let routed = original.store_bytes(path).and_then(|original| {
        let unchanged = original.as_ptr();
        route(call, unchanged, &mut inside).map(|routed| (routed, routed == unchanged))
    });
    let routed = match routed {
        Ok((_, true)) => return real(address, length),
        Ok((routed, false)) => CStr::from_ptr(routed).to_bytes(),
        Err(errno) => {
            errno.set();
            return -1;
        }
    };

    let mut copy = MaybeUninit::<sockaddr_un>::zeroed();
    let copy_ptr = copy.as_mut_ptr();
    (*copy_ptr).sun_family = libc::AF_UNIX as sa_family_t;
    // A shorter path always fits where the longer original did.
    std::ptr::copy_nonoverlapping(routed.as_ptr() as *const libc::c_char, (*copy_ptr).sun_path.as_mut_ptr(), routed.len());
    let copy_length = (PATH_OFFSET + routed.len() + 1) as socklen_t;
    real(copy_ptr as *const sockaddr, copy_length)
}

/// Warns when a server process binds an AF_UNIX socket outside the jail
/// before entering it: jailed processes cannot reach it by its path.
///
/// # Safety
///
/// `address` is NULL or readable for `length` bytes.
unsafe fn warn_if_unreachable(address: *const sockaddr, length: socklen_t) {
    if state::is_jailed() {
        return;
    }
    let process = match state::active() {
        Some(process) if process.invocation == crate::role::Invocation::Server => process,
        _ => return,
    };
    let path = match socket_path(address, length) {
        Some(path) => path,
        None => return,
    };
    if let Translation::Unchanged(paths::Location::Outside) = paths::translate(path, &process.settings.spellings()) {
        let _errno = crate::errno::ErrnoGuard::save();
        log::warn!(
            "AF_UNIX socket {} is bound outside the jail {}, so jailed processes cannot connect to it. \
             Move it under the jail (for mod_cgid: ScriptSock {}/run/cgisock)",
            path.escape_ascii(),
            process.settings.jail.as_bytes().escape_ascii(),
            process.settings.jail.as_bytes().escape_ascii()
        );
    }
}

//! The interposed libc functions: thin `extern "C"` glue that converts
//! arguments, gets the decision from the pure logic in `paths`, and calls
//! the real function through redhook's `real!`.
//!
//! The full list, with the reason for each function, is `table::HOOKS`.

use std::cell::Cell;
use std::ffi::CStr;
use std::os::raw::c_char;

use crate::audit;
use crate::errno::Errno;
use crate::lifecycle;
use crate::paths::{self, PathBuffer, Translation};
use crate::state;

mod descriptors;
mod exec;
mod files;
mod identity;
mod open;
mod resolve;
mod shm;
mod socket;
mod stat;
pub mod table;
mod temp;

/// Defines a group of hooks with redhook and records their names, so that
/// the library can resolve every real function before httpd forks.
macro_rules! hooks {
    ($( unsafe fn $name:ident ( $($arg:ident : $type:ty),* ) -> $ret:ty => $hook:ident $body:block )*) => {
        $( redhook::hook! { unsafe fn $name ( $($arg : $type),* ) -> $ret => $hook $body } )*

        /// Names of the functions this module interposes.
        #[allow(dead_code)]
        pub(super) const NAMES: &[&str] = &[$( stringify!($name) ),*];

        /// Resolves the real function behind every hook of this module.
        pub(super) fn resolve() {
            $(
                if crate::hooks::next_symbol_exists(concat!(stringify!($name), "\0")) {
                    let _ = real!($name);
                }
            )*
        }
    };
}
pub(crate) use hooks;

/// Resolves every real function once, at load time. redhook would otherwise
/// call dlsym on the first use, which may be in a forked child or in a
/// signal handler, where dlsym is not safe.
pub fn resolve_all() {
    descriptors::resolve();
    exec::resolve();
    files::resolve();
    identity::resolve();
    open::resolve();
    resolve::resolve();
    shm::resolve();
    socket::resolve();
    stat::resolve();
    temp::resolve();
}

/// Returns whether libc (or a later library) defines `name`, which ends in
/// NUL. redhook's lookup aborts on a missing symbol, so symbols that a libc
/// may lack are checked first.
fn next_symbol_exists(name: &str) -> bool {
    // SAFETY: name is NUL-terminated; RTLD_NEXT searches the libraries after
    // this one.
    !unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr().cast()) }.is_null()
}

thread_local! {
    /// Set while the library works inside a hook on this thread.
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

/// Marks the thread as busy inside the library, so that nothing the library
/// calls can re-enter a hook and be translated twice.
pub(crate) struct Reentry;

impl Reentry {
    /// Returns None when the thread is already inside the library.
    pub(crate) fn enter() -> Option<Reentry> {
        BUSY.with(|busy| {
            if busy.get() {
                None
            } else {
                busy.set(true);
                Some(Reentry)
            }
        })
    }
}

/// Returns the busy mark when this call must be checked: the process is in
/// the jail and the library is not already busy on this thread. With None,
/// the hook calls the real function unchanged.
pub(crate) fn jailed_call() -> Option<Reentry> {
    if lifecycle::is_jailed() {
        Reentry::enter()
    } else {
        None
    }
}

impl Drop for Reentry {
    fn drop(&mut self) {
        BUSY.with(|busy| busy.set(false));
    }
}

/// Calls `real` with `path` as a process inside the jail must pass it.
///
/// The real function gets the caller's pointer unchanged when the process
/// is not in the jail or the library is already busy on this thread. It
/// also gets it for a NULL pointer, which the kernel reports as EFAULT, and
/// for a relative path or one outside the jail. A host path under the jail
/// is rewritten. A path that
/// cannot be rewritten fails with `failure` and errno set, without the
/// real call.
///
/// # Safety
///
/// `path` is NULL or a valid C string.
pub(crate) unsafe fn with_path<R: Copy + PartialEq>(
    call: &str,
    path: *const c_char,
    failure: R,
    real: impl FnOnce(*const c_char) -> R,
) -> R {
    let _busy = match jailed_call() {
        Some(busy) => busy,
        None => return real(path),
    };

    let mut buffer = PathBuffer::new();
    match route(call, path, &mut buffer) {
        Ok(routed) => {
            let result = real(routed);
            if result == failure {
                audit_failure(call, routed);
            }
            result
        }
        Err(errno) => {
            errno.set();
            failure
        }
    }
}

/// Passes a failed call's path, as the kernel looked it up, to audit mode.
/// For the exec family the missing file may be a script's interpreter.
///
/// # Safety
///
/// `path` is NULL or a valid C string.
unsafe fn audit_failure(call: &str, path: *const c_char) {
    if path.is_null() {
        return;
    }
    let path = CStr::from_ptr(path);
    if call.starts_with("exec") {
        audit::note_exec_failure(call, path);
    } else {
        audit::note_failure(call, path.to_bytes());
    }
}

/// Calls `real` with two paths, each passed as `with_path` would pass it.
///
/// # Safety
///
/// Both paths are NULL or valid C strings.
pub(crate) unsafe fn with_two_paths<R: Copy + PartialEq>(
    call: &str,
    first: *const c_char,
    second: *const c_char,
    failure: R,
    real: impl FnOnce(*const c_char, *const c_char) -> R,
) -> R {
    let _busy = match jailed_call() {
        Some(busy) => busy,
        None => return real(first, second),
    };

    let mut first_buffer = PathBuffer::new();
    let mut second_buffer = PathBuffer::new();
    let routed = (
        route(call, first, &mut first_buffer),
        route(call, second, &mut second_buffer),
    );
    match routed {
        (Ok(first), Ok(second)) => {
            let result = real(first, second);
            if result == failure {
                audit_failure(call, first);
            }
            result
        }
        (Err(errno), _) | (_, Err(errno)) => {
            errno.set();
            failure
        }
    }
}

/// Returns the pointer to pass on for `path`: the caller's own, or the
/// jail-relative spelling stored in `buffer`.
///
/// # Safety
///
/// `path` is NULL or a valid C string.
pub(crate) unsafe fn route(call: &str, path: *const c_char, buffer: &mut PathBuffer) -> Result<*const c_char, Errno> {
    let process = match state::active() {
        Some(process) if !path.is_null() => process,
        _ => return Ok(path),
    };

    let bytes = CStr::from_ptr(path).to_bytes();
    let stored = match paths::translate(bytes, &process.settings.spellings()) {
        Translation::Unchanged(location) => {
            log::trace!("{}({}): unchanged, {:?}", call, bytes.escape_ascii(), location);
            return Ok(path);
        }
        Translation::Inside { rest } => buffer.store_inside(bytes, rest),
        Translation::Failed(errno) => Err(errno),
    };

    match stored {
        Ok(inside) => {
            log::trace!("{}({}): as {}", call, bytes.escape_ascii(), inside.to_bytes().escape_ascii());
            Ok(inside.as_ptr())
        }
        Err(errno) => {
            log::debug!("{}({}): failed with {} without calling libc", call, bytes.escape_ascii(), errno);
            Err(errno)
        }
    }
}

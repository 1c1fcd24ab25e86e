//! Opening files and directories by path.
//!
//! `open`, `openat` and their `64` forms are variadic in C: the mode is
//! read only when the flags hold O_CREAT or O_TMPFILE. The hooks declare it
//! as a fixed third (or fourth) argument. That relies on the x86_64 System V
//! and AArch64 Linux calling conventions, where a variadic integer argument
//! travels in the same register as a fixed one, so the value is the
//! caller's mode when it passed one, and unused otherwise.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

use libc::{mode_t, off64_t, off_t, DIR, FILE};
use redhook::real;

use super::{hooks, with_path};
use crate::lockfiles;
use crate::pidfile;
use crate::state;

hooks! {
    unsafe fn open(path: *const c_char, flags: c_int, mode: mode_t) -> c_int => hook_open {
        let fd = with_path("open", path, -1, |path| real!(open)(path, flags, mode));
        opened(path, flags, fd)
    }
    unsafe fn open64(path: *const c_char, flags: c_int, mode: mode_t) -> c_int => hook_open64 {
        let fd = with_path("open64", path, -1, |path| real!(open64)(path, flags, mode));
        opened(path, flags, fd)
    }
    unsafe fn openat(dirfd: c_int, path: *const c_char, flags: c_int, mode: mode_t) -> c_int => hook_openat {
        with_path("openat", path, -1, |path| real!(openat)(dirfd, path, flags, mode))
    }
    unsafe fn openat64(dirfd: c_int, path: *const c_char, flags: c_int, mode: mode_t) -> c_int => hook_openat64 {
        with_path("openat64", path, -1, |path| real!(openat64)(dirfd, path, flags, mode))
    }
    unsafe fn __open_2(path: *const c_char, flags: c_int) -> c_int => hook_open_2 {
        with_path("__open_2", path, -1, |path| real!(__open_2)(path, flags))
    }
    unsafe fn __open64_2(path: *const c_char, flags: c_int) -> c_int => hook_open64_2 {
        with_path("__open64_2", path, -1, |path| real!(__open64_2)(path, flags))
    }
    unsafe fn __openat_2(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int => hook_openat_2 {
        with_path("__openat_2", path, -1, |path| real!(__openat_2)(dirfd, path, flags))
    }
    unsafe fn __openat64_2(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int => hook_openat64_2 {
        with_path("__openat64_2", path, -1, |path| real!(__openat64_2)(dirfd, path, flags))
    }
    unsafe fn creat(path: *const c_char, mode: mode_t) -> c_int => hook_creat {
        with_path("creat", path, -1, |path| real!(creat)(path, mode))
    }
    unsafe fn creat64(path: *const c_char, mode: mode_t) -> c_int => hook_creat64 {
        with_path("creat64", path, -1, |path| real!(creat64)(path, mode))
    }
    unsafe fn fopen(path: *const c_char, mode: *const c_char) -> *mut FILE => hook_fopen {
        with_path("fopen", path, std::ptr::null_mut(), |path| real!(fopen)(path, mode))
    }
    unsafe fn fopen64(path: *const c_char, mode: *const c_char) -> *mut FILE => hook_fopen64 {
        with_path("fopen64", path, std::ptr::null_mut(), |path| real!(fopen64)(path, mode))
    }
    unsafe fn freopen(path: *const c_char, mode: *const c_char, stream: *mut FILE) -> *mut FILE => hook_freopen {
        with_path("freopen", path, std::ptr::null_mut(), |path| real!(freopen)(path, mode, stream))
    }
    unsafe fn freopen64(path: *const c_char, mode: *const c_char, stream: *mut FILE) -> *mut FILE => hook_freopen64 {
        with_path("freopen64", path, std::ptr::null_mut(), |path| real!(freopen64)(path, mode, stream))
    }
    unsafe fn opendir(path: *const c_char) -> *mut DIR => hook_opendir {
        with_path("opendir", path, std::ptr::null_mut(), |path| real!(opendir)(path))
    }
    unsafe fn truncate(path: *const c_char, length: off_t) -> c_int => hook_truncate {
        with_path("truncate", path, -1, |path| real!(truncate)(path, length))
    }
    unsafe fn truncate64(path: *const c_char, length: off64_t) -> c_int => hook_truncate64 {
        with_path("truncate64", path, -1, |path| real!(truncate64)(path, length))
    }
}

/// Passes an open(2) result on. A file opened outside the jail may be a
/// pidfile written the way httpd releases before 2.4.47 do, or a lock file
/// that jailed processes open again. A failed open in the jail may be such
/// a lock file, which `lockfiles` explains.
///
/// # Safety
///
/// `path` is NULL or a valid C string.
unsafe fn opened(path: *const c_char, flags: c_int, fd: c_int) -> c_int {
    if path.is_null() {
        return fd;
    }
    let path = CStr::from_ptr(path);
    if fd >= 0 && !state::is_jailed() {
        let _errno = crate::errno::ErrnoGuard::save();
        pidfile::note_open(path, flags, fd);
        lockfiles::note_created(path, flags);
    } else if fd < 0 && state::is_jailed() {
        lockfiles::explain_failure(path);
    }
    fd
}

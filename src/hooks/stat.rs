//! File status, access checks and symlink contents by path.
//!
//! The `__xstat` family is glibc's stat ABI before 2.33; programs built
//! against older glibc still call it.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_long, c_uint};

use libc::{size_t, ssize_t};
use redhook::real;

use super::{hooks, with_path};
use crate::lifecycle;

hooks! {
    unsafe fn stat(path: *const c_char, buf: *mut libc::stat) -> c_int => hook_stat {
        with_path("stat", path, -1, |path| real!(stat)(path, buf))
    }
    unsafe fn stat64(path: *const c_char, buf: *mut libc::stat64) -> c_int => hook_stat64 {
        with_path("stat64", path, -1, |path| real!(stat64)(path, buf))
    }
    unsafe fn lstat(path: *const c_char, buf: *mut libc::stat) -> c_int => hook_lstat {
        with_path("lstat", path, -1, |path| real!(lstat)(path, buf))
    }
    unsafe fn lstat64(path: *const c_char, buf: *mut libc::stat64) -> c_int => hook_lstat64 {
        with_path("lstat64", path, -1, |path| real!(lstat64)(path, buf))
    }
    unsafe fn fstatat(dirfd: c_int, path: *const c_char, buf: *mut libc::stat, flags: c_int) -> c_int => hook_fstatat {
        with_path("fstatat", path, -1, |path| real!(fstatat)(dirfd, path, buf, flags))
    }
    unsafe fn fstatat64(dirfd: c_int, path: *const c_char, buf: *mut libc::stat64, flags: c_int) -> c_int => hook_fstatat64 {
        with_path("fstatat64", path, -1, |path| real!(fstatat64)(dirfd, path, buf, flags))
    }
    unsafe fn __xstat(version: c_int, path: *const c_char, buf: *mut libc::stat) -> c_int => hook_xstat {
        with_path("__xstat", path, -1, |path| real!(__xstat)(version, path, buf))
    }
    unsafe fn __xstat64(version: c_int, path: *const c_char, buf: *mut libc::stat64) -> c_int => hook_xstat64 {
        with_path("__xstat64", path, -1, |path| real!(__xstat64)(version, path, buf))
    }
    unsafe fn __lxstat(version: c_int, path: *const c_char, buf: *mut libc::stat) -> c_int => hook_lxstat {
        with_path("__lxstat", path, -1, |path| real!(__lxstat)(version, path, buf))
    }
    unsafe fn __lxstat64(version: c_int, path: *const c_char, buf: *mut libc::stat64) -> c_int => hook_lxstat64 {
        with_path("__lxstat64", path, -1, |path| real!(__lxstat64)(version, path, buf))
    }
    unsafe fn __fxstatat(version: c_int, dirfd: c_int, path: *const c_char, buf: *mut libc::stat, flags: c_int) -> c_int => hook_fxstatat {
        with_path("__fxstatat", path, -1, |path| real!(__fxstatat)(version, dirfd, path, buf, flags))
    }
    unsafe fn __fxstatat64(version: c_int, dirfd: c_int, path: *const c_char, buf: *mut libc::stat64, flags: c_int) -> c_int => hook_fxstatat64 {
        with_path("__fxstatat64", path, -1, |path| real!(__fxstatat64)(version, dirfd, path, buf, flags))
    }
    unsafe fn statx(dirfd: c_int, path: *const c_char, flags: c_int, mask: c_uint, buf: *mut libc::statx) -> c_int => hook_statx {
        with_path("statx", path, -1, |path| real!(statx)(dirfd, path, flags, mask, buf))
    }
    unsafe fn statfs(path: *const c_char, buf: *mut libc::statfs) -> c_int => hook_statfs {
        with_path("statfs", path, -1, |path| real!(statfs)(path, buf))
    }
    unsafe fn statfs64(path: *const c_char, buf: *mut libc::statfs64) -> c_int => hook_statfs64 {
        with_path("statfs64", path, -1, |path| real!(statfs64)(path, buf))
    }
    unsafe fn statvfs(path: *const c_char, buf: *mut libc::statvfs) -> c_int => hook_statvfs {
        with_path("statvfs", path, -1, |path| real!(statvfs)(path, buf))
    }
    unsafe fn statvfs64(path: *const c_char, buf: *mut libc::statvfs64) -> c_int => hook_statvfs64 {
        with_path("statvfs64", path, -1, |path| real!(statvfs64)(path, buf))
    }
    unsafe fn access(path: *const c_char, mode: c_int) -> c_int => hook_access {
        if !path.is_null() {
            if let Some(result) = lifecycle::access_on_host(CStr::from_ptr(path), mode) {
                return result;
            }
        }
        with_path("access", path, -1, |path| real!(access)(path, mode))
    }
    unsafe fn faccessat(dirfd: c_int, path: *const c_char, mode: c_int, flags: c_int) -> c_int => hook_faccessat {
        with_path("faccessat", path, -1, |path| real!(faccessat)(dirfd, path, mode, flags))
    }
    unsafe fn euidaccess(path: *const c_char, mode: c_int) -> c_int => hook_euidaccess {
        with_path("euidaccess", path, -1, |path| real!(euidaccess)(path, mode))
    }
    unsafe fn eaccess(path: *const c_char, mode: c_int) -> c_int => hook_eaccess {
        with_path("eaccess", path, -1, |path| real!(eaccess)(path, mode))
    }
    unsafe fn readlink(path: *const c_char, buf: *mut c_char, size: size_t) -> ssize_t => hook_readlink {
        with_path("readlink", path, -1, |path| real!(readlink)(path, buf, size))
    }
    unsafe fn readlinkat(dirfd: c_int, path: *const c_char, buf: *mut c_char, size: size_t) -> ssize_t => hook_readlinkat {
        with_path("readlinkat", path, -1, |path| real!(readlinkat)(dirfd, path, buf, size))
    }
    unsafe fn pathconf(path: *const c_char, name: c_int) -> c_long => hook_pathconf {
        with_path("pathconf", path, -1, |path| real!(pathconf)(path, name))
    }
}

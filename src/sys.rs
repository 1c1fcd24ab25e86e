//! System calls that the library makes for itself.
//!
//! They go through syscall(2) rather than the libc functions of the same
//! name, because the library exports those names itself and a call through
//! them would re-enter its own hooks.

use std::ffi::CStr;
use std::os::raw::{c_int, c_long};

use crate::errno::Errno;

fn check(result: c_long) -> Result<c_long, Errno> {
    if result < 0 {
        Err(Errno::last())
    } else {
        Ok(result)
    }
}

/// openat(2).
pub fn openat(dirfd: c_int, path: &CStr, flags: c_int, mode: libc::mode_t) -> Result<c_int, Errno> {
    // SAFETY: the path is a valid NUL-terminated string for the whole call.
    let fd = check(unsafe { libc::syscall(libc::SYS_openat, dirfd, path.as_ptr(), flags, mode) })?;
    Ok(fd as c_int)
}

/// open(2), as openat(2) from the working directory.
pub fn open(path: &CStr, flags: c_int) -> Result<c_int, Errno> {
    openat(libc::AT_FDCWD, path, flags, 0)
}

/// read(2) until `buffer` is full or the file ends; returns the byte count.
pub fn read_to_fill(fd: c_int, buffer: &mut [u8]) -> Result<usize, Errno> {
    let mut filled = 0;
    while filled < buffer.len() {
        let rest = &mut buffer[filled..];
        // SAFETY: the pointer and length describe the live `rest` slice.
        let result = unsafe { libc::syscall(libc::SYS_read, fd, rest.as_mut_ptr(), rest.len()) };
        match check(result) {
            Ok(0) => break,
            Ok(count) => filled += count as usize,
            Err(errno) if errno.0 == libc::EINTR => continue,
            Err(errno) => return Err(errno),
        }
    }
    Ok(filled)
}

/// close(2). Errors other than EBADF leave the descriptor closed on Linux,
/// so they are not reported.
pub fn close(fd: c_int) {
    // SAFETY: closing a descriptor has no memory-safety requirements.
    unsafe { libc::syscall(libc::SYS_close, fd) };
}

/// stat(2), as fstatat(2) from the working directory.
pub fn stat(path: &CStr) -> Result<libc::stat, Errno> {
    fstatat(path, 0)
}

/// lstat(2): the entry itself when `path` names a symlink.
pub fn lstat(path: &CStr) -> Result<libc::stat, Errno> {
    fstatat(path, libc::AT_SYMLINK_NOFOLLOW)
}

fn fstatat(path: &CStr, flags: c_int) -> Result<libc::stat, Errno> {
    // SAFETY: stat is plain data, so all-zero is a valid value.
    let mut status: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: the path is NUL-terminated and `status` is a writable stat.
    check(unsafe {
        libc::syscall(libc::SYS_newfstatat, libc::AT_FDCWD, path.as_ptr(), &mut status as *mut libc::stat, flags)
    })?;
    Ok(status)
}

/// The kernel's `struct statfs` on 64-bit Linux. glibc's version names
/// `f_flags` as padding, so the libc crate has no field for it.
#[repr(C)]
struct KernelStatfs {
    sizes: [libc::c_long; 7],
    fsid: [c_int; 2],
    name_length: libc::c_long,
    fragment_size: libc::c_long,
    flags: libc::c_long,
    spare: [libc::c_long; 4],
}

// The kernel's struct is 120 bytes on every 64-bit architecture.
const _: () = assert!(std::mem::size_of::<KernelStatfs>() == 120);

/// statfs(2)'s mount flags (`ST_NOEXEC`, `ST_NOSUID`, ...) of the
/// filesystem that contains `path`.
pub fn mount_flags(path: &CStr) -> Result<u64, Errno> {
    // SAFETY: KernelStatfs is plain data, so all-zero is a valid value.
    let mut status: KernelStatfs = unsafe { std::mem::zeroed() };
    // SAFETY: the path is NUL-terminated and `status` has the layout of the
    // kernel's struct statfs on this 64-bit target.
    check(unsafe { libc::syscall(libc::SYS_statfs, path.as_ptr(), &mut status as *mut KernelStatfs) })?;
    Ok(status.flags as u64)
}

/// fstat(2).
pub fn fstat(fd: c_int) -> Result<libc::stat, Errno> {
    // SAFETY: stat is plain data, so all-zero is a valid value.
    let mut status: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `status` is a writable stat.
    check(unsafe { libc::syscall(libc::SYS_fstat, fd, &mut status as *mut libc::stat) })?;
    Ok(status)
}

/// chdir(2).
pub fn chdir(path: &CStr) -> Result<(), Errno> {
    // SAFETY: the path is a valid NUL-terminated string.
    check(unsafe { libc::syscall(libc::SYS_chdir, path.as_ptr()) }).map(drop)
}

/// faccessat(2) without flags: checks `mode` for the real user.
pub fn faccessat(dirfd: c_int, path: &CStr, mode: c_int) -> Result<(), Errno> {
    // SAFETY: the path is a valid NUL-terminated string.
    check(unsafe { libc::syscall(libc::SYS_faccessat, dirfd, path.as_ptr(), mode) }).map(drop)
}

/// fchdir(2); an O_PATH descriptor of a directory is enough.
pub fn fchdir(fd: c_int) -> Result<(), Errno> {
    // SAFETY: changing the working directory has no memory-safety requirements.
    check(unsafe { libc::syscall(libc::SYS_fchdir, fd) }).map(drop)
}

/// chroot(2).
pub fn chroot(path: &CStr) -> Result<(), Errno> {
    // SAFETY: the path is a valid NUL-terminated string.
    check(unsafe { libc::syscall(libc::SYS_chroot, path.as_ptr()) }).map(drop)
}

/// unlinkat(2) with no flags, from the working directory when `dirfd` is
/// AT_FDCWD.
pub fn unlinkat(dirfd: c_int, path: &CStr) -> Result<(), Errno> {
    // SAFETY: the path is a valid NUL-terminated string.
    check(unsafe { libc::syscall(libc::SYS_unlinkat, dirfd, path.as_ptr(), 0) }).map(drop)
}

/// Returns whether the effective capability set contains CAP_SYS_CHROOT.
pub fn can_chroot() -> bool {
    const CAP_SYS_CHROOT: u32 = 18;
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

    #[repr(C)]
    struct Header {
        version: u32,
        pid: c_int,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }

    let mut header = Header { version: LINUX_CAPABILITY_VERSION_3, pid: 0 };
    let mut data = [Data { effective: 0, permitted: 0, inheritable: 0 }; 2];
    // SAFETY: version 3 of capget takes a header and an array of two data
    // structs, which both live on this stack frame.
    let result = unsafe { libc::syscall(libc::SYS_capget, &mut header as *mut Header, data.as_mut_ptr()) };
    result == 0 && data[0].effective & (1 << CAP_SYS_CHROOT) != 0
}

/// Builds a `&'static CStr` from a string literal.
macro_rules! cstr {
    ($text:literal) => {
        // SAFETY: concat! appends the only NUL byte, and a literal has no other.
        unsafe { std::ffi::CStr::from_bytes_with_nul_unchecked(concat!($text, "\0").as_bytes()) }
    };
}
pub(crate) use cstr;

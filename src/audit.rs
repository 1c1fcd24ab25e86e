//! Audit mode (`HTTPD_CHROOT_AUDIT=1`): jailed server processes log each
//! path that an interposed call did not find in the jail, so that an admin
//! runs the site once and gets the list of what to copy in.
//!
//! A line is logged once per path for the whole server, and at most
//! `LINES_PER_SECOND` lines a second. The paths already logged and the rate
//! counter live in a shared anonymous mapping that the daemon creates
//! before it forks anything, so every child uses the same table. Recording
//! a path takes no lock and allocates nothing.

use std::ffi::CStr;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};

use crate::errno::{Errno, ErrnoGuard};
use crate::state;
use crate::sys;

/// Slots of the table of logged paths. When it is full, lines still
/// appear, limited by the rate only.
const SLOTS: usize = 4096;

/// Slots searched for a path before the table counts as full.
const PROBES: usize = 32;

/// The maximum number of audit lines the whole server logs in one second.
pub const LINES_PER_SECOND: u32 = 50;

/// The shared state of all server processes.
#[repr(C)]
struct Shared {
    /// The second of the current rate window, from CLOCK_MONOTONIC.
    window: AtomicU64,
    /// Lines logged in the current window.
    lines: AtomicU32,
    /// Hashes of the paths logged so far; 0 marks a free slot.
    seen: [AtomicU64; SLOTS],
}

static SHARED: AtomicPtr<Shared> = AtomicPtr::new(ptr::null_mut());

/// Creates the shared table. Runs once, when the library loads into a
/// server process with audit mode on, before httpd forks.
pub fn start() {
    // SAFETY: an anonymous shared mapping has no preconditions; a zeroed
    // Shared is valid (all atomics at 0).
    let address = unsafe {
        libc::mmap(
            ptr::null_mut(),
            std::mem::size_of::<Shared>(),
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if address == libc::MAP_FAILED {
        log::error!("audit mode is off: mmap of the shared path table failed: {}", Errno::last());
        return;
    }
    SHARED.store(address.cast(), Ordering::Release);
}

/// Returns whether `errno` means that a path was not found.
pub fn means_missing(errno: Errno) -> bool {
    matches!(errno.0, libc::ENOENT | libc::ENOTDIR)
}

/// Returns whether a missing `path` is routine for httpd rather than a gap
/// in the jail: the per-directory `.htaccess` files, which httpd looks for
/// in every directory of a request's path when overrides are allowed.
pub fn is_routine(path: &[u8]) -> bool {
    path.rsplit(|&byte| byte == b'/').next() == Some(b".htaccess")
}

/// Returns the 64-bit FNV-1a hash of `bytes`, never 0.
pub fn path_hash(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash.max(1)
}

/// Records `hash` in `seen`; returns false when it was there already.
pub fn record_first(seen: &[AtomicU64], hash: u64) -> bool {
    let start = (hash as usize) % seen.len();
    for probe in 0..PROBES.min(seen.len()) {
        let slot = &seen[(start + probe) % seen.len()];
        match slot.compare_exchange(0, hash, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return true,
            Err(existing) if existing == hash => return false,
            Err(_) => continue,
        }
    }
    true
}

/// Counts a line in the window of second `now`; returns whether it may be
/// logged.
pub fn within_rate(window: &AtomicU64, lines: &AtomicU32, now: u64) -> bool {
    let current = window.load(Ordering::Acquire);
    if current != now && window.compare_exchange(current, now, Ordering::AcqRel, Ordering::Acquire).is_ok() {
        lines.store(0, Ordering::Release);
    }
    lines.fetch_add(1, Ordering::AcqRel) < LINES_PER_SECOND
}

/// Logs that the call `call` did not find `path` (as looked up inside the
/// jail) when audit mode is on and the failure means a missing path. Keeps
/// errno as the failed call set it.
pub fn note_failure(call: &str, path: &[u8]) {
    let _errno = ErrnoGuard::save();
    let errno = Errno::last();
    let shared = match shared_table() {
        Some(shared) if means_missing(errno) && !is_routine(path) => shared,
        _ => return,
    };
    if !record_first(&shared.seen, path_hash(path)) {
        return;
    }
    if !within_rate(&shared.window, &shared.lines, monotonic_seconds()) {
        return;
    }
    log_line(call, path, errno);
}

/// Logs the interpreter of a script that execve(2) reported missing: the
/// kernel gives ENOENT for the script when its `#!` interpreter is absent.
pub fn note_exec_failure(call: &str, script: &CStr) {
    let _errno = ErrnoGuard::save();
    if !means_missing(Errno::last()) || shared_table().is_none() {
        return;
    }
    let mut head = [0u8; 256];
    let length = match sys::open(script, libc::O_RDONLY | libc::O_CLOEXEC) {
        Ok(fd) => {
            let read = sys::read_to_fill(fd, &mut head);
            sys::close(fd);
            read.unwrap_or(0)
        }
        Err(_) => {
            note_failure(call, script.to_bytes());
            return;
        }
    };
    match interpreter(&head[..length]) {
        Some(program) => note_failure(call, program),
        None => note_failure(call, script.to_bytes()),
    }
}

/// Returns the interpreter path of a script's `#!` line, if it has one.
pub fn interpreter(head: &[u8]) -> Option<&[u8]> {
    let line = head.strip_prefix(b"#!")?;
    let line = &line[..line.iter().position(|&byte| byte == b'\n')?];
    let start = line.iter().position(|&byte| byte != b' ' && byte != b'\t')?;
    let rest = &line[start..];
    let end = rest.iter().position(|&byte| byte == b' ' || byte == b'\t' || byte == b'\r').unwrap_or(rest.len());
    Some(&rest[..end])
}

fn log_line(call: &str, path: &[u8], errno: Errno) {
    let jail = state::active().map_or(&b""[..], |process| process.settings.jail.as_bytes());
    log::warn!("audit: {}({}) found nothing in jail {}: {}", call, path.escape_ascii(), jail.escape_ascii(), errno);
}

fn shared_table() -> Option<&'static Shared> {
    // SAFETY: a non-NULL pointer is the mapping made by `start`, which is
    // never unmapped.
    unsafe { SHARED.load(Ordering::Acquire).as_ref() }
}

fn monotonic_seconds() -> u64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut now) };
    now.tv_sec as u64
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;

//! Translation of host paths into paths seen from inside the jail.
//!
//! After the chroot, the admin's configuration still names files by their host
//! paths (`/srv/jail/www/index.html`). A path is rewritten when, read
//! lexically (`.` and empty components skipped, `..` removing the previous
//! component, symlinks not followed), it names the jail directory or a path
//! below it. The rewritten path is the rest of the original spelling after
//! the jail prefix, so trailing slashes and `.` components keep their
//! meaning.
//!
//! The kernel can disagree only before the jail prefix: `/srv/missing/../jail/x`
//! fails outside the jail (ENOENT) but names `/x` inside it. After the prefix
//! both read the same spelling, and nothing outside the jail becomes reachable.
//!
//! A path that names an ancestor of the jail (`/srv` for the jail `/srv/jail`)
//! is rewritten to the jail's root. httpd checks every directory from `/` down
//! to a file when symlinks are not followed or the file is missing (MultiViews,
//! PATH_INFO), and that walk must find directories at each step.
//!
//! Everything here is allocation-free and safe to call after fork and from
//! signal handlers.

use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::ptr;

use crate::errno::Errno;

/// Size of a path buffer including its NUL byte (PATH_MAX on Linux).
pub const PATH_MAX: usize = libc::PATH_MAX as usize;

/// A jail directory in normal form: absolute, with single slashes, no `.`
/// components and no trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JailPath {
    text: Vec<u8>,
    /// Byte ranges of the components inside `text`.
    components: Vec<(usize, usize)>,
}

/// Reasons a value cannot be used as a jail directory path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JailPathError {
    NotAbsolute,
    DotDot,
    TooLong,
    RootDirectory,
}

impl JailPath {
    /// Parses `raw` into normal form, collapsing doubled slashes and dropping
    /// `.` components and trailing slashes.
    pub fn parse(raw: &[u8]) -> Result<JailPath, JailPathError> {
        if raw.first() != Some(&b'/') {
            return Err(JailPathError::NotAbsolute);
        }
        if raw.len() >= PATH_MAX {
            return Err(JailPathError::TooLong);
        }

        let mut text = Vec::with_capacity(raw.len());
        let mut components = Vec::new();
        for component in raw.split(|&b| b == b'/') {
            match component {
                b"" | b"." => continue,
                b".." => return Err(JailPathError::DotDot),
                _ => {
                    text.push(b'/');
                    let start = text.len();
                    text.extend_from_slice(component);
                    components.push((start, text.len()));
                }
            }
        }

        if components.is_empty() {
            return Err(JailPathError::RootDirectory);
        }
        Ok(JailPath { text, components })
    }

    /// Returns the path in normal form.
    pub fn as_bytes(&self) -> &[u8] {
        &self.text
    }

    fn component(&self, index: usize) -> &[u8] {
        let (start, end) = self.components[index];
        &self.text[start..end]
    }

    fn depth(&self) -> usize {
        self.components.len()
    }
}

/// The position of a path relative to the jail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// Not an absolute path: it is resolved from the working directory,
    /// which is inside the jail already.
    Relative,
    /// An absolute path that resolves outside the jail.
    Outside,
    /// An absolute path that resolves to a proper ancestor of the jail
    /// directory other than `/`: it stands for the jail's root.
    Ancestor,
    /// The path resolves to the jail or below it. The jail-relative
    /// spelling is the original path from byte `rest` on (`/` if empty).
    Inside { rest: usize },
}

/// Finds whether `path` (without its NUL byte) lies under `jail`.
///
/// The decision is lexical: `.` and empty components are skipped, `..`
/// removes the previous component, and the jail prefix counts only where the
/// remainder never climbs above the jail directory again. Symlinks are left
/// to the kernel, which resolves them inside the jail.
pub fn locate(path: &[u8], jail: &JailPath) -> Location {
    if path.first() != Some(&b'/') {
        return Location::Relative;
    }
    locate_plain(path, jail).unwrap_or_else(|| locate_walk(path, jail))
}

/// Locates an absolute `path` component by component (see `locate`).
fn locate_walk(path: &[u8], jail: &JailPath) -> Location {

    // The lexical stack is tracked by its depth and by how many of its
    // bottom entries equal the jail's leading components.
    let mut depth = 0usize;
    let mut matched = 0usize;
    let mut rest: Option<usize> = None;
    let mut position = 0usize;

    while position < path.len() {
        if path[position] == b'/' {
            position += 1;
            continue;
        }
        let start = position;
        while position < path.len() && path[position] != b'/' {
            position += 1;
        }
        let component = &path[start..position];

        match component {
            b"." => {}
            b".." => {
                depth = depth.saturating_sub(1);
                matched = matched.min(depth);
                if depth < jail.depth() {
                    rest = None;
                }
            }
            _ => {
                if matched == depth && depth < jail.depth() && component == jail.component(depth) {
                    matched += 1;
                }
                depth += 1;
            }
        }

        if rest.is_none() && depth == jail.depth() && matched == depth {
            rest = Some(position);
        }
    }

    match rest {
        Some(rest) => Location::Inside { rest },
        None if depth > 0 && depth < jail.depth() && matched == depth => Location::Ancestor,
        None => Location::Outside,
    }
}

/// Locates an absolute path without empty, `.` or `..` components (a
/// trailing slash is allowed) by comparing prefixes, which gives the same
/// result as the component walk in a fraction of its time. Returns None for
/// every other path.
fn locate_plain(path: &[u8], jail: &JailPath) -> Option<Location> {
    // One pass without early exit over all byte pairs, which the compiler
    // turns into vector instructions.
    let pairs = path.iter().zip(&path[1..]);
    let special = pairs.fold(false, |found, (&first, &second)| {
        found | ((first == b'/') & ((second == b'/') | (second == b'.')))
    });
    if special {
        return None;
    }

    let jail = jail.as_bytes();
    let boundary = |text: &[u8], at: usize| text.len() == at || text[at] == b'/';
    if path.starts_with(jail) && boundary(path, jail.len()) {
        return Some(Location::Inside { rest: jail.len() });
    }
    let trimmed = &path[..path.len() - path.iter().rev().take_while(|&&byte| byte == b'/').count()];
    if !trimmed.is_empty() && jail.starts_with(trimmed) && boundary(jail, trimmed.len()) {
        return Some(Location::Ancestor);
    }
    Some(Location::Outside)
}

/// The outcome of translating one path argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Translation {
    /// Call the real function with the caller's pointer.
    Unchanged(Location),
    /// Call the real function with the jail-relative spelling: the original
    /// path from byte `rest` on, or `/` if that is empty.
    Inside { rest: usize },
    /// Fail the call with this errno without calling the real function.
    Failed(Errno),
}

/// Decides how a process inside the jail passes `path` to the kernel.
///
/// Each spelling in `jails` (the configured one and the resolved one) is
/// tried in turn. A path under the jail that is too long for the kernel
/// fails with ENAMETOOLONG, as it would outside the jail, and is never
/// shortened into a valid one.
pub fn translate(path: &[u8], jails: &[&JailPath]) -> Translation {
    let mut location = Location::Outside;
    for jail in jails {
        location = locate(path, jail);
        match location {
            Location::Inside { .. } | Location::Ancestor if path.len() >= PATH_MAX => {
                return Translation::Failed(Errno(libc::ENAMETOOLONG));
            }
            Location::Inside { rest } => return Translation::Inside { rest },
            // An empty rest stands for the jail's root.
            Location::Ancestor => return Translation::Inside { rest: path.len() },
            Location::Relative => break,
            Location::Outside => continue,
        }
    }
    Translation::Unchanged(location)
}

/// A path buffer on the stack, filled only when a path is rewritten, so that
/// calls with unchanged paths never touch its 4 KiB.
pub struct PathBuffer {
    bytes: MaybeUninit<[u8; PATH_MAX]>,
}

impl Default for PathBuffer {
    fn default() -> PathBuffer {
        PathBuffer::new()
    }
}

impl PathBuffer {
    pub fn new() -> PathBuffer {
        PathBuffer { bytes: MaybeUninit::uninit() }
    }

    /// Stores the jail-relative spelling of `path` (see `Translation::Inside`).
    /// `path` comes from a C string, so it has no NUL byte to check for.
    pub fn store_inside(&mut self, path: &[u8], rest: usize) -> Result<&CStr, Errno> {
        debug_assert!(!path.contains(&0), "a C string has no NUL byte before its end");
        let tail = &path[rest..];
        let tail = if tail.is_empty() { &b"/"[..] } else { tail };
        if tail.len() >= PATH_MAX {
            return Err(Errno(libc::ENAMETOOLONG));
        }

        let base = self.bytes.as_mut_ptr() as *mut u8;
        // SAFETY: tail.len() < PATH_MAX, so the copy and the NUL byte after
        // it stay inside the buffer, which a caller's slice cannot overlap.
        // The copied bytes contain no NUL, so the string ends at the NUL
        // written here.
        unsafe {
            ptr::copy_nonoverlapping(tail.as_ptr(), base, tail.len());
            *base.add(tail.len()) = 0;
            Ok(CStr::from_bytes_with_nul_unchecked(std::slice::from_raw_parts(base, tail.len() + 1)))
        }
    }

    /// Stores `jail` followed by `inner`, a path seen inside the jail, so a
    /// result from inside the jail reads as a host path again.
    pub fn store_host_spelling(&mut self, jail: &JailPath, inner: &[u8]) -> Result<&CStr, Errno> {
        let inner = if inner == b"/" { &b""[..] } else { inner };
        self.store(&[jail.as_bytes(), inner])
    }

    /// Stores `text` with a NUL byte after it.
    pub fn store_bytes(&mut self, text: &[u8]) -> Result<&CStr, Errno> {
        self.store(&[text])
    }

    /// Returns a writable pointer to the stored string, for calls such as
    /// mkstemp(3) that fill in their argument.
    pub fn as_mut_ptr(&mut self) -> *mut libc::c_char {
        self.bytes.as_mut_ptr().cast()
    }

    /// Stores the concatenation of `parts` and a NUL byte. Fails with
    /// ENAMETOOLONG, never truncating, when the result would not fit, and
    /// with EINVAL when a part contains a NUL byte.
    fn store(&mut self, parts: &[&[u8]]) -> Result<&CStr, Errno> {
        let length: usize = parts.iter().map(|part| part.len()).sum();
        if length >= PATH_MAX {
            return Err(Errno(libc::ENAMETOOLONG));
        }
        if parts.iter().any(|part| part.contains(&0)) {
            return Err(Errno(libc::EINVAL));
        }

        let base = self.bytes.as_mut_ptr() as *mut u8;
        let mut offset = 0;
        for part in parts {
            // SAFETY: offset + part.len() <= length < PATH_MAX, so the copy
            // stays inside the buffer, and a caller's slice cannot overlap
            // this stack buffer.
            unsafe { ptr::copy_nonoverlapping(part.as_ptr(), base.add(offset), part.len()) };
            offset += part.len();
        }
        // SAFETY: length < PATH_MAX, and bytes 0..length were written above.
        // They contain no NUL, so the string ends exactly at the NUL written here.
        unsafe {
            *base.add(length) = 0;
            Ok(CStr::from_bytes_with_nul_unchecked(std::slice::from_raw_parts(base, length + 1)))
        }
    }
}

#[cfg(test)]
#[path = "paths_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "paths_props.rs"]
mod props;

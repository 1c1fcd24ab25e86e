//! Supplementary groups of httpd's run user, computed before the chroot.
//!
//! httpd's children call `initgroups(User, Group)` inside the jail. glibc
//! then reads /etc/group there, and if the jail has no such file the
//! children silently lose every supplementary group. The library computes
//! the list from the host's databases before the chroot, once for each
//! configuration httpd reads, and applies exactly that list when the call
//! comes.

use std::ffi::{CStr, CString};
use std::os::raw::c_int;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::httpd::RunIdentity;
use crate::sys;

/// The result that `initgroups(user, group)` would have outside the jail,
/// for httpd's configuration number `generation`.
pub struct PreparedGroups {
    pub user: CString,
    pub group: libc::gid_t,
    pub generation: c_int,
    pub list: Vec<libc::gid_t>,
}

impl PreparedGroups {
    fn matches(&self, user: &CStr, group: libc::gid_t) -> bool {
        self.user.as_c_str() == user && self.group == group
    }
}

/// The current list, or NULL. Only the process's main thread replaces it,
/// before it forks the children that read it.
static PREPARED: AtomicPtr<PreparedGroups> = AtomicPtr::new(ptr::null_mut());

/// The process in which the name-service lookup runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// In a short-lived child that sends the list back through a pipe, so
    /// that the long-lived daemon parent never maps the NSS modules (such
    /// as libnss_systemd) that the lookup loads.
    InHelper,
    /// In the calling process, a child that is about to change identity.
    InProcess,
}

/// Computes the group list of the run user through the host's name service,
/// unless a list for the same user, group and configuration exists. Runs
/// before the chroot, where it may allocate and read files.
pub fn prepare(identity: &RunIdentity<'_>, generation: c_int, lookup: Lookup) {
    let user = match login_name(identity.user_name) {
        Some(user) => user,
        None => {
            log::debug!("cannot prepare groups: no user named {:?} on the host", identity.user_name);
            return;
        }
    };
    if let Some(current) = current() {
        if current.generation == generation && current.matches(&user, identity.group_id) {
            return;
        }
    }

    let list = match lookup {
        Lookup::InHelper => group_list_in_helper(&user, identity.group_id),
        Lookup::InProcess => group_list(&user, identity.group_id),
    };
    match list {
        Some(list) => {
            log::debug!("prepared {} groups for user {:?}", list.len(), user);
            let prepared = Box::new(PreparedGroups { user, group: identity.group_id, generation, list });
            let previous = PREPARED.swap(Box::into_raw(prepared), Ordering::AcqRel);
            if !previous.is_null() {
                // SAFETY: the pointer came from Box::into_raw above, and no
                // reference to it outlives a call of this module's functions
                // on this thread.
                drop(unsafe { Box::from_raw(previous) });
            }
        }
        None => log::debug!("cannot prepare groups: getgrouplist failed for user {:?}", user),
    }
}

fn current() -> Option<&'static PreparedGroups> {
    // SAFETY: a non-NULL pointer comes from Box::into_raw and stays valid
    // until `prepare` replaces it, which the callers never overlap.
    unsafe { PREPARED.load(Ordering::Acquire).as_ref() }
}

/// Returns the prepared list when it matches `initgroups(user, group)`.
pub fn prepared_for(user: &CStr, group: libc::gid_t) -> Option<&'static [libc::gid_t]> {
    let prepared = current()?;
    if prepared.matches(user, group) {
        Some(&prepared.list)
    } else {
        None
    }
}

/// Returns the list prepared for httpd's configuration number `generation`,
/// so that a list left from an earlier configuration, whose run user may
/// differ, is never used for the current one.
pub fn prepared_list(generation: c_int) -> Option<&'static [libc::gid_t]> {
    let prepared = current().filter(|prepared| prepared.generation == generation)?;
    Some(&prepared.list)
}

/// Resolves httpd's `User` value to a login name: `#33` names a uid.
fn login_name(user: &CStr) -> Option<CString> {
    let bytes = user.to_bytes();
    if bytes.first() != Some(&b'#') {
        return Some(user.to_owned());
    }

    let uid: libc::uid_t = std::str::from_utf8(&bytes[1..]).ok()?.parse().ok()?;
    // SAFETY: getpwuid returns NULL or a pointer to a static record that
    // stays valid until the next getpw* call; the name is copied at once.
    unsafe {
        let entry = libc::getpwuid(uid);
        if entry.is_null() {
            return None;
        }
        Some(CStr::from_ptr((*entry).pw_name).to_owned())
    }
}

/// Runs `group_list` in a forked child and reads the result from a pipe:
/// the count, then the ids, as native-endian integers.
fn group_list_in_helper(user: &CStr, group: libc::gid_t) -> Option<Vec<libc::gid_t>> {
    let mut ends = [-1; 2];
    // SAFETY: `ends` has room for the two descriptors pipe2 returns.
    if unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return group_list(user, group);
    }
    let [reading, writing] = ends;

    // SAFETY: the daemon parent runs this on its main thread; the child only
    // looks the groups up, writes them and leaves with _exit.
    let child = unsafe { libc::fork() };
    if child == 0 {
        let list = group_list(user, group).unwrap_or_default();
        let mut message = Vec::with_capacity((list.len() + 1) * 4);
        message.extend_from_slice(&(list.len() as u32).to_ne_bytes());
        for id in &list {
            message.extend_from_slice(&id.to_ne_bytes());
        }
        // SAFETY: the buffer is valid for its length; _exit skips the
        // parent's atexit handlers and stdio buffers.
        unsafe {
            libc::write(writing, message.as_ptr().cast(), message.len());
            libc::_exit(0);
        }
    }
    sys::close(writing);
    let list = if child > 0 { read_list(reading) } else { None };
    sys::close(reading);
    if child > 0 {
        let mut status = 0;
        // SAFETY: reaps the helper forked above.
        unsafe { libc::waitpid(child, &mut status, 0) };
    }
    list.or_else(|| group_list(user, group))
}

/// Reads a list written by `group_list_in_helper`; None if it is cut off
/// or empty (the helper found nothing).
fn read_list(fd: c_int) -> Option<Vec<libc::gid_t>> {
    let mut count = [0u8; 4];
    if sys::read_to_fill(fd, &mut count).ok()? != 4 {
        return None;
    }
    let count = u32::from_ne_bytes(count) as usize;
    if count == 0 || count > 65536 {
        return None;
    }
    let mut bytes = vec![0u8; count * 4];
    if sys::read_to_fill(fd, &mut bytes).ok()? != bytes.len() {
        return None;
    }
    Some(bytes.chunks_exact(4).map(|id| libc::gid_t::from_ne_bytes([id[0], id[1], id[2], id[3]])).collect())
}

fn group_list(user: &CStr, group: libc::gid_t) -> Option<Vec<libc::gid_t>> {
    let mut capacity: libc::c_int = 32;
    loop {
        let mut list = vec![0 as libc::gid_t; capacity as usize];
        let mut count = capacity;
        // SAFETY: list has room for `count` entries, and getgrouplist writes
        // at most that many, reporting the needed count when it is short.
        let result = unsafe { libc::getgrouplist(user.as_ptr(), group, list.as_mut_ptr(), &mut count) };
        if result >= 0 {
            list.truncate(count as usize);
            return Some(list);
        }
        if count <= capacity {
            return None;
        }
        capacity = count;
    }
}

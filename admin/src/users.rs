//! The run user and its groups, from the host's name service.

use std::ffi::{CStr, CString};

use crate::args::{failed, Result};

pub struct RunUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub gecos: String,
    pub home: String,
    pub shell: String,
    /// Every group id the user's processes get from initgroups(3).
    pub groups: Vec<u32>,
}

pub struct Group {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

fn text(pointer: *const libc::c_char) -> String {
    if pointer.is_null() {
        return String::new();
    }
    // SAFETY: the name service returns NUL-terminated strings.
    unsafe { CStr::from_ptr(pointer) }.to_string_lossy().to_string()
}

/// Looks up `name` (or a numeric `#uid`) with getpwnam(3).
pub fn user(name: &str) -> Result<RunUser> {
    let entry = match name.strip_prefix('#').and_then(|uid| uid.parse::<u32>().ok()) {
        // SAFETY: getpwuid returns NULL or a pointer to static storage, read before the next call.
        Some(uid) => unsafe { libc::getpwuid(uid) },
        None => {
            let c_name = CString::new(name).or_else(|_| failed(format!("invalid user name {:?}", name)))?;
            // SAFETY: as above, with a valid NUL-terminated name.
            unsafe { libc::getpwnam(c_name.as_ptr()) }
        }
    };
    if entry.is_null() {
        return failed(format!("user {} not found on the host; create it or give the run user with --user", name));
    }
    // SAFETY: entry is a valid passwd record until the next name service call.
    let entry = unsafe { &*entry };
    let mut user = RunUser {
        name: text(entry.pw_name),
        uid: entry.pw_uid,
        gid: entry.pw_gid,
        gecos: text(entry.pw_gecos),
        home: text(entry.pw_dir),
        shell: text(entry.pw_shell),
        groups: Vec::new(),
    };
    user.groups = group_list(&user.name, user.gid);
    Ok(user)
}

fn group_list(name: &str, gid: u32) -> Vec<u32> {
    let c_name = CString::new(name).expect("user names have no NUL byte");
    let mut count: libc::c_int = 64;
    let mut groups = vec![0 as libc::gid_t; count as usize];
    // SAFETY: groups has room for count entries; getgrouplist updates count.
    let result = unsafe { libc::getgrouplist(c_name.as_ptr(), gid, groups.as_mut_ptr(), &mut count) };
    if result < 0 {
        groups = vec![0; count as usize];
        // SAFETY: groups now has the size getgrouplist reported.
        unsafe { libc::getgrouplist(c_name.as_ptr(), gid, groups.as_mut_ptr(), &mut count) };
    }
    groups.truncate(count.max(0) as usize);
    groups
}

/// Looks up a group by name, or by number for a numeric `name`.
pub fn group(name: &str) -> Result<Group> {
    let entry = match name.trim_start_matches('#').parse::<u32>() {
        // SAFETY: getgrgid returns NULL or a pointer to static storage, read before the next call.
        Ok(gid) => unsafe { libc::getgrgid(gid) },
        Err(_) => {
            let c_name = CString::new(name).or_else(|_| failed(format!("invalid group name {:?}", name)))?;
            // SAFETY: as above, with a valid NUL-terminated name.
            unsafe { libc::getgrnam(c_name.as_ptr()) }
        }
    };
    if entry.is_null() {
        return failed(format!("group {} not found on the host; create it or give the run group with --group", name));
    }
    // SAFETY: entry is a valid group record until the next name service call.
    let entry = unsafe { &*entry };
    let mut members = Vec::new();
    let mut member = entry.gr_mem;
    // SAFETY: gr_mem is a NULL-terminated array of strings.
    while !member.is_null() && unsafe { !(*member).is_null() } {
        members.push(text(unsafe { *member }));
        member = unsafe { member.add(1) };
    }
    Ok(Group { name: text(entry.gr_name), gid: entry.gr_gid, members })
}

impl RunUser {
    /// Returns the user's /etc/passwd line, with no password.
    pub fn passwd_line(&self) -> String {
        format!("{}:x:{}:{}:{}:{}:{}\n", self.name, self.uid, self.gid, self.gecos, self.home, self.shell)
    }
}

impl Group {
    /// Returns the group's /etc/group line, listing only `user` as member.
    pub fn group_line(&self, user: &str) -> String {
        let members = if self.members.iter().any(|member| member == user) { user } else { "" };
        format!("{}:x:{}:{}\n", self.name, self.gid, members)
    }
}

//! Changes of user and group identity: the point before which every server
//! process must be inside the jail.
//!
//! In server mode httpd's children inherit the jail from the daemon parent.
//! A process forked while the parent is outside the jail (mod_cgid's daemon,
//! and every child in children mode) enters it here, at its first identity
//! change, so that it never drops root privileges outside the jail. If it
//! cannot, it exits before the change.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

use libc::{gid_t, size_t, uid_t};
use redhook::real;

use super::{hooks, Reentry};
use crate::groups;
use crate::jail::{self, Trigger};
use crate::lifecycle;
use crate::rejection;
use crate::role::Invocation;
use crate::state;

hooks! {
    unsafe fn setuid(uid: uid_t) -> c_int => hook_setuid {
        before_identity_change("setuid");
        real!(setuid)(uid)
    }
    unsafe fn setgid(gid: gid_t) -> c_int => hook_setgid {
        before_identity_change("setgid");
        real!(setgid)(gid)
    }
    unsafe fn seteuid(uid: uid_t) -> c_int => hook_seteuid {
        before_identity_change("seteuid");
        real!(seteuid)(uid)
    }
    unsafe fn setegid(gid: gid_t) -> c_int => hook_setegid {
        before_identity_change("setegid");
        real!(setegid)(gid)
    }
    unsafe fn setreuid(real_uid: uid_t, effective_uid: uid_t) -> c_int => hook_setreuid {
        before_identity_change("setreuid");
        real!(setreuid)(real_uid, effective_uid)
    }
    unsafe fn setregid(real_gid: gid_t, effective_gid: gid_t) -> c_int => hook_setregid {
        before_identity_change("setregid");
        real!(setregid)(real_gid, effective_gid)
    }
    unsafe fn setresuid(real_uid: uid_t, effective_uid: uid_t, saved_uid: uid_t) -> c_int => hook_setresuid {
        before_identity_change("setresuid");
        real!(setresuid)(real_uid, effective_uid, saved_uid)
    }
    unsafe fn setresgid(real_gid: gid_t, effective_gid: gid_t, saved_gid: gid_t) -> c_int => hook_setresgid {
        before_identity_change("setresgid");
        real!(setresgid)(real_gid, effective_gid, saved_gid)
    }
    unsafe fn setfsuid(uid: uid_t) -> c_int => hook_setfsuid {
        before_identity_change("setfsuid");
        real!(setfsuid)(uid)
    }
    unsafe fn setfsgid(gid: gid_t) -> c_int => hook_setfsgid {
        before_identity_change("setfsgid");
        real!(setfsgid)(gid)
    }
    unsafe fn setgroups(count: size_t, list: *const gid_t) -> c_int => hook_setgroups {
        before_identity_change("setgroups");
        real!(setgroups)(count, list)
    }
    unsafe fn initgroups(user: *const c_char, group: gid_t) -> c_int => hook_initgroups {
        before_identity_change("initgroups");
        if state::is_jailed() && !user.is_null() {
            if let Some(list) = groups::prepared_for(CStr::from_ptr(user), group) {
                log::debug!("initgroups({:?}, {}): {} groups prepared outside the jail", CStr::from_ptr(user), group, list.len());
                return real!(setgroups)(list.len(), list.as_ptr());
            }
        }
        real!(initgroups)(user, group)
    }
}

/// Closes the descriptors to the host, and enters the jail first if this
/// server process is still outside it.
fn before_identity_change(call: &'static str) {
    lifecycle::before_identity_change();
    if state::is_jailed() {
        return;
    }
    let _busy = match Reentry::enter() {
        Some(busy) => busy,
        None => return,
    };

    if let Some(rejected) = state::rejection() {
        rejection::report(rejected);
        // SAFETY: _exit ends this process before it changes identity.
        unsafe { libc::_exit(crate::httpd::CHILD_FATAL) };
    }
    let process = match state::active() {
        Some(process) if process.invocation == Invocation::Server => process,
        _ => return,
    };

    let _errno = crate::errno::ErrnoGuard::save();
    if let Err(error) = jail::enter(process, Trigger::IdentityChange(call)) {
        log::error!("{}", error);
        // SAFETY: as above; the process must not continue outside the jail.
        unsafe { libc::_exit(crate::httpd::CHILD_FATAL) };
    }
}

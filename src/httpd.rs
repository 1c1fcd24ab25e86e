//! The parts of httpd's public module API that the library reads.
//!
//! The httpd binary exports its API to the modules it loads, so the library
//! finds it with dlsym in the running program. A program without
//! `ap_state_query` is not httpd (a piped logger, a CGI interpreter, a shell),
//! and the library stays inert in it.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};

/// `ap_state_query()` codes and values from httpd 2.4's http_core.h.
const AP_SQ_MAIN_STATE: c_int = 0;
const AP_SQ_CONFIG_GEN: c_int = 2;
const AP_SQ_MS_RUN_MPM: c_int = 5;

/// httpd's exit status for a child that cannot run (APEXIT_CHILDFATAL in
/// httpd.h), which makes the daemon parent stop the whole server.
pub const CHILD_FATAL: c_int = 0xf;

/// `unixd_config_rec` from httpd 2.4's os/unix/unixd.h: the layout has been
/// the same in every 2.4 release, as modules depend on it.
#[repr(C)]
struct UnixdConfig {
    user_name: *const c_char,
    group_name: *const c_char,
    user_id: libc::uid_t,
    group_id: libc::gid_t,
    suexec_enabled: c_int,
    chroot_dir: *const c_char,
    suexec_disabled_reason: *const c_char,
}

/// Entry points of the running httpd.
pub struct Httpd {
    state_query: unsafe extern "C" fn(c_int) -> c_int,
    unixd_config: *const UnixdConfig,
}

// SAFETY: both pointers refer to httpd's static code and data, which live as
// long as the process; the library only reads through them.
unsafe impl Send for Httpd {}
// SAFETY: as above.
unsafe impl Sync for Httpd {}

/// The user and primary group that httpd's children switch to.
pub struct RunIdentity<'a> {
    pub user_name: &'a CStr,
    pub user_id: libc::uid_t,
    pub group_id: libc::gid_t,
}

impl Httpd {
    /// Looks up httpd's API in the running program; None if it is not httpd.
    pub fn detect() -> Option<Httpd> {
        let state_query = lookup(b"ap_state_query\0")?;
        let unixd_config = lookup(b"ap_unixd_config\0").map_or(std::ptr::null(), |address| address as *const UnixdConfig);

        // SAFETY: ap_state_query has had the type `int (int)` since httpd 2.3.
        let state_query = unsafe { std::mem::transmute::<*mut c_void, unsafe extern "C" fn(c_int) -> c_int>(state_query) };
        Some(Httpd { state_query, unixd_config })
    }

    /// Returns whether httpd runs its MPM: the phase that publishes the
    /// pidfile and forks the children.
    pub fn is_running_mpm(&self) -> bool {
        // SAFETY: ap_state_query only reads httpd's state variables.
        unsafe { (self.state_query)(AP_SQ_MAIN_STATE) == AP_SQ_MS_RUN_MPM }
    }

    /// Returns the number of the configuration httpd has read: 1 for the
    /// first, one more after each restart.
    pub fn generation(&self) -> c_int {
        // SAFETY: ap_state_query only reads httpd's state variables.
        unsafe { (self.state_query)(AP_SQ_CONFIG_GEN) }
    }

    /// Returns the configured `User` and `Group`, once httpd has read them.
    pub fn run_identity(&self) -> Option<RunIdentity<'_>> {
        // SAFETY: the pointer comes from dlsym for httpd's exported
        // ap_unixd_config, whose fields are plain data and a string that
        // httpd allocates in its configuration pool and never frees before
        // the next configuration is read.
        unsafe {
            let config = self.unixd_config.as_ref()?;
            if config.user_name.is_null() {
                return None;
            }
            Some(RunIdentity {
                user_name: CStr::from_ptr(config.user_name),
                user_id: config.user_id,
                group_id: config.group_id,
            })
        }
    }

    /// Returns httpd's own `ChrootDir`, when the configuration sets it.
    pub fn chroot_dir(&self) -> Option<&CStr> {
        // SAFETY: as in run_identity; the directive's value lives in the
        // configuration pool like the user name.
        unsafe {
            let config = self.unixd_config.as_ref()?;
            if config.chroot_dir.is_null() {
                return None;
            }
            Some(CStr::from_ptr(config.chroot_dir))
        }
    }

    /// Returns whether mod_cgi or mod_cgid is loaded, so that the server
    /// runs CGI programs. httpd loads modules with RTLD_GLOBAL, so their
    /// module records are visible to dlsym.
    pub fn runs_cgi(&self) -> bool {
        lookup(b"cgid_module\0").is_some() || lookup(b"cgi_module\0").is_some()
    }
}

fn lookup(name: &[u8]) -> Option<*mut c_void> {
    // SAFETY: name is NUL-terminated; RTLD_DEFAULT searches the program's
    // global scope, which includes the executable's exported symbols.
    let address = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr().cast()) };
    if address.is_null() {
        None
    } else {
        Some(address)
    }
}

//! Entering the jail: the preparation that must happen outside it, then
//! chdir(2), chroot(2) and chdir("/").

use std::fmt;

use crate::config::{self, Settings, SettingsError};
use crate::errno::Errno;
use crate::groups;
use crate::state::{self, Process};
use crate::sys;

/// The moment at which a process enters the jail.
#[derive(Debug, Clone, Copy)]
pub enum Trigger<'a> {
    /// The daemon parent has published its pidfile at this path.
    PidfilePublished(&'a [u8]),
    /// A process forked before the daemon entered the jail (the mod_cgid
    /// daemon) is about to change its identity with this call.
    IdentityChange(&'static str),
}

/// Reasons the jail could not be entered.
#[derive(Debug)]
pub enum JailError {
    Settings(SettingsError),
    Call { call: &'static str, jail: Vec<u8>, errno: Errno },
}

impl JailError {
    /// The errno a failed hook reports to its caller.
    pub fn errno(&self) -> Errno {
        match self {
            JailError::Settings(error) => error.errno(),
            JailError::Call { errno, .. } => *errno,
        }
    }
}

impl fmt::Display for JailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JailError::Settings(error) => write!(f, "{}", error),
            JailError::Call { call, jail, errno } => {
                let remedy = match errno.0 {
                    libc::ENOENT | libc::ENOTDIR => "Restore the jail directory, or correct HTTPD_CHROOT_DIR, and start httpd again",
                    libc::EPERM => "Start httpd as root (chroot needs CAP_SYS_CHROOT)",
                    libc::EACCES => "Make the jail directory and its parents searchable by root",
                    _ => "Check the jail directory and start httpd again",
                };
                write!(
                    f,
                    "cannot enter jail {}={}: {} failed: {}. {}",
                    config::DIR_VARIABLE,
                    jail.escape_ascii(),
                    call,
                    errno,
                    remedy
                )
            }
        }
    }
}

/// Enters the jail, after preparing what the process needs from outside it.
/// On error the process is still outside the jail and must not serve.
pub fn enter(process: &Process, trigger: Trigger<'_>) -> Result<(), JailError> {
    prepare(process, trigger);
    enter_prepared(process, trigger)
}

/// Enters the jail after `prepare` has run for the same trigger.
pub fn enter_prepared(process: &Process, trigger: Trigger<'_>) -> Result<(), JailError> {
    let settings = &process.settings;
    config::check_privilege(settings).map_err(JailError::Settings)?;

    let fail = |call: &'static str| {
        move |errno: Errno| JailError::Call { call, jail: settings.resolved.as_bytes().to_vec(), errno }
    };
    sys::chdir(&settings.resolved_c).map_err(fail("chdir"))?;
    sys::chroot(sys::cstr!(".")).map_err(fail("chroot"))?;
    sys::chdir(sys::cstr!("/")).map_err(fail("chdir"))?;
    state::mark_jailed();

    // SAFETY: getpid(2) has no preconditions and always succeeds.
    let pid = unsafe { libc::getpid() };
    match trigger {
        Trigger::PidfilePublished(pidfile) => log::info!(
            "entered jail {} in the daemon parent (pid {}) after it published pidfile {}",
            shown(settings),
            pid,
            pidfile.escape_ascii()
        ),
        Trigger::IdentityChange(call) => log::info!(
            "entered jail {} in pid {} before {}() dropped root privileges",
            shown(settings),
            pid,
            call
        ),
    }
    Ok(())
}

/// Loads what the process would otherwise read lazily from files that the
/// jail may lack. Running it twice is harmless.
pub fn prepare(process: &Process, trigger: Trigger<'_>) {
    // Time zone: with TZ unset, glibc's tzset() (which strftime calls)
    // re-reads /etc/localtime and falls back to UTC when the jail lacks it.
    // TZ=:/etc/localtime means the same zone, but glibc then keeps the data
    // it loaded here as long as TZ does not change.
    if std::env::var_os("TZ").is_none() {
        std::env::set_var("TZ", ":/etc/localtime");
    }
    // SAFETY: tzset has no arguments; the process is single-threaded here.
    unsafe { tzset() };

    if let Some(identity) = process.httpd.run_identity() {
        groups::prepare(&identity);
    }

    if let Trigger::PidfilePublished(_) = trigger {
        hold_host_shm_dir();
    }
}

extern "C" {
    fn tzset();
}

/// Opens the host's /dev/shm, so that the daemon parent can create and
/// remove a named scoreboard (`ScoreBoardFile`) from inside the jail.
fn hold_host_shm_dir() {
    let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC;
    match sys::open(sys::cstr!("/dev/shm"), flags) {
        Ok(fd) => {
            let previous = state::HOST_SHM_DIR.swap(fd, std::sync::atomic::Ordering::AcqRel);
            if previous >= 0 {
                sys::close(previous);
            }
        }
        Err(errno) => log::debug!("not holding /dev/shm: open failed: {}", errno),
    }
}

/// Closes the descriptors that only the daemon parent may hold. Runs in
/// every child right after fork(), before it can drop privileges.
pub extern "C" fn release_in_child() {
    let fd = state::HOST_SHM_DIR.swap(-1, std::sync::atomic::Ordering::AcqRel);
    if fd >= 0 {
        sys::close(fd);
    }
}

fn shown(settings: &Settings) -> impl fmt::Display + '_ {
    settings.resolved.as_bytes().escape_ascii()
}

//! Entering the jail: the preparation that must happen outside it, then
//! chdir(2), chroot(2) and chdir("/").

use std::fmt;

use crate::config::{self, Mode, Settings, SettingsError};
use crate::errno::Errno;
use crate::groups;
use crate::lifecycle;
use crate::state::{self, Process};
use crate::sys;

/// The moment at which a process enters the jail.
#[derive(Debug, Clone, Copy)]
pub enum Trigger<'a> {
    /// The daemon parent has published its pidfile at this path (server
    /// mode, at the start and after every restart).
    PidfilePublished(&'a [u8]),
    /// A process forked while the daemon parent was outside the jail is about
    /// to change its identity with this call. This is mod_cgid's daemon, and
    /// every child in children mode.
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
        // In children mode every child enters, which is routine.
        Trigger::IdentityChange(call) if settings.mode == Mode::Children => log::debug!(
            "entered jail {} in pid {} before {}() dropped root privileges",
            shown(settings),
            pid,
            call
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
        let lookup = match trigger {
            Trigger::PidfilePublished(_) => groups::Lookup::InHelper,
            Trigger::IdentityChange(_) => groups::Lookup::InProcess,
        };
        groups::prepare(&identity, process.httpd.generation(), lookup);
    }

    if let Trigger::PidfilePublished(_) = trigger {
        if process.settings.mode == Mode::Server {
            lifecycle::hold_host_directories();
        }
    }
}

extern "C" {
    fn tzset();
}

fn shown(settings: &Settings) -> impl fmt::Display + '_ {
    settings.resolved.as_bytes().escape_ascii()
}

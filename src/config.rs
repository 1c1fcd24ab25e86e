//! The library's settings, read from the environment and checked before any
//! jail is entered.
//!
//! | variable           | meaning                                            |
//! |--------------------|----------------------------------------------------|
//! | `HTTPD_CHROOT_DIR` | absolute path of the jail; unset or empty: inert   |
//! | `HTTPD_CHROOT_MODE`| `server` (default): the daemon parent works in the  |
//! |                    | jail too; `children`: only the processes that drop |
//! |                    | root privileges enter it                            |
//! | `HTTPD_CHROOT_LOG` | `error`, `warn`, `info` (default), `debug`, `trace` |
//! | `HTTPD_CHROOT_AUDIT` | `1`: log each path a jailed process looked up and did not find in the jail; `0` or unset: off |
//! | `HTTPD_CHROOT_ALLOW_WRITABLE` | `1`: run even when httpd's run user can write to the jail or one of its parents (logged as a warning); `0` or unset: refuse |

use std::ffi::CString;
use std::fmt;
use std::os::unix::ffi::OsStrExt;

use log::LevelFilter;

use crate::errno::Errno;
use crate::logging;
use crate::paths::{JailPath, JailPathError};
use crate::sys;

pub const DIR_VARIABLE: &str = "HTTPD_CHROOT_DIR";
pub const LOG_VARIABLE: &str = "HTTPD_CHROOT_LOG";
pub const MODE_VARIABLE: &str = "HTTPD_CHROOT_MODE";
pub const AUDIT_VARIABLE: &str = "HTTPD_CHROOT_AUDIT";
pub const ALLOW_WRITABLE_VARIABLE: &str = "HTTPD_CHROOT_ALLOW_WRITABLE";

/// The raw values of the library's environment variables.
#[derive(Debug, Clone, Default)]
pub struct Variables {
    pub dir: Option<Vec<u8>>,
    pub log: Option<Vec<u8>>,
    pub mode: Option<Vec<u8>>,
    pub audit: Option<Vec<u8>>,
    pub allow_writable: Option<Vec<u8>>,
}

impl Variables {
    /// Reads the variables from the process environment.
    pub fn read() -> Variables {
        Variables {
            dir: variable(DIR_VARIABLE),
            log: variable(LOG_VARIABLE),
            mode: variable(MODE_VARIABLE),
            audit: variable(AUDIT_VARIABLE),
            allow_writable: variable(ALLOW_WRITABLE_VARIABLE),
        }
    }
}

/// The set of server processes that work inside the jail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The daemon parent enters the jail at each pidfile it publishes and
    /// leaves it when the MPM stops running (restart or stop).
    Server,
    /// The daemon parent stays outside; every process enters the jail just
    /// before it drops root privileges, as with httpd's own `ChrootDir`.
    Children,
}

impl Mode {
    /// Parses the variable's value; unset or empty means `server`.
    pub fn parse(value: Option<&[u8]>) -> Option<Mode> {
        match value {
            None | Some(b"") | Some(b"server") => Some(Mode::Server),
            Some(b"children") => Some(Mode::Children),
            Some(_) => None,
        }
    }
}

/// The files in which admins set the variables, named in every remedy.
pub const WHERE_SET: &str = "apachectl's environment (/etc/apache2/envvars or /etc/sysconfig/httpd)";

/// Checked settings of a process that is asked to jail httpd.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The jail as configured, in normal form.
    pub jail: JailPath,
    /// The jail with symlinks resolved: the directory chroot(2) enters.
    pub resolved: JailPath,
    /// `resolved` with a NUL byte, for system calls.
    pub resolved_c: CString,
    /// Whether `resolved` differs from `jail`, so that paths may start with
    /// either spelling.
    pub two_spellings: bool,
    pub mode: Mode,
    pub log_level: LevelFilter,
    /// Whether jailed processes log the paths they did not find in the jail.
    pub audit: bool,
    /// Whether a jail that httpd's run user can write to is used anyway.
    pub allow_writable: bool,
}

impl Settings {
    /// Returns the spellings of the jail that host paths may start with:
    /// the configured one, and the resolved one when it differs.
    pub fn spellings(&self) -> Spellings<'_> {
        let count = if self.two_spellings { 2 } else { 1 };
        Spellings { list: [&self.jail, &self.resolved], count }
    }
}

/// One or two spellings of the jail, used as a slice.
pub struct Spellings<'a> {
    list: [&'a JailPath; 2],
    count: usize,
}

impl<'a> std::ops::Deref for Spellings<'a> {
    type Target = [&'a JailPath];

    fn deref(&self) -> &Self::Target {
        &self.list[..self.count]
    }
}

/// A setting that cannot be used, with everything a message needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingsError {
    Characters { value: Vec<u8> },
    Path { value: Vec<u8>, reason: JailPathError },
    Missing { value: Vec<u8>, errno: Errno },
    DanglingSymlink { value: Vec<u8>, target: Vec<u8> },
    NotDirectory { value: Vec<u8> },
    ResolvesToRoot { value: Vec<u8> },
    NotPrivileged { value: Vec<u8>, euid: u32 },
    LogLevel { value: Vec<u8> },
    Mode { value: Vec<u8> },
    Audit { value: Vec<u8> },
    AllowWritable { value: Vec<u8> },
}

impl SettingsError {
    /// Returns the errno that a call failed by this error reports.
    pub fn errno(&self) -> Errno {
        match self {
            SettingsError::Missing { errno, .. } => *errno,
            SettingsError::DanglingSymlink { .. } => Errno(libc::ENOENT),
            SettingsError::NotDirectory { .. } => Errno(libc::ENOTDIR),
            SettingsError::NotPrivileged { .. } => Errno(libc::EPERM),
            SettingsError::Path { reason: JailPathError::TooLong, .. } => Errno(libc::ENAMETOOLONG),
            _ => Errno(libc::EINVAL),
        }
    }
}

/// Reads the settings from raw variable values. Returns `Ok(None)` when no
/// jail is configured, which leaves the library inert.
pub fn parse(variables: &Variables) -> Result<Option<Settings>, SettingsError> {
    let dir = match variables.dir.as_deref() {
        Some(dir) if !dir.is_empty() => dir,
        _ => return Ok(None),
    };

    let log_level = match variables.log.as_deref() {
        None | Some(b"") => LevelFilter::Info,
        Some(value) => logging::parse_level(value).ok_or_else(|| SettingsError::LogLevel { value: value.to_vec() })?,
    };

    let mode = variables.mode.as_deref();
    let mode = Mode::parse(mode).ok_or_else(|| SettingsError::Mode { value: mode.unwrap_or_default().to_vec() })?;
    let audit = switch(variables.audit.as_deref()).map_err(|value| SettingsError::Audit { value })?;
    let allow_writable =
        switch(variables.allow_writable.as_deref()).map_err(|value| SettingsError::AllowWritable { value })?;

    if std::str::from_utf8(dir).is_err() || dir.iter().any(|b| b.is_ascii_control()) {
        return Err(SettingsError::Characters { value: dir.to_vec() });
    }
    let jail = JailPath::parse(dir).map_err(|reason| SettingsError::Path { value: dir.to_vec(), reason })?;

    let resolved = resolve_directory(&jail)?;
    let resolved_c = CString::new(resolved.as_bytes().to_vec()).expect("a parsed path contains no NUL byte");
    let two_spellings = resolved != jail;
    Ok(Some(Settings { jail, resolved, resolved_c, two_spellings, mode, log_level, audit, allow_writable }))
}

/// Reads an on/off variable: `1` is on; `0`, empty or unset is off. Returns
/// any other value as the error.
fn switch(value: Option<&[u8]>) -> Result<bool, Vec<u8>> {
    match value {
        None | Some(b"") | Some(b"0") => Ok(false),
        Some(b"1") => Ok(true),
        Some(value) => Err(value.to_vec()),
    }
}

/// Checks that the jail is an existing directory and resolves its symlinks
/// once, so that every later chroot enters the same directory.
fn resolve_directory(jail: &JailPath) -> Result<JailPath, SettingsError> {
    let value = jail.as_bytes().to_vec();
    let path = CString::new(value.clone()).expect("a parsed path contains no NUL byte");

    let status = match sys::stat(&path) {
        Ok(status) => status,
        Err(errno) => return Err(missing(value, errno)),
    };
    if status.st_mode & libc::S_IFMT != libc::S_IFDIR {
        return Err(SettingsError::NotDirectory { value });
    }

    let resolved = std::fs::canonicalize(std::ffi::OsStr::from_bytes(&value)).map_err(|error| {
        SettingsError::Missing { value: value.clone(), errno: Errno(error.raw_os_error().unwrap_or(libc::EIO)) }
    })?;
    JailPath::parse(resolved.as_os_str().as_bytes()).map_err(|_| SettingsError::ResolvesToRoot { value })
}

/// Describes a jail that stat(2) cannot find: a symlink to a missing
/// directory is named with its target, as `ls -l` shows it.
fn missing(value: Vec<u8>, errno: Errno) -> SettingsError {
    if errno.0 == libc::ENOENT {
        if let Ok(target) = std::fs::read_link(std::ffi::OsStr::from_bytes(&value)) {
            return SettingsError::DanglingSymlink { value, target: target.as_os_str().as_bytes().to_vec() };
        }
    }
    SettingsError::Missing { value, errno }
}

/// Checks that this process may call chroot(2), which needs CAP_SYS_CHROOT
/// in its effective set (root has it unless it was dropped).
pub fn check_privilege(settings: &Settings) -> Result<(), SettingsError> {
    if sys::can_chroot() {
        return Ok(());
    }
    // SAFETY: geteuid(2) has no preconditions and always succeeds.
    let euid = unsafe { libc::geteuid() };
    Err(SettingsError::NotPrivileged { value: settings.jail.as_bytes().to_vec(), euid })
}

/// Reads a variable's raw bytes from the process environment.
pub fn variable(name: &str) -> Option<Vec<u8>> {
    std::env::var_os(name).map(|value| value.as_bytes().to_vec())
}

/// Shows bytes from the environment in a message with every control
/// character and non-ASCII byte escaped, so that a value can neither break
/// the log line nor hide its content. A long value is cut after
/// `SHOWN_MAX` bytes, so that the reason and remedy still fit in the line.
pub struct Escaped<'a>(pub &'a [u8]);

/// Maximum number of bytes of a value shown in a message.
const SHOWN_MAX: usize = 200;

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.len() <= SHOWN_MAX {
            return write!(f, "{}", self.0.escape_ascii());
        }
        write!(f, "{}... ({} bytes)", self.0[..SHOWN_MAX].escape_ascii(), self.0.len())
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingsError::Characters { value } => write!(
                f,
                "invalid {}={}: contains a control character or a byte that is not UTF-8. \
                 Set it to a plain absolute path in {}",
                DIR_VARIABLE, Escaped(value), WHERE_SET
            ),
            SettingsError::Path { value, reason } => {
                let (problem, remedy) = match reason {
                    JailPathError::NotAbsolute => ("not an absolute path", "Set it to the jail's absolute path, such as /srv/httpd-jail,"),
                    JailPathError::DotDot => ("contains a '..' component", "Write the path without '..'"),
                    JailPathError::TooLong => ("longer than PATH_MAX (ENAMETOOLONG)", "Choose a shorter jail path"),
                    JailPathError::RootDirectory => ("names the root directory, which confines nothing", "Set it to a jail directory"),
                };
                write!(f, "invalid {}={}: {}. {} in {}", DIR_VARIABLE, Escaped(value), problem, remedy, WHERE_SET)
            }
            SettingsError::Missing { value, errno } => write!(
                f,
                "cannot use jail {}={}: stat failed: {}. Create the jail directory or correct the variable in {}",
                DIR_VARIABLE, Escaped(value), errno, WHERE_SET
            ),
            SettingsError::DanglingSymlink { value, target } => write!(
                f,
                "cannot use jail {}={}: it is a symlink to {}, which does not exist: {}. \
                 Create the jail directory at {} or point the variable at the jail in {}",
                DIR_VARIABLE,
                Escaped(value),
                Escaped(target),
                Errno(libc::ENOENT),
                Escaped(target),
                WHERE_SET
            ),
            SettingsError::NotDirectory { value } => write!(
                f,
                "cannot use jail {}={}: {}. Point the variable at a directory in {}",
                DIR_VARIABLE, Escaped(value), Errno(libc::ENOTDIR), WHERE_SET
            ),
            SettingsError::ResolvesToRoot { value } => write!(
                f,
                "invalid {}={}: resolves to the root directory, which confines nothing. Set it to a jail directory in {}",
                DIR_VARIABLE, Escaped(value), WHERE_SET
            ),
            SettingsError::NotPrivileged { value, euid } => write!(
                f,
                "cannot enter jail {}={}: chroot needs CAP_SYS_CHROOT, which this process (uid {}) lacks: {}. \
                 Start httpd as root with its capabilities, or remove {} from its environment to run it unjailed",
                DIR_VARIABLE, Escaped(value), euid, Errno(libc::EPERM), DIR_VARIABLE
            ),
            SettingsError::LogLevel { value } => write!(
                f,
                "invalid {}={}: expected one of error, warn, info, debug, trace. Correct it in {}",
                LOG_VARIABLE, Escaped(value), WHERE_SET
            ),
            SettingsError::Mode { value } => write!(
                f,
                "invalid {}={}: expected server (the default: the whole server works in the jail) or children \
                 (only the processes that drop root privileges enter it). Correct it in {}",
                MODE_VARIABLE, Escaped(value), WHERE_SET
            ),
            SettingsError::Audit { value } => write!(
                f,
                "invalid {}={}: expected 1 (log the paths jailed processes do not find in the jail) or 0. Correct it in {}",
                AUDIT_VARIABLE, Escaped(value), WHERE_SET
            ),
            SettingsError::AllowWritable { value } => write!(
                f,
                "invalid {}={}: expected 1 (run even when httpd's run user can write to the jail) or 0. Correct it in {}",
                ALLOW_WRITABLE_VARIABLE, Escaped(value), WHERE_SET
            ),
        }
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;

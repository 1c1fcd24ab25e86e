//! Checks of the jail against the configuration httpd has read: httpd's own
//! `ChrootDir`, write access of the run user to the jail and its parents,
//! the jail still being there at a restart, and mount flags that stop CGIs.
//!
//! They run first in the process that starts the server, as soon as httpd
//! opens its error log. The configuration is read by then, nothing serves
//! yet, and the terminal still shows the result. They run again in the
//! daemon parent before each pidfile it publishes, once for every
//! configuration httpd reads. A failed check stops the server before it
//! serves.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use libc::{gid_t, uid_t};
use log::Level;

use crate::config::{Escaped, Settings, ALLOW_WRITABLE_VARIABLE, DIR_VARIABLE, WHERE_SET};
use crate::errno::Errno;
use crate::groups;
use crate::rejection;
use crate::state::{self, Process};
use crate::sys;

/// The owner and mode of one directory on the jail's path.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub uid: uid_t,
    pub gid: gid_t,
    pub mode: u32,
}

/// httpd's run user and every group it belongs to.
pub struct RunUser<'a> {
    pub uid: uid_t,
    pub groups: &'a [gid_t],
}

/// The kind of access through which the run user can change a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// It owns the directory, so it may change its mode.
    Owner,
    /// The directory's group, of which it is a member, may write.
    Group(gid_t),
    /// Everyone may write.
    Everyone,
}

/// Finds the first directory the run user can change, in `entries` from the
/// jail (index 0) up to `/`. A parent with the sticky bit (such as /tmp) is
/// safe when the run user owns neither it nor the entry below it, because it
/// then cannot rename or remove that entry. The jail itself is never safe.
pub fn first_writable(entries: &[Entry], user: &RunUser<'_>) -> Option<(usize, Access)> {
    if user.uid == 0 {
        return None;
    }
    for (index, entry) in entries.iter().enumerate() {
        let access = if entry.uid == user.uid {
            Access::Owner
        } else if entry.mode & 0o020 != 0 && user.groups.contains(&entry.gid) {
            Access::Group(entry.gid)
        } else if entry.mode & 0o002 != 0 {
            Access::Everyone
        } else {
            continue;
        };

        let sticky = entry.mode & libc::S_ISVTX != 0;
        if index > 0 && sticky && access != Access::Owner && entries[index - 1].uid != user.uid {
            continue;
        }
        return Some((index, access));
    }
    None
}

/// A reason to stop the server before it serves.
#[derive(Debug)]
pub enum Problem {
    ChrootDir { dir: Vec<u8> },
    Unusable { path: Vec<u8>, errno: Errno },
    Writable(Writable),
}

/// A directory on the jail's path that the run user can change.
#[derive(Debug)]
pub struct Writable {
    pub path: Vec<u8>,
    pub access: Access,
    pub mode: u32,
    pub jail_itself: bool,
    pub user: Vec<u8>,
    pub uid: uid_t,
}

impl Problem {
    /// Returns the errno with which the refused call fails.
    pub fn errno(&self) -> Errno {
        match self {
            Problem::ChrootDir { .. } => Errno(libc::EINVAL),
            Problem::Unusable { errno, .. } => *errno,
            Problem::Writable(_) => Errno(libc::EPERM),
        }
    }
}

impl Writable {
    /// Returns the command that takes the run user's access away.
    fn remedy(&self) -> &'static str {
        match self.access {
            Access::Owner => "chown root",
            Access::Group(_) => "chmod g-w",
            Access::Everyone => "chmod o-w",
        }
    }
}

impl fmt::Display for Writable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.access {
            Access::Owner => "is owned by the run user".to_string(),
            Access::Group(gid) => format!("is writable by group {}, to which the run user belongs", gid),
            Access::Everyone => "is writable by everyone".to_string(),
        };
        let consequence = if self.jail_itself { "change what the jail holds" } else { "replace the jail directory" };
        write!(
            f,
            "{} {} (mode {:04o}), so httpd's run user {} (uid {}) could {}",
            Escaped(&self.path),
            kind,
            self.mode & 0o7777,
            Escaped(&self.user),
            self.uid,
            consequence
        )
    }
}

/// Writes a problem for the jail `settings` configure.
pub struct Report<'a>(pub &'a Problem, pub &'a Settings);

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let jail = Escaped(self.1.jail.as_bytes());
        match self.0 {
            Problem::ChrootDir { dir } => write!(
                f,
                "httpd's own ChrootDir {} is set while {}={} jails the server: the children would enter a \
                 second chroot inside the jail; refused with {}. Remove ChrootDir from httpd's configuration (the library \
                 replaces it), or remove {} from {} to use ChrootDir alone",
                Escaped(dir),
                DIR_VARIABLE,
                jail,
                Errno(libc::EINVAL),
                DIR_VARIABLE,
                WHERE_SET
            ),
            Problem::Unusable { path, errno } => write!(
                f,
                "cannot use jail {}={}: {} is no longer a directory: lstat gave {}, so it was renamed or \
                 removed after the server started. Restore the jail directory and start httpd again",
                DIR_VARIABLE,
                jail,
                Escaped(path),
                errno
            ),
            Problem::Writable(writable) => write!(
                f,
                "unsafe jail {}={}: {}; refused with {}. Make it writable by root only ({} {}), or set {}=1 in {} \
                 to run anyway",
                DIR_VARIABLE,
                jail,
                writable,
                Errno(libc::EPERM),
                writable.remedy(),
                Escaped(&writable.path),
                ALLOW_WRITABLE_VARIABLE,
                WHERE_SET
            ),
        }
    }
}

/// A line for the admin that does not stop the server.
pub struct Notice {
    pub level: Level,
    pub message: String,
}

/// Checks the jail against httpd's current configuration. Returns the
/// notices to log, or the problem that must stop the server.
pub fn check(process: &Process) -> Result<Vec<Notice>, Problem> {
    let settings = &process.settings;
    if let Some(dir) = process.httpd.chroot_dir() {
        return Err(Problem::ChrootDir { dir: dir.to_bytes().to_vec() });
    }

    let entries = path_entries(settings)?;
    let mut notices = Vec::new();
    if let Some(writable) = writable_level(process, &entries) {
        if !settings.allow_writable {
            return Err(Problem::Writable(writable));
        }
        notices.push(Notice {
            level: Level::Warn,
            message: format!(
                "jail {}={} is unsafe: {}; running anyway because {}=1",
                DIR_VARIABLE,
                Escaped(settings.jail.as_bytes()),
                writable,
                ALLOW_WRITABLE_VARIABLE
            ),
        });
    }
    if process.httpd.runs_cgi() {
        notices.extend(mount_notice(settings));
    }
    Ok(notices)
}

/// Returns the owner and mode of the jail and of each of its parents, the
/// jail first. The resolved path has no symlinks, so each entry is the
/// directory itself.
fn path_entries(settings: &Settings) -> Result<Vec<(Vec<u8>, Entry)>, Problem> {
    let mut path = settings.resolved.as_bytes().to_vec();
    let mut entries = Vec::new();
    loop {
        let text = std::ffi::CString::new(path.clone()).expect("a parsed path contains no NUL byte");
        let status = sys::lstat(&text).map_err(|errno| Problem::Unusable { path: path.clone(), errno })?;
        if status.st_mode & libc::S_IFMT != libc::S_IFDIR {
            return Err(Problem::Unusable { path, errno: Errno(libc::ENOTDIR) });
        }
        entries.push((path.clone(), Entry { uid: status.st_uid, gid: status.st_gid, mode: status.st_mode }));

        if path == b"/" {
            return Ok(entries);
        }
        let cut = path.iter().rposition(|&byte| byte == b'/').unwrap_or(0);
        path.truncate(cut.max(1));
    }
}

/// Finds a directory on the jail's path that httpd's run user can change.
fn writable_level(process: &Process, entries: &[(Vec<u8>, Entry)]) -> Option<Writable> {
    let identity = process.httpd.run_identity()?;
    let mut list = vec![identity.group_id];
    list.extend_from_slice(groups::prepared_list(process.httpd.generation()).unwrap_or_default());
    let user = RunUser { uid: identity.user_id, groups: &list };

    let plain: Vec<Entry> = entries.iter().map(|(_, entry)| *entry).collect();
    let (index, access) = first_writable(&plain, &user)?;
    Some(Writable {
        path: entries[index].0.clone(),
        access,
        mode: entries[index].1.mode,
        jail_itself: index == 0,
        user: identity.user_name.to_bytes().to_vec(),
        uid: identity.user_id,
    })
}

/// Warns when the jail's filesystem is mounted noexec or nosuid.
fn mount_notice(settings: &Settings) -> Option<Notice> {
    let flags = sys::mount_flags(&settings.resolved_c).ok()?;
    let jail = Escaped(settings.resolved.as_bytes());
    let message = if flags & libc::ST_NOEXEC != 0 {
        format!(
            "jail {} is on a filesystem mounted noexec: CGI programs in it cannot run (execve fails with {}). \
             Remount it with exec, or move the jail",
            jail,
            Errno(libc::EACCES)
        )
    } else if flags & libc::ST_NOSUID != 0 {
        format!(
            "jail {} is on a filesystem mounted nosuid: setuid programs in it (such as suexec) run without \
             their privileges. Remount it with suid if CGIs need them",
            jail
        )
    } else {
        return None;
    };
    Some(Notice { level: Level::Warn, message })
}

/// Set when the starting process has shown the notices, so that the daemon
/// parent it forks does not log them again for the same configuration.
static NOTICES_SHOWN: AtomicBool = AtomicBool::new(false);

/// Set once the starting process has checked its configuration: httpd
/// replaces stderr again at every later configuration.
static CHECKED_AT_START: AtomicBool = AtomicBool::new(false);

/// Checks the configuration in the process that starts the server, when
/// httpd has just opened its error log (replaced stderr). A problem goes to
/// the error log and the terminal, and the process exits with status 1.
pub fn on_error_log_open() {
    let process = match state::active() {
        Some(process) if process.invocation == crate::role::Invocation::Server => process,
        _ => return,
    };
    if !state::is_origin() || CHECKED_AT_START.swap(true, Ordering::AcqRel) {
        return;
    }
    if let Some(identity) = process.httpd.run_identity() {
        groups::prepare(&identity, process.httpd.generation(), groups::Lookup::InHelper);
    }

    match check(process) {
        Ok(notices) => {
            for notice in notices {
                rejection::report_line(notice.level, &notice.message);
            }
            NOTICES_SHOWN.store(true, Ordering::Release);
            state::release_terminal();
        }
        Err(problem) => {
            let message = format!("{}. The server was not started", Report(&problem, &process.settings));
            rejection::report_line(Level::Error, &message);
            // SAFETY: _exit ends the process before it serves; piped loggers
            // see their input close and exit.
            unsafe { libc::_exit(1) };
        }
    }
}

/// Checks the configuration in the daemon parent before it publishes a
/// pidfile, after `jail::prepare` computed the run user's groups. On a
/// problem, logs it and returns the errno with which publishing fails.
pub fn before_publish(process: &Process) -> Result<(), Errno> {
    state::release_terminal();
    match check(process) {
        Ok(notices) => {
            if !NOTICES_SHOWN.swap(false, Ordering::AcqRel) {
                for notice in notices {
                    rejection::report_line(notice.level, &notice.message);
                }
            }
            Ok(())
        }
        Err(problem) => {
            let generation = process.httpd.generation();
            let outcome = if generation > 1 {
                format!("The server stops instead of running configuration generation {}", generation)
            } else {
                "The server was not started".to_string()
            };
            rejection::report_line(Level::Error, &format!("{}. {}", Report(&problem, &process.settings), outcome));
            Err(problem.errno())
        }
    }
}

#[cfg(test)]
#[path = "preflight_tests.rs"]
mod tests;

//! Checks of the jail's own files: write access for the run user, device
//! nodes, setuid and setgid files, hard links shared with files outside
//! the jail, and a nodev mount.

use std::collections::HashMap;
use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::report::Finding;
use crate::users::RunUser;

/// Device nodes a jail may hold: name under dev/, major, minor.
const NEEDED_DEVICES: [(&str, u32, u32); 4] = [("null", 1, 3), ("zero", 1, 5), ("urandom", 1, 9), ("random", 1, 8)];

/// Directories the run user may write to by default, as seen inside the jail.
pub const WRITABLE_DEFAULTS: [&str; 3] = ["/tmp", "/var/tmp", "/dev/shm"];

pub struct Scan<'a> {
    pub jail: &'a Path,
    pub user: &'a RunUser,
    /// Paths inside the jail where the run user may write.
    pub writable: Vec<PathBuf>,
    /// Extra device nodes to accept, as paths inside the jail.
    pub devices: Vec<PathBuf>,
}

fn writable_by(metadata: &fs::Metadata, user: &RunUser) -> bool {
    let mode = metadata.mode();
    if metadata.uid() == user.uid {
        mode & 0o200 != 0
    } else if user.groups.contains(&metadata.gid()) || metadata.gid() == user.gid {
        mode & 0o020 != 0
    } else {
        mode & 0o002 != 0
    }
}

impl Scan<'_> {
    fn inside(&self, path: &Path) -> PathBuf {
        Path::new("/").join(path.strip_prefix(self.jail).unwrap_or(path))
    }

    fn finding(&self, kind: &'static str, path: &Path, message: String) -> Finding {
        Finding { kind, path: path.display().to_string(), message, source: None, proposal: None }
    }

    pub fn run(&self) -> Vec<Finding> {
        let mut findings = self.ancestors();
        let Ok(root) = fs::symlink_metadata(self.jail) else { return findings };
        let mut inodes: HashMap<(u64, u64), (PathBuf, u64, u64)> = HashMap::new();
        let mut has_devices = false;
        let mut pending = vec![self.jail.to_path_buf()];
        while let Some(dir) = pending.pop() {
            if let Ok(metadata) = fs::symlink_metadata(&dir) {
                self.check_entry(&dir, &metadata, &mut findings);
            }
            let mut entries: Vec<PathBuf> = fs::read_dir(&dir).into_iter().flatten().flatten().map(|entry| entry.path()).collect();
            entries.sort();
            for path in entries {
                let Ok(metadata) = fs::symlink_metadata(&path) else { continue };
                let kind = metadata.file_type();
                if kind.is_dir() {
                    // Mounts inside the jail, such as a bind-mounted /proc, are not walked.
                    if metadata.dev() == root.dev() {
                        pending.push(path);
                    }
                    continue;
                }
                if kind.is_char_device() || kind.is_block_device() {
                    has_devices = true;
                }
                self.check_entry(&path, &metadata, &mut findings);
                if kind.is_file() && metadata.nlink() > 1 {
                    let entry = inodes.entry((metadata.dev(), metadata.ino())).or_insert((path.clone(), metadata.nlink(), 0));
                    entry.2 += 1;
                }
            }
        }
        let mut shared: Vec<_> = inodes.into_values().filter(|(_, links, inside)| inside < links).collect();
        shared.sort();
        for (path, links, inside) in shared {
            findings.push(self.finding(
                "hard-link",
                &path,
                format!(
                    "{} has {} hard links but only {} in the jail, so it is the same file as a path outside: \
                     whoever can write there changes it in the jail. Replace the link with a copy",
                    path.display(),
                    links,
                    inside
                ),
            ));
        }
        if has_devices {
            findings.extend(self.nodev_mount());
        }
        findings
    }

    fn check_entry(&self, path: &Path, metadata: &fs::Metadata, findings: &mut Vec<Finding>) {
        let inside = self.inside(path);
        let kind = metadata.file_type();
        let exempt = self.writable.iter().any(|allowed| inside.starts_with(allowed));
        if (kind.is_dir() || kind.is_file()) && writable_by(metadata, self.user) {
            if !exempt {
                let file_kind = if kind.is_dir() { "directory" } else { "file" };
                findings.push(self.finding(
                    "writable",
                    path,
                    format!(
                        "{} {} is writable by run user {} (owner {}, group {}, mode {:04o}); make it root's and not \
                         writable (chown root:root, chmod go-w), or allow it with --allow-writable {}",
                        file_kind,
                        path.display(),
                        self.user.name,
                        metadata.uid(),
                        metadata.gid(),
                        metadata.mode() & 0o7777,
                        inside.display()
                    ),
                ));
            } else if kind.is_dir() && metadata.mode() & 0o002 != 0 && metadata.mode() & 0o1000 == 0 {
                findings.push(self.finding(
                    "writable",
                    path,
                    format!("directory {} is writable by everyone without the sticky bit; chmod +t it", path.display()),
                ));
            }
        }
        if kind.is_file() && metadata.mode() & 0o6000 != 0 {
            findings.push(self.finding(
                "setuid",
                path,
                format!(
                    "{} has the setuid or setgid bit (mode {:04o}); nothing in a jail needs it: chmod ug-s it",
                    path.display(),
                    metadata.mode() & 0o7777
                ),
            ));
        }
        if kind.is_char_device() || kind.is_block_device() {
            self.check_device(path, &inside, metadata, findings);
        }
    }

    fn check_device(&self, path: &Path, inside: &Path, metadata: &fs::Metadata, findings: &mut Vec<Finding>) {
        let (major, minor) = (libc::major(metadata.rdev()), libc::minor(metadata.rdev()));
        let block = metadata.file_type().is_block_device();
        if self.devices.iter().any(|allowed| allowed == inside) {
            return;
        }
        let expected = NEEDED_DEVICES.iter().find(|(name, _, _)| Path::new("/dev").join(name) == inside);
        let message = match expected {
            Some((_, want_major, want_minor)) if !block && (major, minor) == (*want_major, *want_minor) => return,
            Some((name, want_major, want_minor)) => format!(
                "{} is {} device {}:{}, but /dev/{} is character device {}:{}; recreate it (mknod -m 666 {} c {} {})",
                path.display(),
                if block { "block" } else { "character" },
                major,
                minor,
                name,
                want_major,
                want_minor,
                path.display(),
                want_major,
                want_minor
            ),
            None => format!(
                "{} is a {} device node ({}:{}) that httpd does not need; remove it, or accept it with --allow-device {}",
                path.display(),
                if block { "block" } else { "character" },
                major,
                minor,
                inside.display()
            ),
        };
        findings.push(self.finding("device", path, message));
    }

    /// Reports ancestors of the jail the run user can write to, which let
    /// it rename the jail and put another directory in its place.
    fn ancestors(&self) -> Vec<Finding> {
        let mut findings = Vec::new();
        for ancestor in self.jail.ancestors().skip(1) {
            if let Ok(metadata) = fs::metadata(ancestor) {
                let sticky_shared = metadata.mode() & 0o1000 != 0 && metadata.uid() != self.user.uid;
                if writable_by(&metadata, self.user) && !sticky_shared {
                    findings.push(self.finding(
                        "writable",
                        ancestor,
                        format!(
                            "{} (an ancestor of the jail) is writable by run user {}, which can then replace the jail; \
                             make it root's and not writable",
                            ancestor.display(),
                            self.user.name
                        ),
                    ));
                }
            }
        }
        findings
    }

    fn nodev_mount(&self) -> Option<Finding> {
        let name = CString::new(self.jail.as_os_str().as_bytes()).ok()?;
        // SAFETY: statvfs fills the zeroed struct for a valid path.
        let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statvfs(name.as_ptr(), &mut stat) } != 0 || stat.f_flag & libc::ST_NODEV == 0 {
            return None;
        }
        Some(self.finding(
            "nodev-mount",
            self.jail,
            format!(
                "{} is on a filesystem mounted nodev, so its device nodes cannot be opened; put the jail on a \
                 filesystem without nodev (findmnt -T {})",
                self.jail.display(),
                self.jail.display()
            ),
        ))
    }
}

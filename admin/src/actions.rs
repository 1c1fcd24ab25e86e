//! Filesystem changes that print what they do, or with --dry-run print
//! what they would do and change nothing. Every change is reported on
//! stdout as one line; a step that finds the file already right is silent.

use std::ffi::CString;
use std::fs;
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use crate::args::{failed, Result};

pub struct Actions {
    pub dry_run: bool,
    pub changes: usize,
}

impl Actions {
    pub fn new(dry_run: bool) -> Actions {
        Actions { dry_run, changes: 0 }
    }

    /// Prints one change: "created X" or, in a dry run, "would create X".
    pub fn report(&mut self, verb: &str, past: &str, what: &str) {
        self.changes += 1;
        if self.dry_run {
            println!("would {} {}", verb, what);
        } else {
            println!("{} {}", past, what);
        }
    }

    /// Prints a finding that changes nothing.
    pub fn note(&self, what: &str) {
        println!("note: {}", what);
    }

    /// Makes `path` a directory owned by root with `mode`.
    pub fn directory(&mut self, path: &Path, mode: u32) -> Result<()> {
        self.directory_owned(path, mode, 0, 0)
    }

    /// Makes `path` a directory owned by `uid`:`gid` with `mode`.
    pub fn directory_owned(&mut self, path: &Path, mode: u32, uid: u32, gid: u32) -> Result<()> {
        match fs::symlink_metadata(path) {
            Ok(metadata) if metadata.is_dir() => self.ownership_and_mode(path, &metadata, mode, uid, gid),
            Ok(_) => failed(format!(
                "{} exists but is not a directory; remove it or choose another jail",
                path.display()
            )),
            Err(error) if error.kind() == ErrorKind::NotFound => {
                self.report("create", "created", &format!("directory {} (mode {:04o}, owner {}:{})", path.display(), mode, uid, gid));
                if self.dry_run {
                    return Ok(());
                }
                fs::create_dir(path).or_else(|error| failed(format!("cannot create directory {}: {}", path.display(), error)))?;
                set_owner_mode(path, mode, uid, gid)
            }
            Err(error) => failed(format!("cannot inspect {}: {}", path.display(), error)),
        }
    }

    /// Makes `path` a root-owned regular file with `content` and `mode`,
    /// written to a temporary file and renamed so readers never see half.
    pub fn file(&mut self, path: &Path, content: &[u8], mode: u32, replace: bool) -> Result<()> {
        match fs::symlink_metadata(path) {
            Ok(metadata) if metadata.is_file() => {
                let same = fs::read(path).map(|old| old == content).unwrap_or(false);
                if same {
                    return self.ownership_and_mode(path, &metadata, mode, 0, 0);
                }
                if !replace {
                    self.note(&format!("{} differs from its source; run with --update to replace it", path.display()));
                    return Ok(());
                }
                self.report("replace", "replaced", &format!("{} (content changed)", path.display()));
            }
            Ok(_) => {
                return failed(format!("{} exists but is not a regular file; remove it and run again", path.display()));
            }
            Err(_) => self.report("create", "created", &format!("file {} (mode {:04o}, owner root)", path.display(), mode)),
        }
        if self.dry_run {
            return Ok(());
        }
        let temporary = path.with_file_name(format!(
            ".{}.httpd-chroot-new",
            path.file_name().map(|name| name.to_string_lossy().to_string()).unwrap_or_default()
        ));
        fs::write(&temporary, content).or_else(|error| failed(format!("cannot write {}: {}", temporary.display(), error)))?;
        set_root_mode(&temporary, mode)?;
        fs::rename(&temporary, path).or_else(|error| failed(format!("cannot rename {} to {}: {}", temporary.display(), path.display(), error)))
    }

    /// Makes `path` a symlink to `target`.
    pub fn symlink(&mut self, target: &Path, path: &Path) -> Result<()> {
        match fs::read_link(path) {
            Ok(existing) if existing == target => return Ok(()),
            Ok(existing) => {
                self.report("replace", "replaced", &format!("symlink {} -> {} (was -> {})", path.display(), target.display(), existing.display()));
                if !self.dry_run {
                    fs::remove_file(path).or_else(|error| failed(format!("cannot remove {}: {}", path.display(), error)))?;
                }
            }
            Err(_) if fs::symlink_metadata(path).is_ok() => {
                return failed(format!(
                    "{} exists but is not a symlink, while the host has a symlink to {} there; remove {} and run again",
                    path.display(),
                    target.display(),
                    path.display()
                ));
            }
            Err(_) => self.report("create", "created", &format!("symlink {} -> {}", path.display(), target.display())),
        }
        if self.dry_run {
            return Ok(());
        }
        std::os::unix::fs::symlink(target, path).or_else(|error| failed(format!("cannot create symlink {}: {}", path.display(), error)))?;
        std::os::unix::fs::lchown(path, Some(0), Some(0)).or_else(|error| failed(format!("cannot chown {}: {}", path.display(), error)))
    }

    /// Makes `path` a character device node `major:minor` with `mode`.
    pub fn char_device(&mut self, path: &Path, major: u32, minor: u32, mode: u32) -> Result<()> {
        let expected = libc::makedev(major, minor);
        if let Ok(metadata) = fs::symlink_metadata(path) {
            if metadata.file_type().is_char_device() && metadata.rdev() == expected {
                return self.ownership_and_mode(path, &metadata, mode, 0, 0);
            }
            self.report("replace", "replaced", &format!("{} with character device {}:{}", path.display(), major, minor));
            if !self.dry_run {
                fs::remove_file(path).or_else(|error| failed(format!("cannot remove {}: {}", path.display(), error)))?;
            }
        } else {
            self.report("create", "created", &format!("character device {} ({}:{}, mode {:04o})", path.display(), major, minor, mode));
        }
        if self.dry_run {
            return Ok(());
        }
        let name = CString::new(path.as_os_str().as_bytes()).expect("paths have no NUL byte");
        // SAFETY: name is a valid NUL-terminated string.
        if unsafe { libc::mknod(name.as_ptr(), libc::S_IFCHR | (mode & 0o777), expected) } != 0 {
            let error = std::io::Error::last_os_error();
            return failed(format!("mknod {} failed: {}. Run as root, on a filesystem that allows device nodes", path.display(), error));
        }
        set_root_mode(path, mode)
    }

    fn ownership_and_mode(&mut self, path: &Path, metadata: &fs::Metadata, mode: u32, uid: u32, gid: u32) -> Result<()> {
        let current = metadata.permissions().mode() & 0o7777;
        if metadata.uid() == uid && metadata.gid() == gid && current == mode {
            return Ok(());
        }
        self.report(
            "set",
            "set",
            &format!(
                "owner {}:{} and mode {:04o} on {} (was {}:{}, {:04o})",
                uid,
                gid,
                mode,
                path.display(),
                metadata.uid(),
                metadata.gid(),
                current
            ),
        );
        if self.dry_run {
            return Ok(());
        }
        set_owner_mode(path, mode, uid, gid)
    }
}

/// Sets owner root:root, then `mode`.
pub fn set_root_mode(path: &Path, mode: u32) -> Result<()> {
    set_owner_mode(path, mode, 0, 0)
}

/// Sets the owner, then `mode` (chown clears setuid bits, so it goes first).
pub fn set_owner_mode(path: &Path, mode: u32, uid: u32, gid: u32) -> Result<()> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .or_else(|error| failed(format!("cannot chown {} to {}:{}: {}", path.display(), uid, gid, error)))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .or_else(|error| failed(format!("cannot chmod {:04o} {}: {}", mode, path.display(), error)))
}

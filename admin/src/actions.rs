//! Filesystem changes that print what they do, or with --dry-run print
//! what they would do and change nothing. Every change is reported on
//! stdout as one line; a step that finds the file already right is silent.
//! A dry run remembers what it would have changed, so a path that several
//! steps reach is reported and counted once, as in the real run.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::ffi::CString;
use std::hash::{Hash, Hasher};
use std::fs;
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::args::{failed, Result};

/// The kind of file a dry run would have put at a path by now.
#[derive(Clone)]
enum Planned {
    Directory,
    /// A regular file, with a hash of its content.
    File(u64),
    Symlink(PathBuf),
    /// A character device, with its device number.
    Device(libc::dev_t),
}

pub struct Actions {
    pub dry_run: bool,
    pub changes: usize,
    /// In a dry run, the paths it would have created or replaced. A later
    /// step on the same path reads this map before the filesystem.
    planned: HashMap<PathBuf, Planned>,
    /// In a dry run, the owner and mode (uid, gid, mode) it would have set.
    planned_modes: HashMap<PathBuf, (u32, u32, u32)>,
}

impl Actions {
    pub fn new(dry_run: bool) -> Actions {
        Actions { dry_run, changes: 0, planned: HashMap::new(), planned_modes: HashMap::new() }
    }

    /// Returns whether `path` exists, or would exist by now in a dry run.
    pub fn exists(&self, path: &Path) -> bool {
        self.planned.contains_key(path) || fs::symlink_metadata(path).is_ok()
    }

    /// Records in a dry run what the real run would have made of `path`.
    fn plan(&mut self, path: &Path, planned: Planned, owner_mode: Option<(u32, u32, u32)>) {
        self.planned.insert(path.to_path_buf(), planned);
        if let Some(owner_mode) = owner_mode {
            self.planned_modes.insert(path.to_path_buf(), owner_mode);
        }
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
        let not_directory = || failed(format!("{} exists but is not a directory; remove it or choose another jail", path.display()));
        match self.planned.get(path) {
            Some(Planned::Directory) => return self.ownership_and_mode(path, None, mode, uid, gid),
            Some(_) => return not_directory(),
            None => {}
        }
        match fs::symlink_metadata(path) {
            Ok(metadata) if metadata.is_dir() => self.ownership_and_mode(path, Some(&metadata), mode, uid, gid),
            Ok(_) => not_directory(),
            Err(error) if error.kind() == ErrorKind::NotFound => {
                self.report("create", "created", &format!("directory {} (mode {:04o}, owner {}:{})", path.display(), mode, uid, gid));
                if self.dry_run {
                    self.plan(path, Planned::Directory, Some((uid, gid, mode)));
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
        let digest = content_hash(content);
        let not_file = || failed(format!("{} exists but is not a regular file; remove it and run again", path.display()));
        // Whether the file exists, and then whether its content is `content`.
        let existing = match self.planned.get(path) {
            Some(Planned::File(planned)) => Some((*planned == digest, None)),
            Some(_) => return not_file(),
            None => match fs::symlink_metadata(path) {
                Ok(metadata) if metadata.is_file() => Some((fs::read(path).map(|old| old == content).unwrap_or(false), Some(metadata))),
                Ok(_) => return not_file(),
                Err(_) => None,
            },
        };
        match existing {
            Some((true, metadata)) => return self.ownership_and_mode(path, metadata.as_ref(), mode, 0, 0),
            Some((false, _)) if !replace => {
                self.note(&format!("{} differs from its source; run with --update to replace it", path.display()));
                return Ok(());
            }
            Some((false, _)) => self.report("replace", "replaced", &format!("{} (content changed)", path.display())),
            None => self.report("create", "created", &format!("file {} (mode {:04o}, owner root)", path.display(), mode)),
        }
        if self.dry_run {
            self.plan(path, Planned::File(digest), Some((0, 0, mode)));
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
        // Ok(target) for a symlink, Err(true) when something else is there,
        // Err(false) when nothing is.
        let existing = match self.planned.get(path) {
            Some(Planned::Symlink(planned)) => Ok(planned.clone()),
            Some(_) => Err(true),
            None => fs::read_link(path).map_err(|_| fs::symlink_metadata(path).is_ok()),
        };
        match existing {
            Ok(existing) if existing == target => return Ok(()),
            Ok(existing) => {
                self.report("replace", "replaced", &format!("symlink {} -> {} (was -> {})", path.display(), target.display(), existing.display()));
                if !self.dry_run {
                    fs::remove_file(path).or_else(|error| failed(format!("cannot remove {}: {}", path.display(), error)))?;
                }
            }
            Err(true) => {
                return failed(format!(
                    "{} exists but is not a symlink, while the host has a symlink to {} there; remove {} and run again",
                    path.display(),
                    target.display(),
                    path.display()
                ));
            }
            Err(false) => self.report("create", "created", &format!("symlink {} -> {}", path.display(), target.display())),
        }
        if self.dry_run {
            self.plan(path, Planned::Symlink(target.to_path_buf()), None);
            return Ok(());
        }
        std::os::unix::fs::symlink(target, path).or_else(|error| failed(format!("cannot create symlink {}: {}", path.display(), error)))?;
        std::os::unix::fs::lchown(path, Some(0), Some(0)).or_else(|error| failed(format!("cannot chown {}: {}", path.display(), error)))
    }

    /// Makes `path` a character device node `major:minor` with `mode`.
    pub fn char_device(&mut self, path: &Path, major: u32, minor: u32, mode: u32) -> Result<()> {
        let expected = libc::makedev(major, minor);
        if let Some(Planned::Device(planned)) = self.planned.get(path) {
            if *planned == expected {
                return self.ownership_and_mode(path, None, mode, 0, 0);
            }
        }
        if let Ok(metadata) = fs::symlink_metadata(path) {
            if metadata.file_type().is_char_device() && metadata.rdev() == expected {
                return self.ownership_and_mode(path, Some(&metadata), mode, 0, 0);
            }
            self.report("replace", "replaced", &format!("{} with character device {}:{}", path.display(), major, minor));
            if !self.dry_run {
                fs::remove_file(path).or_else(|error| failed(format!("cannot remove {}: {}", path.display(), error)))?;
            }
        } else {
            self.report("create", "created", &format!("character device {} ({}:{}, mode {:04o})", path.display(), major, minor, mode));
        }
        if self.dry_run {
            self.plan(path, Planned::Device(expected), Some((0, 0, mode)));
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

    /// Sets owner and mode on an existing path. `metadata` is None for a
    /// path that only a dry run's plan contains.
    fn ownership_and_mode(&mut self, path: &Path, metadata: Option<&fs::Metadata>, mode: u32, uid: u32, gid: u32) -> Result<()> {
        let on_disk = metadata.map(|metadata| (metadata.uid(), metadata.gid(), metadata.permissions().mode() & 0o7777));
        let Some((current_uid, current_gid, current)) = self.planned_modes.get(path).copied().or(on_disk) else {
            return failed(format!("internal error: no owner and mode known for {}", path.display()));
        };
        if current_uid == uid && current_gid == gid && current == mode {
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
                current_uid,
                current_gid,
                current
            ),
        );
        if self.dry_run {
            self.planned_modes.insert(path.to_path_buf(), (uid, gid, mode));
            return Ok(());
        }
        set_owner_mode(path, mode, uid, gid)
    }
}

/// Returns a hash of a file's content, to tell whether a dry run would
/// write the same content to a path twice.
fn content_hash(content: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    content.hash(&mut hasher);
    hasher.finish()
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

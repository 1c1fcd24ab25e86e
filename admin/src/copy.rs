//! Copies host files into the jail at the same paths: programs with the
//! libraries and dynamic loader that `ldd` lists, script interpreters,
//! directory trees, and every symlink met on the way (such as Debian's
//! /bin -> usr/bin), so that a path resolves inside the jail as it does on
//! the host. Copies are owned by root, lose setuid and setgid bits and
//! group or other write permission.

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use crate::actions::Actions;
use crate::args::{failed, Result};

/// How many symlinks one path may pass through, as the kernel's limit (40).
const MAX_SYMLINKS: usize = 40;

pub struct Copier<'a> {
    pub jail: PathBuf,
    pub actions: &'a mut Actions,
    /// Replace jail files whose content differs from the host's.
    pub update: bool,
    done: HashSet<PathBuf>,
}

impl<'a> Copier<'a> {
    pub fn new(jail: &Path, actions: &'a mut Actions, update: bool) -> Copier<'a> {
        Copier { jail: jail.to_path_buf(), actions, update, done: HashSet::new() }
    }

    /// Returns where host path `path` (absolute) lies in the jail.
    pub fn in_jail(&self, path: &Path) -> PathBuf {
        self.jail.join(path.strip_prefix("/").unwrap_or(path))
    }

    /// Copies `program` (absolute, or a name looked up in PATH), the
    /// interpreter named by its `#!` line, and the libraries it needs.
    pub fn program(&mut self, program: &str) -> Result<()> {
        let path = find_program(program)?;
        let resolved = self.replicate(&path, 0)?;
        if !self.done.insert(resolved.clone()) {
            return Ok(());
        }
        if let Some(interpreter) = interpreter_of(&resolved) {
            self.program(&interpreter.to_string_lossy())?;
        }
        for library in libraries(&resolved) {
            self.replicate(&library, 0)?;
        }
        Ok(())
    }

    /// Copies the directory `dir` with everything below it, and the
    /// libraries of the ELF files in it (such as Perl's XS modules).
    pub fn tree(&mut self, dir: &Path) -> Result<()> {
        if !dir.is_absolute() {
            return failed(format!("--with-tree {}: not an absolute path; give the directory's full path", dir.display()));
        }
        let resolved = self.replicate(dir, 0)?;
        if !resolved.is_dir() {
            return failed(format!("--with-tree {}: not a directory; use --with for a single file", dir.display()));
        }
        let mut pending = vec![resolved];
        while let Some(current) = pending.pop() {
            let mut entries: Vec<PathBuf> = fs::read_dir(&current)
                .or_else(|error| failed(format!("cannot read directory {}: {}", current.display(), error)))?
                .flatten()
                .map(|entry| entry.path())
                .collect();
            entries.sort();
            for entry in entries {
                let metadata = fs::symlink_metadata(&entry)
                    .or_else(|error| failed(format!("cannot inspect {}: {}", entry.display(), error)))?;
                if metadata.is_dir() {
                    self.replicate(&entry, 0)?;
                    pending.push(entry);
                } else if metadata.is_file() && is_elf(&entry) {
                    self.program(&entry.to_string_lossy())?;
                } else if metadata.is_file() || metadata.file_type().is_symlink() {
                    self.replicate(&entry, 0)?;
                }
            }
        }
        Ok(())
    }

    /// Copies host path `path` into the jail, creating each missing
    /// directory and the same symlinks as on the host. Returns the host
    /// path with every symlink resolved.
    pub fn replicate(&mut self, path: &Path, depth: usize) -> Result<PathBuf> {
        if depth > MAX_SYMLINKS {
            return failed(format!("{}: more than {} symlinks to follow; check for a symlink loop", path.display(), MAX_SYMLINKS));
        }
        let components: Vec<Component> = path.components().collect();
        let mut resolved = PathBuf::from("/");
        for (index, component) in components.iter().enumerate() {
            let name = match component {
                Component::Normal(name) => name,
                Component::ParentDir => {
                    resolved.pop();
                    continue;
                }
                _ => continue,
            };
            let host = resolved.join(name);
            let last = index + 1 == components.len();
            let metadata = fs::symlink_metadata(&host)
                .or_else(|error| failed(format!("cannot copy {}: {} on the host: {}", path.display(), host.display(), error)))?;
            let target = self.in_jail(&host);
            if metadata.file_type().is_symlink() {
                let link = fs::read_link(&host).or_else(|error| failed(format!("cannot read symlink {}: {}", host.display(), error)))?;
                self.actions.symlink(&link, &target)?;
                let absolute = if link.is_absolute() { link } else { resolved.join(link) };
                resolved = self.replicate(&absolute, depth + 1)?;
            } else if metadata.is_dir() {
                let mode = if last { metadata.permissions().mode() & 0o755 } else { 0o755 };
                self.actions.directory(&target, mode)?;
                resolved = host;
            } else if last && metadata.is_file() {
                self.copy_file(&host, &target, &metadata)?;
                resolved = host;
            } else {
                return failed(format!("cannot copy {}: {} is not a directory, regular file or symlink", path.display(), host.display()));
            }
        }
        Ok(resolved)
    }

    fn copy_file(&mut self, host: &Path, target: &Path, metadata: &fs::Metadata) -> Result<()> {
        let host_mode = metadata.permissions().mode();
        // Drops setuid, setgid and sticky bits and write access for group and others.
        let mode = host_mode & 0o755;
        if host_mode & 0o6000 != 0 && !self.actions.exists(target) {
            self.actions.note(&format!("{} is setuid or setgid on the host; the copy in the jail is not", host.display()));
        }
        let content = fs::read(host).or_else(|error| failed(format!("cannot read {}: {}", host.display(), error)))?;
        self.actions.file(target, &content, mode, self.update)
    }
}

/// Returns `program` as an absolute path, searching PATH for a bare name.
pub fn find_program(program: &str) -> Result<PathBuf> {
    if program.starts_with('/') {
        if Path::new(program).exists() {
            return Ok(PathBuf::from(program));
        }
        return failed(format!("--with {}: no such file on the host; install its package or correct the path", program));
    }
    let search = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string());
    for dir in search.split(':').filter(|dir| dir.starts_with('/')) {
        let candidate = Path::new(dir).join(program);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    failed(format!("--with {}: not found in PATH ({}); give the program's absolute path", program, search))
}

/// Returns whether `path` starts with the ELF magic number.
pub fn is_elf(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    fs::File::open(path).and_then(|mut file| file.read_exact(&mut magic)).is_ok() && magic == *b"\x7fELF"
}

/// Returns the interpreter named by the `#!` line of a script, if any.
pub fn interpreter_of(path: &Path) -> Option<PathBuf> {
    let mut head = [0u8; 256];
    let count = fs::File::open(path).and_then(|mut file| file.read(&mut head)).ok()?;
    let line = head[..count].strip_prefix(b"#!")?;
    let line = line.split(|&byte| byte == b'\n').next()?;
    let text = String::from_utf8_lossy(line);
    let word = text.split_whitespace().next()?;
    word.starts_with('/').then(|| PathBuf::from(word))
}

/// Returns the libraries and the dynamic loader that `ldd` lists for
/// `path`; nothing for scripts and static programs. ldd runs the dynamic
/// loader on the file, so give it only programs you trust.
pub fn libraries(path: &Path) -> Vec<PathBuf> {
    let output = match Command::new("ldd").arg(path).output() {
        Ok(output) if output.status.success() => output,
        _ => return Vec::new(),
    };
    let mut found = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
        let path_part = line.split_once("=>").map_or(line, |(_, right)| right);
        if let Some(word) = path_part.split_whitespace().next().filter(|word| word.starts_with('/')) {
            found.push(PathBuf::from(word));
        }
    }
    found
}

//! The kernel's view of processes, read from /proc.

use std::fs;
use std::path::PathBuf;

/// One process as /proc shows it.
#[derive(Debug, Clone)]
pub struct ProcessInfo {
    pub pid: i32,
    pub parent: i32,
    /// Target of /proc/PID/root: the process's root directory.
    pub root: PathBuf,
    /// Target of /proc/PID/exe.
    pub exe: PathBuf,
    /// Real, effective, saved and file-system uid.
    pub uids: Vec<u32>,
    pub command: String,
}

impl ProcessInfo {
    pub fn read(pid: i32) -> Option<ProcessInfo> {
        let status = fs::read_to_string(format!("/proc/{}/status", pid)).ok()?;
        let field = |name: &str| -> Vec<u32> {
            status
                .lines()
                .find(|line| line.starts_with(name))
                .map(|line| line[name.len()..].split_whitespace().filter_map(|value| value.parse().ok()).collect())
                .unwrap_or_default()
        };
        let parent = *field("PPid:").first()? as i32;
        let command = fs::read(format!("/proc/{}/cmdline", pid))
            .map(|bytes| String::from_utf8_lossy(&bytes).replace('\0', " ").trim().to_string())
            .unwrap_or_default();
        Some(ProcessInfo {
            pid,
            parent,
            root: fs::read_link(format!("/proc/{}/root", pid)).ok()?,
            exe: fs::read_link(format!("/proc/{}/exe", pid)).unwrap_or_default(),
            uids: field("Uid:"),
            command,
        })
    }
}

/// Returns whether a process with this pid exists (and is not a zombie).
pub fn is_alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{}/stat", pid)) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

/// Returns every process on the machine.
pub fn all() -> Vec<ProcessInfo> {
    let mut processes = Vec::new();
    if let Ok(entries) = fs::read_dir("/proc") {
        for entry in entries.flatten() {
            if let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse().ok()) {
                if let Some(info) = ProcessInfo::read(pid) {
                    processes.push(info);
                }
            }
        }
    }
    processes
}

/// Returns `root` and all its descendants.
pub fn tree(root: i32) -> Vec<ProcessInfo> {
    let everything = all();
    let mut found: Vec<ProcessInfo> = everything.iter().filter(|info| info.pid == root).cloned().collect();
    let mut index = 0;
    while index < found.len() {
        let parent = found[index].pid;
        found.extend(everything.iter().filter(|info| info.parent == parent).cloned());
        index += 1;
    }
    found
}

/// Returns the pid of the process that owns the listening AF_UNIX socket
/// bound at a path ending in `suffix`, from /proc/net/unix and /proc/PID/fd.
pub fn unix_socket_holder(suffix: &str, candidates: &[i32]) -> Option<i32> {
    let table = fs::read_to_string("/proc/net/unix").ok()?;
    let inode = table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // Num RefCount Protocol Flags Type St Inode Path
        match fields.get(7) {
            Some(path) if path.ends_with(suffix) => fields.get(6).map(|inode| inode.to_string()),
            _ => None,
        }
    })?;
    let socket_link = format!("socket:[{}]", inode);
    candidates.iter().copied().find(|pid| {
        fs::read_dir(format!("/proc/{}/fd", pid))
            .map(|entries| {
                entries.flatten().any(|entry| {
                    fs::read_link(entry.path()).map(|target| target.to_string_lossy() == socket_link).unwrap_or(false)
                })
            })
            .unwrap_or(false)
    })
}

/// Sends `signal` to `pid`, ignoring a process that is already gone.
pub fn signal(pid: i32, signal: i32) {
    // SAFETY: kill has no memory-safety requirements.
    unsafe { libc::kill(pid, signal) };
}

/// Waits up to `seconds` for `pid` to exit; returns whether it did.
pub fn wait_gone(pid: i32, seconds: u64) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        if !is_alive(pid) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    !is_alive(pid)
}

/// Returns the open descriptors of `pid` with their targets, from /proc/PID/fd.
pub fn descriptors(pid: i32) -> Vec<(i32, PathBuf)> {
    let entries = match fs::read_dir(format!("/proc/{}/fd", pid)) {
        Ok(entries) => entries,
        Err(_) => return Vec::new(),
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let fd = entry.file_name().to_str().and_then(|name| name.parse().ok());
        if let (Some(fd), Ok(target)) = (fd, fs::read_link(entry.path())) {
            found.push((fd, target));
        }
    }
    found
}

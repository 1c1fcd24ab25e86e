//! Driving a running site through its lifecycle with apache2's own control
//! commands, and the checks made after every step: which processes are
//! confined, and what is left behind after a stop.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::apache::{describe, Running, Site};
use super::procs::{self, ProcessInfo};
use super::http;

/// The values of HTTPD_CHROOT_MODE.
pub const MODES: [&str; 2] = ["server", "children"];

/// The line every MPM logs when a generation starts serving.
const GENERATION_LINE: &str = "configured -- resuming normal operations";

impl Site {
    /// Selects the library's mode for this site.
    pub fn set_mode(&mut self, mode: &str) {
        self.set_env("HTTPD_CHROOT_MODE", mode);
    }

    /// Returns the mode this site runs in.
    pub fn mode(&self) -> &str {
        self.env.iter().find(|(name, _)| name == "HTTPD_CHROOT_MODE").map_or("server", |(_, value)| value.as_str())
    }

    /// Returns how many generations have started serving so far.
    pub fn generations(&self) -> usize {
        self.error_log().matches(GENERATION_LINE).count()
    }

    /// Returns the jail with symlinks resolved, as /proc shows it.
    pub fn canonical_jail(&self) -> PathBuf {
        fs::canonicalize(&self.jail).expect("canonical jail path")
    }

    /// Names of the shared memory objects, semaphores and System V
    /// semaphore sets that exist now, to compare before and after a run.
    pub fn ipc_snapshot() -> BTreeSet<String> {
        let mut names: BTreeSet<String> = fs::read_dir("/dev/shm")
            .map(|entries| entries.flatten().map(|entry| format!("/dev/shm/{}", entry.file_name().to_string_lossy())).collect())
            .unwrap_or_default();
        let sysv = fs::read_to_string("/proc/sysvipc/sem").unwrap_or_default();
        names.extend(sysv.lines().skip(1).filter_map(|line| line.split_whitespace().nth(1)).map(|id| format!("semid {}", id)));
        names
    }
}

impl Running<'_> {
    /// Runs `apache2 -k <action>` with the site's configuration and
    /// environment, as apachectl does, and checks that it succeeded.
    pub fn control(&self, action: &str) {
        let output = self.site.command(&["-k", action]).output().expect("run apache2 -k");
        assert!(output.status.success(), "apache2 -k {} failed: {}\n{}", action, describe(&output), self.site.report());
    }

    /// Sends a restart with `action` (graceful or restart) and waits until
    /// the next generation serves.
    pub fn restart_with(&self, action: &str) {
        let before = self.site.generations();
        self.control(action);
        self.wait_generation(before + 1);
    }

    /// Waits until `count` generations have started and a request succeeds.
    pub fn wait_generation(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if self.site.generations() >= count && http::get(self.site.port, "/").map_or(false, |r| r.status == 200) {
                return;
            }
            assert!(Instant::now() < deadline, "generation {} did not serve within 20 s\n{}", count, self.site.report());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Checks the invariant of every lifecycle step: no server process that
    /// dropped root privileges runs outside the jail or has a directory
    /// outside it; in server mode the parent works in the jail too.
    pub fn check_confined(&self, step: &str) {
        let jail = self.site.canonical_jail();
        let processes = self.httpd_processes();
        assert!(processes.len() >= 2, "{}: expected the parent and children: {:?}", step, processes);
        let mut problems = Vec::new();

        for process in &processes {
            if process.pid == self.parent {
                let expected = if self.site.mode() == "server" { jail.clone() } else { PathBuf::from("/") };
                if process.root != expected {
                    problems.push(format!("parent {} has root {}", process.pid, process.root.display()));
                }
                continue;
            }
            if process.uids.iter().all(|&uid| uid == 0) {
                continue;
            }
            problems.extend(outside_view(process, &jail));
        }
        assert!(problems.is_empty(), "{}: {}\n{:#?}\n{}", step, problems.join("; "), processes, self.site.report());
    }

    /// Returns the directories outside the jail that the daemon parent has
    /// open, as /proc shows them.
    pub fn parent_outside_directories(&self) -> Vec<PathBuf> {
        directory_descriptors(self.parent).into_iter().filter(|path| !path.starts_with(self.site.canonical_jail())).collect()
    }

    /// Stops the server with `apache2 -k <action>` (stop or graceful-stop)
    /// and waits until every process it started has exited.
    pub fn stop_with(mut self, action: &str) {
        let processes = self.processes();
        self.control(action);
        let mut left = Vec::new();
        for process in &processes {
            if !procs::wait_gone(process.pid, 20) {
                left.push(process.clone());
            }
        }
        self.mark_stopped();
        for process in &left {
            procs::signal(process.pid, libc::SIGKILL);
        }
        assert!(left.is_empty(), "processes left after -k {}: {:?}\n{}", action, left, self.site.report());
    }
}

/// Returns what places `process` outside `jail`: its root, its working
/// directory, or an open directory.
fn outside_view(process: &ProcessInfo, jail: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    if process.root != jail {
        problems.push(format!("pid {} ({:?}) has root {}", process.pid, process.uids, process.root.display()));
    }
    if let Ok(cwd) = fs::read_link(format!("/proc/{}/cwd", process.pid)) {
        if !cwd.starts_with(jail) {
            problems.push(format!("pid {} has working directory {}", process.pid, cwd.display()));
        }
    }
    for directory in directory_descriptors(process.pid) {
        if !directory.starts_with(jail) {
            problems.push(format!("pid {} has directory {} open", process.pid, directory.display()));
        }
    }
    problems
}

/// Returns the directories that `pid` has open, as host paths.
pub fn directory_descriptors(pid: i32) -> Vec<PathBuf> {
    let mut directories = Vec::new();
    let entries = match fs::read_dir(format!("/proc/{}/fd", pid)) {
        Ok(entries) => entries,
        Err(_) => return directories,
    };
    for entry in entries.flatten() {
        let is_directory = fs::metadata(entry.path()).map(|metadata| metadata.is_dir()).unwrap_or(false);
        if is_directory {
            if let Ok(target) = fs::read_link(entry.path()) {
                directories.push(target);
            }
        }
    }
    directories
}

/// Returns the files under `dir` (recursively), as paths.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && !path.is_symlink() {
                found.extend(files_under(&path));
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// Serializes the tests of one test binary that compare what exists
/// machine-wide (shared memory, semaphores) before and after a run.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Checks that a stopped site left nothing behind: no pidfile, no mod_cgid
/// socket, no file under `lock_dirs`, and no shared memory object or
/// semaphore that did not exist before it started.
pub fn assert_nothing_left(site: &Site, before: &BTreeSet<String>, lock_dirs: &[PathBuf]) {
    let mut left = Vec::new();
    if site.pidfile.exists() {
        left.push(format!("pidfile {}", site.pidfile.display()));
    }
    for file in files_under(&site.jail.join("run")) {
        if file.file_name().map_or(false, |name| name.to_string_lossy().starts_with("cgisock")) {
            left.push(format!("mod_cgid socket {}", file.display()));
        }
    }
    for dir in lock_dirs {
        left.extend(files_under(dir).iter().map(|file| format!("lock file {}", file.display())));
    }
    left.extend(Site::ipc_snapshot().difference(before).cloned());
    assert!(left.is_empty(), "left behind after the stop: {:?}\n{}", left, site.report());
}

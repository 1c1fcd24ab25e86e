//! `CoreDumpDirectory` under the jail, in both modes: a child that crashes
//! writes its core file into that directory, seen from inside the jail, and
//! the daemon parent logs the host path.

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::apache::{describe, uid_of, Site, RUN_USER};
use common::procs;

/// Returns why core files cannot be checked on this machine, if they cannot.
fn core_dumps_unavailable() -> Option<String> {
    let pattern = fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    let pattern = pattern.trim();
    if pattern.starts_with('|') {
        return Some(format!("kernel.core_pattern pipes core files to a program ({})", pattern));
    }
    if pattern.contains('/') {
        return Some(format!("kernel.core_pattern names a directory ({}), not the working directory", pattern));
    }
    None
}

/// Returns the regular files directly in `dir` whose names contain `core`,
/// as the usual core_pattern values ("core", "core.%p", "%e.core") make them.
fn core_files(dir: &Path) -> Vec<PathBuf> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(_) => return Vec::new(),
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_file() && entry.file_name().to_string_lossy().contains("core") {
            found.push(path);
        }
    }
    found
}

/// Starts prefork with RLIMIT_CORE raised and `CoreDumpDirectory` in the
/// jail, sends SIGSEGV to a child running as the run user, and checks where
/// its core file lands.
fn crashed_child_dumps_core(mode: &str) {
    let test = format!("crash-dumps-{}", mode);
    if !common::can_run_servers(&test) {
        return;
    }
    if let Some(reason) = core_dumps_unavailable() {
        eprintln!("skipping {}: {}", test, reason);
        return;
    }
    let mut site = Site::new(&test, "prefork");
    site.set_mode(mode);
    let cores = site.scratch.dir("jail/cores", 0o700);
    let run_uid = uid_of(RUN_USER);
    std::os::unix::fs::chown(&cores, Some(run_uid), Some(run_uid)).expect("chown the core directory");
    site.extra.push(format!("CoreDumpDirectory {}", cores.display()));
    site.write_config();

    let output = site
        .wrapped_command(&["prlimit", "--core=unlimited", "--"], &["-k", "start"])
        .output()
        .expect("run prlimit apache2 -k start");
    assert!(output.status.success(), "apache2 -k start failed: {}\n{}", describe(&output), site.report());
    let server = site.wait_ready();
    server.check_confined("start");

    // mod_cgid's daemon runs as the run user too, but is no MPM child.
    let candidates: Vec<i32> = server.httpd_processes().iter().map(|process| process.pid).collect();
    let cgid_daemon = procs::unix_socket_holder(&format!("/run/cgisock.{}", server.parent), &candidates)
        .unwrap_or_else(|| panic!("no server process holds mod_cgid's socket\n{}", server.site.report()));
    let child = server
        .httpd_processes()
        .into_iter()
        .find(|process| {
            process.pid != server.parent && process.pid != cgid_daemon && process.uids.iter().all(|&uid| uid == run_uid)
        })
        .unwrap_or_else(|| panic!("no child runs as {}\n{}", RUN_USER, site.report()));
    let limits = fs::read_to_string(format!("/proc/{}/limits", child.pid)).unwrap_or_default();
    assert!(
        limits.lines().any(|line| line.starts_with("Max core file size") && line.contains("unlimited")),
        "prlimit did not raise RLIMIT_CORE of child {}:\n{}",
        child.pid,
        limits
    );

    procs::signal(child.pid, libc::SIGSEGV);
    assert!(procs::wait_gone(child.pid, 10), "child {} survived SIGSEGV", child.pid);
    let logged = format!(
        "child pid {} exit signal Segmentation fault (11), possible coredump in {}",
        child.pid,
        cores.display()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !site.error_log().contains(&logged) {
        assert!(Instant::now() < deadline, "the parent did not log {:?} within 10 s\n{}", logged, site.report());
        std::thread::sleep(Duration::from_millis(50));
    }

    let written = core_files(&cores);
    assert_eq!(written.len(), 1, "expected one core file in {}: {:?}\n{}", cores.display(), written, site.report());
    let metadata = fs::metadata(&written[0]).expect("core file metadata");
    assert!(metadata.len() > 0, "empty core file {}", written[0].display());
    assert_eq!(metadata.uid(), run_uid, "core file {} is not owned by {}", written[0].display(), RUN_USER);
    // Without the chdir(2) to CoreDumpDirectory, the kernel writes the core
    // into the child's working directory, the jail's root.
    let misplaced = core_files(&site.jail);
    assert!(misplaced.is_empty(), "core file in the jail's root instead: {:?}", misplaced);

    // The parent replaces the crashed child and keeps serving.
    let response = common::http::get(site.port, "/").expect("GET / after the crash");
    assert_eq!(response.status, 200, "after the crash: {:?}", response);
    server.check_confined("after the crash");
    server.stop_with("stop");
}

#[test]
fn server_mode() {
    crashed_child_dumps_core("server");
}

#[test]
fn children_mode() {
    crashed_child_dumps_core("children");
}

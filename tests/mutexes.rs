//! httpd's cross-process mutexes in the jail, in both modes. Every `Mutex`
//! mechanism, with its lock files under the jail, serves the accept mutex
//! (worker and prefork with two listeners) and mod_ssl's session cache
//! through graceful and full restarts, and leaves nothing behind.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use common::apache::{Running, Site};
use common::library_lines;
use common::lifecycle::{assert_nothing_left, files_under, serial};
use common::procs::descriptors;
use common::tls_listener::{add_tls_listener, check_plain_and_tls, have_tls_tools};

/// The `Mutex` mechanisms of httpd 2.4 on Linux, where "default" writes no
/// `Mutex` line. "file" selects fcntl on Linux, because server/util_mutex.c
/// checks fcntl before flock. The default is pthread in Debian 12's build
/// (`apache2 -V` shows APR_USE_PROC_PTHREAD_SERIALIZE).
const MECHANISMS: [&str; 7] = ["default", "file", "flock", "fcntl", "posixsem", "sysvsem", "pthread"];

/// Returns the `Mutex` line for `mechanism`, with lock files in `lock_dir`
/// for the mechanisms that use files.
fn mutex_line(mechanism: &str, lock_dir: &Path) -> Option<String> {
    match mechanism {
        "default" => None,
        "file" | "flock" | "fcntl" => Some(format!("Mutex {}:{} default", mechanism, lock_dir.display())),
        _ => Some(format!("Mutex {} default", mechanism)),
    }
}

/// Checks, from /proc, that the kernel objects of `mechanism` exist while
/// the server runs. pthread and the default leave no trace outside the
/// processes' shared memory, so they are not checked here.
fn check_mechanism_in_use(server: &Running<'_>, mechanism: &str, lock_dir: &Path, before: &BTreeSet<String>) {
    let site = server.site;
    let processes = server.httpd_processes();
    let evidence = match mechanism {
        // flock files stay in the directory, because children reopen them by path.
        "flock" => !files_under(lock_dir).is_empty(),
        // fcntl files are removed right after creation and used through an inherited descriptor.
        "file" | "fcntl" => {
            let canonical = fs::canonicalize(lock_dir).expect("canonical lock directory");
            processes.iter().any(|process| {
                descriptors(process.pid)
                    .iter()
                    .any(|(_, file)| file.starts_with(&canonical) && file.to_string_lossy().ends_with(" (deleted)"))
            })
        }
        "sysvsem" => Site::ipc_snapshot().difference(before).any(|name| name.starts_with("semid ")),
        // glibc maps a POSIX semaphore from /dev/shm/sem.NAME, which APR unlinks right away.
        "posixsem" => processes.iter().any(|process| {
            fs::read_to_string(format!("/proc/{}/maps", process.pid)).unwrap_or_default().contains("/dev/shm/sem.")
        }),
        _ => true,
    };
    assert!(evidence, "{}: no sign of Mutex {} in /proc\n{:#?}\n{}", mechanism, mechanism, processes, site.report());
}

/// Runs one site per mechanism through start, graceful, restart and stop.
fn every_mechanism(mpm: &'static str, mode: &str) {
    let test = format!("mutexes-{}-{}", mpm, mode);
    if !common::can_run_servers(&test) || !have_tls_tools(&test) {
        return;
    }
    let _serial = serial();
    for mechanism in MECHANISMS {
        let mut site = Site::new(&format!("{}-{}", test, mechanism), mpm);
        site.set_mode(mode);
        let tls_port = add_tls_listener(&mut site);
        let lock_dir = site.scratch.dir("jail/run/lock", 0o755);
        site.extra.extend(mutex_line(mechanism, &lock_dir));
        let before = Site::ipc_snapshot();

        let server = site.start();
        check_mechanism_in_use(&server, mechanism, &lock_dir, &before);
        check_plain_and_tls(&site, tls_port, &format!("{} start", mechanism));
        server.check_confined(&format!("{} start", mechanism));
        for action in ["graceful", "restart"] {
            let step = format!("{} {}", mechanism, action);
            server.restart_with(action);
            check_plain_and_tls(&site, tls_port, &step);
            server.check_confined(&step);
        }
        check_mechanism_in_use(&server, mechanism, &lock_dir, &before);

        server.stop_with("stop");
        assert_nothing_left(&site, &before, &[lock_dir]);
        let log = site.error_log();
        assert!(library_lines(&log, "error").is_empty(), "{}: library errors:\n{}", mechanism, log);
    }
}

#[test]
fn worker_server_mode() {
    every_mechanism("worker", "server");
}

#[test]
fn worker_children_mode() {
    every_mechanism("worker", "children");
}

#[test]
fn prefork_server_mode() {
    every_mechanism("prefork", "server");
}

#[test]
fn prefork_children_mode() {
    every_mechanism("prefork", "children");
}

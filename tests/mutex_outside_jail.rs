//! A `Mutex flock:` directory outside the jail. The daemon parent creates
//! the lock files there, and jailed processes cannot reopen them by path.
//! Wherever a child reopens one inside the jail (prefork's accept mutex in
//! server mode, mod_ssl's session cache mutex in both modes), the library
//! logs the fix and the child exits, so the server stops without serving.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use common::apache::{describe, Site};
use common::lifecycle::{files_under, serial};
use common::procs::{self, ProcessInfo};
use common::tls_listener::{add_tls_listener, have_tls_tools};
use common::{free_port, http, library_lines, APACHE2};

/// Returns the httpd processes running with `site`'s configuration, found
/// by command line, since the daemon parent may exit before its pidfile is
/// read.
fn processes_of(site: &Site) -> Vec<ProcessInfo> {
    let config = site.config.display().to_string();
    procs::all()
        .into_iter()
        .filter(|process| process.exe.as_os_str() == APACHE2 && process.command.contains(&config))
        .collect()
}

/// Kills, on drop, every process still running with the site's
/// configuration, so that a failed check leaves no server behind.
struct KillLeftovers<'a>(&'a Site);

impl Drop for KillLeftovers<'_> {
    fn drop(&mut self) {
        for process in processes_of(self.0) {
            procs::signal(process.pid, libc::SIGKILL);
        }
    }
}

/// Returns the status of a plain `GET /` on `port`, or None when no
/// response arrives within a second. Unlike http::get, it does not wait
/// 30 s on a listener whose children never accept.
fn probe_status(port: u16) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    stream.write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    text.split_whitespace().nth(1)?.parse().ok()
}

/// Returns the library's error lines that name `lock_dir`, the jail and the fix.
fn lock_file_errors(site: &Site, lock_dir: &Path) -> Vec<String> {
    let log = site.error_log();
    let fix = format!("\"Mutex flock:{}/run/lock default\"", site.jail.display());
    library_lines(&log, "error")
        .into_iter()
        .filter(|line| line.contains(&format!("cannot open {}/", lock_dir.display())) && line.contains(&fix))
        .map(str::to_string)
        .collect()
}

/// Starts `site` with `Mutex flock:<lock_dir>` and checks that it stops
/// without serving on any of `ports`, with the library's error line naming
/// the lock file `marker` and the fix, and with nothing left behind.
fn check_stops(site: &Site, ports: &[u16], lock_dir: &Path, marker: &str) {
    let _serial = serial();
    let before = Site::ipc_snapshot();
    site.write_config();
    let _cleanup = KillLeftovers(site);

    // -k start returns once the daemon has detached, before its children fail.
    let output = site.command(&["-k", "start"]).output().expect("run apache2 -k start");
    assert!(output.status.success(), "apache2 -k start failed: {}\n{}", describe(&output), site.report());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        for &port in ports {
            let status = probe_status(port);
            assert_ne!(status, Some(200), "port {} served with the lock file outside the jail\n{}", port, site.report());
        }
        let running = processes_of(site);
        // AH00050: Child N returned a Fatal error... Apache is exiting!
        if running.is_empty() && site.error_log().contains("AH00050") {
            break;
        }
        assert!(Instant::now() < deadline, "httpd still runs 20 s after the start: {:#?}\n{}", running, site.report());
        std::thread::sleep(Duration::from_millis(100));
    }

    let log = site.error_log();
    let errors = lock_file_errors(site, lock_dir);
    assert!(errors.iter().any(|line| line.contains(marker)), "no library error line naming the fix:\n{}", log);
    assert!(errors.iter().all(|line| line.contains("This process exits")), "error lines: {:#?}", errors);
    for &port in ports {
        assert!(!http::is_listening(port), "port {} is still bound", port);
    }

    // A fatal child makes the MPM return without removing the pidfile, with
    // or without the library, so only the lock files and IPC objects are
    // checked.
    assert!(files_under(lock_dir).is_empty(), "lock files left: {:?}", files_under(lock_dir));
    let left: Vec<String> = Site::ipc_snapshot().difference(&before).cloned().collect();
    assert!(left.is_empty(), "IPC objects left: {:?}", left);
}

/// In server mode prefork's children start in the jail and cannot reopen
/// the accept mutex's lock file outside it (httpd's own AH00155).
#[test]
fn accept_mutex_stops_prefork() {
    let test = "mutex-outside-server";
    if !common::can_run_servers(test) {
        return;
    }
    let mut site = Site::new(test, "prefork");
    site.set_mode("server");
    let second_port = free_port();
    let lock_dir = site.scratch.dir("locks", 0o755);
    site.extra.push(format!("Listen 127.0.0.1:{}", second_port));
    site.extra.push(format!("Mutex flock:{} default", lock_dir.display()));
    check_stops(&site, &[site.port, second_port], &lock_dir, "/mpm-accept");
}

/// mod_ssl reopens its session cache mutex in its child_init hook, after
/// the child entered the jail. On its own, mod_ssl would log AH02024 and
/// keep the descriptor inherited from the parent, and the children would
/// not exclude one another, because flock(2) locks belong to the open file.
fn ssl_cache_mutex_outside_jail(mpm: &'static str, mode: &str) {
    let test = format!("mutex-outside-{}-{}", mpm, mode);
    if !common::can_run_servers(&test) || !have_tls_tools(&test) {
        return;
    }
    let mut site = Site::new(&test, mpm);
    site.set_mode(mode);
    let tls_port = add_tls_listener(&mut site);
    let lock_dir = site.scratch.dir("locks", 0o755);
    site.extra.push(format!("Mutex flock:{} default", lock_dir.display()));
    check_stops(&site, &[site.port, tls_port], &lock_dir, "/ssl-cache.");
}

/// event has no accept mutex, so in server mode only mod_ssl's cache mutex
/// is reopened in the jail.
#[test]
fn ssl_cache_mutex_server_mode() {
    ssl_cache_mutex_outside_jail("event", "server");
}

/// prefork's children reopen the accept mutex before they drop root and
/// enter the jail in children mode, so only mod_ssl's cache mutex fails.
#[test]
fn ssl_cache_mutex_children_mode() {
    ssl_cache_mutex_outside_jail("prefork", "children");
}

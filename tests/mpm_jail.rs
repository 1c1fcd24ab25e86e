//! Debian's apache2, started with the library on each MPM, serves from the
//! jail: checked through /proc, HTTP requests and the error log.

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;

use common::apache::{uid_of, Site, RUN_USER};
use common::{http, procs};

fn serves_from_jail(mpm: &'static str) {
    let test = format!("{}-serves", mpm);
    if !common::can_run_servers(&test) {
        return;
    }
    let site = Site::new(&test, mpm);
    site.add_cgi();
    let server = site.start();
    let jail = fs::canonicalize(&site.jail).expect("canonical jail path");
    let run_uid = uid_of(RUN_USER);

    // The kernel's view: every httpd process has the jail as its root.
    let processes = server.httpd_processes();
    assert!(processes.len() >= 3, "expected the parent, children and mod_cgid's daemon: {:?}", processes);
    for process in &processes {
        assert_eq!(process.root, jail, "root of pid {} ({})", process.pid, process.command);
    }
    let parent = processes.iter().find(|process| process.pid == server.parent).expect("parent in the tree");
    assert_eq!(parent.uids, vec![0; 4], "the daemon parent keeps root");
    for child in processes.iter().filter(|process| process.pid != server.parent) {
        assert_eq!(child.uids, vec![run_uid; 4], "pid {} runs as {}", child.pid, RUN_USER);
    }

    // mod_cgid's daemon was forked before the parent entered the jail.
    let pids: Vec<i32> = processes.iter().map(|process| process.pid).collect();
    let cgid = procs::unix_socket_holder(&format!("/run/cgisock.{}", server.parent), &pids)
        .expect("a server process holds mod_cgid's socket");
    let cgid = processes.iter().find(|process| process.pid == cgid).expect("cgid daemon in the tree");
    assert_eq!(cgid.root, jail, "root of mod_cgid's daemon");
    assert_eq!(cgid.uids, vec![run_uid; 4], "mod_cgid's daemon runs as {}", RUN_USER);

    // DocumentRoot written as a host path under the jail.
    let index = http::get(site.port, "/index.html").expect("GET /index.html");
    assert_eq!(index.status, 200, "GET /index.html: {:?}", index);
    assert!(index.body.contains(&format!("index {}", site.token)), "body of /index.html: {:?}", index.body);

    // A path that exists only inside the jail.
    let marker = http::get(site.port, "/marker.txt").expect("GET /marker.txt");
    assert_eq!(marker.status, 200, "GET /marker.txt: {:?}", marker);
    assert!(marker.body.contains(&format!("jailed {}", site.token)), "body of /marker.txt: {:?}", marker.body);

    // An Alias to a host file outside the jail is not reachable.
    let outside = http::get(site.port, "/outside.txt").expect("GET /outside.txt");
    assert_eq!(outside.status, 404, "GET /outside.txt: {:?}", outside);
    assert!(!outside.body.contains(&format!("outside {}", site.token)), "host file leaked: {:?}", outside.body);

    // A CGI script runs inside the jail, as the run user.
    let cgi = http::get(site.port, "/cgi-bin/probe.cgi").expect("GET /cgi-bin/probe.cgi");
    assert_eq!(cgi.status, 200, "GET /cgi-bin/probe.cgi: {:?}", cgi);
    assert!(cgi.body.contains("root=jail"), "CGI output: {:?}", cgi.body);
    let trace = fs::metadata(site.jail.join(format!("tmp/cgi-ran-{}", site.token))).expect("file the CGI created");
    assert_eq!(trace.uid(), run_uid, "owner of the file the CGI created");

    // The library's line in httpd's error log names the jail and the parent.
    let log = site.error_log();
    let entered = format!("entered jail {} in the daemon parent (pid {})", jail.display(), server.parent);
    assert!(log.contains(&entered), "error log lacks {:?}", entered);
    assert!(log.contains("before setgid() dropped root privileges"), "error log lacks the cgid daemon's jail entry");
    assert!(!log.contains("libgcc_s"), "a child failed to load the unwinder");

    server.stop();
}

#[test]
fn event_mpm_serves_from_jail() {
    serves_from_jail("event");
}

#[test]
fn worker_mpm_serves_from_jail() {
    serves_from_jail("worker");
}

#[test]
fn prefork_mpm_serves_from_jail() {
    serves_from_jail("prefork");
}

/// Recycles threaded children after every connection. Their threads end with
/// pthread_exit, for which glibc loads libgcc_s.so.1 on first use. The jail
/// has no copy, so the library keeps it loaded by linking it.
fn recycled_children_exit_cleanly(mpm: &'static str) {
    let test = format!("{}-recycle", mpm);
    if !common::can_run_servers(&test) {
        return;
    }
    let mut site = Site::new(&test, mpm);
    site.extra.push("MaxConnectionsPerChild 1".to_string());
    let server = site.start();
    let jail = fs::canonicalize(&site.jail).expect("canonical jail path");

    for attempt in 0..12 {
        let response = http::get(site.port, "/index.html").expect("GET /index.html");
        assert_eq!(response.status, 200, "request {}: {:?}", attempt, response);
    }
    for process in server.httpd_processes() {
        assert_eq!(process.root, jail, "root of pid {} ({})", process.pid, process.command);
    }
    server.stop();

    let log = site.error_log();
    assert!(!log.contains("libgcc_s"), "a child failed to load the unwinder:\n{}", log);
    assert!(!log.contains("exit signal"), "a child died from a signal:\n{}", log);
}

#[test]
fn event_children_exit_cleanly() {
    recycled_children_exit_cleanly("event");
}

#[test]
fn worker_children_exit_cleanly() {
    recycled_children_exit_cleanly("worker");
}

//! The whole server lifecycle on each MPM and in both modes: start,
//! graceful and full restarts that change the configuration, graceful-stop
//! and stop. After every step, no process that dropped root privileges
//! runs outside the jail or has a directory outside it open; after the stop,
//! nothing is left behind.

mod common;

use std::fs;
use std::path::PathBuf;

use common::apache::{Running, Site};
use common::lifecycle::{assert_nothing_left, serial};
use common::{http, write_file};

/// Requests `path`, checks for status 200 and returns the body.
fn body(site: &Site, path: &str) -> String {
    let response = http::get(site.port, path).unwrap_or_else(|error| panic!("GET {}: {}", path, error));
    assert_eq!(response.status, 200, "GET {}: {:?}\n{}", path, response, site.report());
    response.body
}

/// Checks that the CGI script runs inside the jail.
fn check_cgi(site: &Site, step: &str) {
    let answer = body(site, "/cgi-bin/probe.cgi");
    assert!(answer.contains("root=jail"), "{}: CGI answer {:?}", step, answer);
}

/// Returns the access log lines written with the format `name`.
fn access_lines(site: &Site, name: &str) -> Vec<String> {
    let log = fs::read_to_string(site.logs.join("access.log")).unwrap_or_default();
    log.lines().filter(|line| line.ends_with(name)).map(str::to_string).collect()
}

/// In server mode the jailed parent has only the host's root, the
/// working directory it had there, and /dev/shm.
fn check_parent_directories(server: &Running<'_>, step: &str) {
    if server.site.mode() != "server" {
        return;
    }
    let allowed = [PathBuf::from("/"), PathBuf::from("/dev/shm")];
    let open = server.parent_outside_directories();
    assert!(open.iter().all(|dir| allowed.contains(dir)), "{}: parent has {:?} open", step, open);
}

fn whole_lifecycle(mpm: &'static str, mode: &str, stop: &str) {
    let test = format!("lifecycle-{}-{}", mpm, mode);
    if !common::can_run_servers(&test) {
        return;
    }
    let _serial = serial();
    let mut site = Site::new(&test, mpm);
    site.set_mode(mode);
    site.add_cgi();
    site.extra.push("LogFormat \"%U first\" first".to_string());
    site.extra.push(format!("CustomLog {}/access.log first", site.logs.display()));
    let before = Site::ipc_snapshot();

    let server = site.start();
    server.check_confined("start");
    check_parent_directories(&server, "start");
    check_cgi(&site, "start");
    body(&site, "/index.html");
    assert_eq!(access_lines(&site, "first").len(), 3, "access log of the first generation");

    // A graceful restart picks up a new Alias and LogFormat.
    write_file(&site.jail.join("www/second.txt"), "second generation\n", 0o644);
    site.write_config_with(&[
        format!("Alias /second {}/www/second.txt", site.jail.display()),
        "LogFormat \"%U second\" first".to_string(),
    ]);
    server.restart_with("graceful");
    server.check_confined("graceful");
    check_parent_directories(&server, "graceful");
    assert_eq!(body(&site, "/second"), "second generation\n");
    check_cgi(&site, "graceful");
    assert!(access_lines(&site, "second").iter().any(|line| line.starts_with("/second")), "new LogFormat");

    // A full restart picks up another change and forks new children.
    site.write_config_with(&[format!("Alias /third {}/www/second.txt", site.jail.display())]);
    server.restart_with("restart");
    server.check_confined("restart");
    check_parent_directories(&server, "restart");
    assert_eq!(body(&site, "/third"), "second generation\n");
    let second = http::get(site.port, "/second").expect("GET /second");
    assert_eq!(second.status, 404, "the Alias removed by the restart");
    check_cgi(&site, "restart");

    server.stop_with(stop);
    assert_nothing_left(&site, &before, &[]);
    let log = site.error_log();
    assert!(!log.contains("AH00095"), "the pidfile could not be removed:\n{}", log);
    assert!(!log.contains("[httpd-chroot:error]"), "library errors:\n{}", log);
}

#[test]
fn event_server_mode() {
    whole_lifecycle("event", "server", "stop");
}

#[test]
fn event_children_mode() {
    whole_lifecycle("event", "children", "graceful-stop");
}

#[test]
fn worker_server_mode() {
    whole_lifecycle("worker", "server", "graceful-stop");
}

#[test]
fn worker_children_mode() {
    whole_lifecycle("worker", "children", "stop");
}

#[test]
fn prefork_server_mode() {
    whole_lifecycle("prefork", "server", "stop");
}

#[test]
fn prefork_children_mode() {
    whole_lifecycle("prefork", "children", "graceful-stop");
}

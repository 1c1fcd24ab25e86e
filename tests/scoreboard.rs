//! A named scoreboard (`ScoreBoardFile`) in both modes: httpd keeps it in a
//! POSIX shared memory object, which the jailed daemon parent creates and
//! removes in the host's /dev/shm.

mod common;

use std::collections::BTreeSet;

use common::apache::Site;
use common::library_lines;
use common::lifecycle::{assert_nothing_left, serial};

/// Checks that a shared memory object created since `before` exists in the
/// host's /dev/shm. Without `ScoreBoardFile` httpd uses anonymous memory.
fn check_scoreboard_exists(site: &Site, before: &BTreeSet<String>, step: &str) {
    let created: Vec<String> = Site::ipc_snapshot().difference(before).cloned().collect();
    let in_dev_shm = created.iter().any(|name| name.starts_with("/dev/shm/"));
    assert!(in_dev_shm, "{}: no scoreboard in /dev/shm: {:?}\n{}", step, created, site.report());
}

/// Runs a site with a named scoreboard through both restarts: the
/// scoreboard is a POSIX shared memory object in the host's /dev/shm,
/// named after the configured path, and is removed at the stop.
fn named_scoreboard(mode: &str) {
    let test = format!("scoreboard-{}", mode);
    if !common::can_run_servers(&test) {
        return;
    }
    let _serial = serial();
    let mut site = Site::new(&test, "event");
    site.set_mode(mode);
    site.extra.push(format!("ScoreBoardFile {}/run/apache_runtime_status", site.jail.display()));
    let before = Site::ipc_snapshot();

    let server = site.start();
    server.check_confined("start");
    check_scoreboard_exists(&site, &before, "start");
    for action in ["graceful", "restart"] {
        server.restart_with(action);
        server.check_confined(action);
        check_scoreboard_exists(&site, &before, action);
    }

    server.stop_with("stop");
    assert_nothing_left(&site, &before, &[]);
    let log = site.error_log();
    assert!(library_lines(&log, "error").is_empty(), "library errors:\n{}", log);
}

#[test]
fn named_scoreboard_server_mode() {
    named_scoreboard("server");
}

#[test]
fn named_scoreboard_children_mode() {
    named_scoreboard("children");
}

//! What the library writes to httpd's error log at the default level, and
//! the warning for an AF_UNIX socket that jailed processes cannot reach.

mod common;

use common::apache::Site;

#[test]
fn info_level_logs_one_line_per_jail_entry_and_exit() {
    if !common::can_run_servers("info-level") {
        return;
    }
    let mut site = Site::new("info-level", "event");
    site.set_env("HTTPD_CHROOT_LOG", "info");
    let server = site.start();
    let parent = server.parent;
    server.stop();

    let log = site.error_log();
    let lines = common::library_lines(&log, "");
    assert_eq!(lines.len(), 3, "entries of the parent and mod_cgid's daemon, the parent's exit: {:#?}", lines);
    for line in &lines {
        assert!(line.contains("[httpd-chroot:info] [pid "), "line: {}", line);
    }
    let entries: Vec<_> = lines.iter().filter(|line| line.contains(&format!("entered jail {}", site.jail.display()))).collect();
    assert_eq!(entries.len(), 2, "{:#?}", lines);
    assert!(lines.iter().any(|line| line.contains(&format!("in the daemon parent (pid {})", parent))), "{:#?}", lines);
    let exit = format!("the daemon parent (pid {}) left the jail because it removes its pidfile to stop", parent);
    assert!(lines.last().map_or(false, |line| line.contains(&exit)), "{:#?}", lines);
}

#[test]
fn script_socket_outside_jail_is_reported() {
    if !common::can_run_servers("socket-outside") {
        return;
    }
    let mut site = Site::new("socket-outside", "event");
    let socket = site.scratch.dir("outside-run", 0o755).join("cgisock");
    site.extra.push(format!("ScriptSock {}", socket.display()));
    let server = site.start();
    let parent = server.parent;
    server.stop();

    let log = site.error_log();
    let lines = common::library_lines(&log, "");
    let warnings = common::library_lines(&log, "warn");
    let warning = warnings.first().unwrap_or_else(|| panic!("no warning among {:#?}", lines));
    let bound = format!("AF_UNIX socket {}.{} is bound outside the jail", socket.display(), parent);
    assert!(warning.contains(&bound), "warning lacks {:?}: {}", bound, warning);
    let remedy = format!("ScriptSock {}/run/cgisock", site.jail.display());
    assert!(warning.contains(&remedy), "warning lacks {:?}: {}", remedy, warning);
}

//! Debian's modules that run code or read files after the jail is entered,
//! in both modes: CGI through mod_cgid (event, worker) and mod_cgi
//! (prefork), mod_status, mod_autoindex, mod_rewrite with a text map, and a
//! piped logger. Every site goes through a graceful and a full restart, with
//! the confinement check after each step, and must leave nothing behind.

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::apache::{uid_of, Running, Site, RUN_USER};
use common::lifecycle::{assert_nothing_left, serial};
use common::procs::{self, ProcessInfo};
use common::{copy_program, http, write_file};

/// Requests `path` and returns the body of its 200 response.
fn body(site: &Site, path: &str) -> String {
    let response = http::get(site.port, path).unwrap_or_else(|error| panic!("GET {}: {}", path, error));
    assert_eq!(response.status, 200, "GET {}: {:?}\n{}", path, response, site.report());
    response.body
}

/// Calls `check` every 100 ms until it returns a value, for at most 20 s.
/// Returns None when the time runs out.
fn wait_for<T>(mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Adds CGI scripts besides the shell probe: one that prints its uid and
/// gid with /usr/bin/id, and a Perl script that prints its real and
/// effective uid and whether the jail's marker is at its root.
fn add_cgi_scripts(site: &Site) {
    site.add_cgi();
    copy_program(&site.jail, "/usr/bin/id");
    copy_program(&site.jail, "/usr/bin/perl");
    let id = "#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho \"uid=$(id -u) gid=$(id -g)\"\n";
    write_file(&site.jail.join("www/cgi-bin/id.cgi"), id, 0o755);
    let perl = format!(
        "#!/usr/bin/perl\n\
         print \"Content-Type: text/plain\\n\\n\";\n\
         print \"uid=$< euid=$>\\n\";\n\
         print -e '/marker-{}.txt' ? \"root=jail\\n\" : \"root=host\\n\";\n",
        site.token
    );
    write_file(&site.jail.join("www/cgi-bin/perl.cgi"), &perl, 0o755);
}

/// Checks that each CGI script runs in the jail as the run user.
fn check_cgi(site: &Site, step: &str) {
    let uid = uid_of(RUN_USER);
    let trace = site.jail.join(format!("tmp/cgi-ran-{}", site.token));
    let _ = fs::remove_file(&trace);

    let probe = body(site, "/cgi-bin/probe.cgi");
    assert!(probe.contains("root=jail"), "{}: shell CGI output {:?}", step, probe);
    let owner = fs::metadata(&trace).unwrap_or_else(|error| panic!("{}: file the CGI creates: {}", step, error)).uid();
    assert_eq!(owner, uid, "{}: owner of the file the CGI created", step);

    let id = body(site, "/cgi-bin/id.cgi");
    assert_eq!(id.trim(), format!("uid={0} gid={0}", uid), "{}: id.cgi output", step);

    let perl = body(site, "/cgi-bin/perl.cgi");
    assert_eq!(perl, format!("uid={0} euid={0}\nroot=jail\n", uid), "{}: Perl CGI output", step);
}

/// Returns mod_cgid's daemon, the process that owns the socket
/// `<ScriptSock>.<parent pid>`.
fn cgid_daemon(server: &Running<'_>) -> Option<ProcessInfo> {
    let processes = server.httpd_processes();
    let pids: Vec<i32> = processes.iter().map(|process| process.pid).collect();
    let holder = procs::unix_socket_holder(&format!("/run/cgisock.{}", server.parent), &pids)?;
    processes.into_iter().find(|process| process.pid == holder)
}

/// Waits for mod_cgid's daemon to be a process other than `replaced`,
/// checks that it is in the jail as the run user, and returns its pid.
fn check_cgid_daemon(server: &Running<'_>, step: &str, replaced: i32) -> i32 {
    let daemon = wait_for(|| cgid_daemon(server).filter(|found| found.pid != replaced)).unwrap_or_else(|| {
        panic!("{}: no server process but {} owns mod_cgid's socket\n{}", step, replaced, server.site.report())
    });
    assert_eq!(daemon.root, server.site.canonical_jail(), "{}: root of mod_cgid's daemon {}", step, daemon.pid);
    assert_eq!(daemon.uids, vec![uid_of(RUN_USER); 4], "{}: uids of mod_cgid's daemon {}", step, daemon.pid);
    daemon.pid
}

fn cgi_lifecycle(mpm: &'static str, mode: &str) {
    let test = format!("modules-cgi-{}-{}", mpm, mode);
    if !common::can_run_servers(&test) {
        return;
    }
    let _serial = serial();
    let mut site = Site::new(&test, mpm);
    site.set_mode(mode);
    let cgid = mpm != "prefork";
    if !cgid {
        site.modules.retain(|module| module != "cgid");
        site.modules.push("cgi".to_string());
    }
    add_cgi_scripts(&site);
    let before = Site::ipc_snapshot();

    let server = site.start();
    server.check_confined("start");
    check_cgi(&site, "start");
    let mut daemon = if cgid { check_cgid_daemon(&server, "start", 0) } else { 0 };

    for action in ["graceful", "restart"] {
        server.restart_with(action);
        server.check_confined(action);
        check_cgi(&site, action);
        if cgid {
            // mod_cgid starts a new daemon in every generation. In server mode
            // the parent forks it outside the jail, which it leaves at restarts.
            daemon = check_cgid_daemon(&server, action, daemon);
        }
    }

    if cgid {
        // The parent forks a new daemon when it notices the old one died.
        // In server mode it does so from inside the jail.
        procs::signal(daemon, libc::SIGKILL);
        check_cgid_daemon(&server, "daemon killed", daemon);
        server.check_confined("daemon killed");
        check_cgi(&site, "daemon killed");
    }

    server.stop_with("stop");
    assert_nothing_left(&site, &before, &[]);
    let log = site.error_log();
    assert!(!log.contains("[httpd-chroot:error]"), "library errors:\n{}", log);
}

#[test]
fn cgid_event_server_mode() {
    cgi_lifecycle("event", "server");
}

#[test]
fn cgid_event_children_mode() {
    cgi_lifecycle("event", "children");
}

#[test]
fn cgid_worker_server_mode() {
    cgi_lifecycle("worker", "server");
}

#[test]
fn cgid_worker_children_mode() {
    cgi_lifecycle("worker", "children");
}

#[test]
fn cgi_prefork_server_mode() {
    cgi_lifecycle("prefork", "server");
}

#[test]
fn cgi_prefork_children_mode() {
    cgi_lifecycle("prefork", "children");
}

/// Parses the `Name: value` lines of `/server-status?auto`.
fn status_field(status: &str, name: &str) -> Option<String> {
    let prefix = format!("{}: ", name);
    status.lines().find_map(|line| line.strip_prefix(&prefix)).map(str::to_string)
}

/// Requests `/server-status?auto` until `stop` is set. Returns how many
/// full status pages came back, and the other responses and errors.
fn poll_status(port: u16, stop: &AtomicBool) -> (usize, Vec<String>) {
    let mut pages = 0;
    let mut failures = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        match http::get(port, "/server-status?auto") {
            Ok(response) if response.status == 200 && response.body.contains("Scoreboard: ") => pages += 1,
            Ok(response) => failures.push(format!("{:?}", response)),
            Err(error) => failures.push(error),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (pages, failures)
}

/// Checks mod_status, a mod_autoindex listing of a jail directory, and a
/// mod_rewrite rule whose `txt:` map the children read at request time.
fn check_status_listing_rewrite(site: &Site, step: &str, map_target: &str) {
    let status = body(site, "/server-status?auto");
    assert_eq!(status_field(&status, "ServerMPM").as_deref(), Some(site.mpm), "{}: status {:?}", step, status);
    let uptime = status_field(&status, "ServerUptimeSeconds").and_then(|value| value.parse::<u64>().ok());
    assert!(uptime.is_some(), "{}: no ServerUptimeSeconds in {:?}", step, status);
    let scoreboard = status_field(&status, "Scoreboard").unwrap_or_default();
    assert!(scoreboard.contains('W'), "{}: no worker serves this request in {:?}", step, scoreboard);

    let listing = body(site, "/listing/");
    assert!(listing.contains("Index of /listing"), "{}: listing {:?}", step, listing);
    for entry in [format!("alpha-{}.txt", site.token), "beta.txt".to_string(), "sub/".to_string()] {
        assert!(listing.contains(&format!("href=\"{}\"", entry)), "{}: {} missing from {:?}", step, entry, listing);
    }

    assert_eq!(body(site, "/page/home"), format!("{} {}\n", map_target, site.token), "{}: rewritten page", step);
}

/// Writes the rewrite map, and gives it a new modification time so that
/// mod_rewrite, which caches a map until its time changes, reads it again.
fn write_map(site: &Site, target: &str, age_seconds: u64) {
    let map = site.jail.join("maps/pages.txt");
    write_file(&map, &format!("# key target\nhome {}.txt\n", target), 0o644);
    let time = std::time::SystemTime::now() - Duration::from_secs(age_seconds);
    fs::File::options().write(true).open(&map).and_then(|file| file.set_modified(time)).expect("set map time");
}

fn status_listing_rewrite(mode: &str) {
    let test = format!("modules-status-{}", mode);
    if !common::can_run_servers(&test) {
        return;
    }
    let _serial = serial();
    let mut site = Site::new(&test, "worker");
    site.set_mode(mode);
    site.modules.extend(["status", "autoindex", "rewrite"].map(str::to_string));
    let jail = site.jail.display().to_string();
    site.extra.extend([
        "ExtendedStatus On".to_string(),
        "<Location /server-status>\n    SetHandler server-status\n</Location>".to_string(),
        format!("<Directory {}/www/listing>\n    Options +Indexes\n</Directory>", jail),
        "RewriteEngine On".to_string(),
        format!("RewriteMap pages txt:{}/maps/pages.txt", jail),
        "RewriteRule ^/page/(.*)$ /${pages:$1|missing.txt} [PT]".to_string(),
    ]);
    write_file(&site.jail.join(format!("www/listing/alpha-{}.txt", site.token)), "alpha\n", 0o644);
    write_file(&site.jail.join("www/listing/beta.txt"), "beta\n", 0o644);
    site.scratch.dir("jail/www/listing/sub", 0o755);
    for target in ["first", "second", "third"] {
        write_file(&site.jail.join(format!("www/{}.txt", target)), &format!("{} {}\n", target, site.token), 0o644);
    }
    write_map(&site, "first", 60);
    let before = Site::ipc_snapshot();

    let server = site.start();
    server.check_confined("start");
    check_status_listing_rewrite(&site, "start", "first");

    // A changed map is read again without a restart.
    write_map(&site, "second", 30);
    check_status_listing_rewrite(&site, "map changed", "second");

    for (action, target) in [("graceful", "third"), ("restart", "first")] {
        let stop = AtomicBool::new(false);
        let (pages, failures) = std::thread::scope(|scope| {
            let poller = scope.spawn(|| poll_status(site.port, &stop));
            write_map(&site, target, 0);
            server.restart_with(action);
            stop.store(true, Ordering::SeqCst);
            poller.join().expect("status poller")
        });
        assert!(pages > 0, "{}: no status page during the restart: {:?}", action, failures);
        // The listeners stay open across restarts, so a graceful restart
        // serves every request. A full restart kills the children and may
        // drop the requests they were serving, as it does without the library.
        if action == "graceful" {
            assert!(failures.is_empty(), "{}: status requests failed: {:?}\n{}", action, failures, site.report());
        }
        server.check_confined(action);
        check_status_listing_rewrite(&site, action, target);
    }

    server.stop_with("graceful-stop");
    assert_nothing_left(&site, &before, &[]);
}

#[test]
fn status_listing_rewrite_server_mode() {
    status_listing_rewrite("server");
}

#[test]
fn status_listing_rewrite_children_mode() {
    status_listing_rewrite("children");
}

/// Returns what rotatelogs wrote to the site's `access.*` files.
fn rotated_log(site: &Site) -> String {
    let mut text = String::new();
    for entry in fs::read_dir(&site.logs).expect("read the log directory").flatten() {
        if entry.file_name().to_string_lossy().starts_with("access.") {
            text.push_str(&fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    text
}

/// Makes a request marked with `step` and waits until the piped logger has
/// written its line.
fn check_piped_log(server: &Running<'_>, step: &str) {
    let site = server.site;
    let path = format!("/index.html?step={}-{}", step, site.token);
    body(site, &path);
    let line = format!("\"GET {} HTTP/1.0\" 200", path);
    let written = wait_for(|| rotated_log(site).contains(&line).then_some(()));
    assert!(written.is_some(), "{}: {:?} not logged\n{}\n{}", step, line, rotated_log(site), site.report());

    assert!(!loggers(server).is_empty(), "{}: no rotatelogs process under the parent: {:#?}", step, server.processes());
}

/// Returns the pids of the site's rotatelogs processes.
fn loggers(server: &Running<'_>) -> Vec<i32> {
    let processes = server.processes().into_iter();
    processes.filter(|process| process.exe.ends_with("rotatelogs")).map(|process| process.pid).collect()
}

/// Runs a site whose access log is piped to rotatelogs through a graceful
/// and a full restart. With `kill_logger`, it then kills rotatelogs, which
/// the parent must start again.
fn piped_logger(mode: &str, kill_logger: bool) {
    let test = format!("modules-piped-log-{}", mode);
    if !common::can_run_servers(&test) {
        return;
    }
    let _serial = serial();
    let mut site = Site::new(&test, "event");
    site.set_mode(mode);
    site.extra.push("LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b\" common".to_string());
    let logger = format!("/usr/bin/rotatelogs {}/access.%Y%m%d.log 86400", site.logs.display());
    site.extra.push(format!("CustomLog \"|{}\" common", logger));
    let before = Site::ipc_snapshot();

    let server = site.start();
    server.check_confined("start");
    check_piped_log(&server, "start");
    for action in ["graceful", "restart"] {
        server.restart_with(action);
        server.check_confined(action);
        check_piped_log(&server, action);
    }

    if kill_logger {
        // When the parent reaps a dead piped logger, httpd starts it again
        // (piped_log_maintenance in server/log.c).
        let killed = loggers(&server);
        for &pid in &killed {
            procs::signal(pid, libc::SIGKILL);
        }
        let replaced = |now: &Vec<i32>| !now.is_empty() && now.iter().all(|pid| !killed.contains(pid));
        let respawned = wait_for(|| Some(loggers(&server)).filter(replaced));
        assert!(respawned.is_some(), "rotatelogs {:?} was not started again\n{}", killed, site.report());
        check_piped_log(&server, "logger-killed");
    }

    server.stop_with("stop");
    assert_nothing_left(&site, &before, &[]);
}

#[test]
fn piped_logger_server_mode() {
    piped_logger("server", false);
}

#[test]
fn piped_logger_children_mode() {
    piped_logger("children", false);
}

#[test]
fn piped_logger_respawn_server_mode() {
    piped_logger("server", true);
}

#[test]
fn piped_logger_respawn_children_mode() {
    piped_logger("children", true);
}

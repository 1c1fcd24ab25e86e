//! Ways of starting and running httpd that the jail must not change:
//! foreground mode, a named scoreboard, a pidfile inside the jail, piped
//! loggers, control commands and the time zone of log lines.

mod common;

use std::fs;
use std::process::{Command, Stdio};

use common::apache::{describe, Site};
use common::{http, procs};

fn jail_of(site: &Site) -> std::path::PathBuf {
    fs::canonicalize(&site.jail).expect("canonical jail path")
}

#[test]
fn foreground_parent_enters_jail() {
    if !common::can_run_servers("foreground") {
        return;
    }
    let site = Site::new("foreground", "event");
    site.write_config();
    let mut child = site
        .command(&["-DFOREGROUND"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn apache2 -DFOREGROUND");
    let server = site.wait_ready();

    assert_eq!(server.parent, child.id() as i32, "without detaching, the started process is the parent");
    for process in server.httpd_processes() {
        assert_eq!(process.root, jail_of(&site), "root of pid {}", process.pid);
    }
    let page = http::get(site.port, "/marker.txt").expect("GET /marker.txt");
    assert_eq!(page.status, 200, "GET /marker.txt: {:?}", page);

    server.stop();
    let status = child.wait().expect("wait for apache2");
    assert!(status.success(), "apache2 -DFOREGROUND exited with {}", status);
}

#[test]
fn scoreboard_file_lives_in_host_shm() {
    if !common::can_run_servers("scoreboard") {
        return;
    }
    let mut site = Site::new("scoreboard", "worker");
    site.extra.push(format!("ScoreBoardFile {}/run/scoreboard", site.jail.display()));
    let shm_objects = || -> Vec<String> {
        fs::read_dir("/dev/shm")
            .expect("list /dev/shm")
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().to_string())
            .filter(|name| name.starts_with("ShM."))
            .collect()
    };
    let before = shm_objects();

    let server = site.start();
    let created: Vec<String> = shm_objects().into_iter().filter(|name| !before.contains(name)).collect();
    assert_eq!(created.len(), 1, "one named scoreboard in the host's /dev/shm, found {:?}", created);
    for process in server.httpd_processes() {
        assert_eq!(process.root, jail_of(&site), "root of pid {}", process.pid);
    }
    let page = http::get(site.port, "/index.html").expect("GET /index.html");
    assert_eq!(page.status, 200, "GET /index.html: {:?}", page);

    server.stop();
    assert!(!shm_objects().contains(&created[0]), "scoreboard {} removed at stop", created[0]);
}

#[test]
fn pidfile_inside_jail_works() {
    if !common::can_run_servers("pidfile-inside") {
        return;
    }
    let mut site = Site::new("pidfile-inside", "prefork");
    site.pidfile = site.jail.join("run/httpd.pid");
    let server = site.start();

    for process in server.httpd_processes() {
        assert_eq!(process.root, jail_of(&site), "root of pid {}", process.pid);
    }
    let log = site.error_log();
    assert!(log.contains(&format!("after it published pidfile {}", site.pidfile.display())), "error log: {}", log);
    server.stop();
}

#[test]
fn piped_logger_stays_outside_jail() {
    if !common::can_run_servers("piped-logger") {
        return;
    }
    let mut site = Site::new("piped-logger", "event");
    let access_log = site.logs.join("access_log");
    site.extra.push(format!("CustomLog \"|/usr/bin/rotatelogs -f {} 86400\" \"%h %U%q %>s\"", access_log.display()));
    let server = site.start();

    let page = http::get(site.port, &format!("/index.html?{}", site.token)).expect("GET /index.html");
    assert_eq!(page.status, 200, "GET /index.html: {:?}", page);
    let loggers: Vec<_> = server.processes().into_iter().filter(|info| info.command.contains("rotatelogs")).collect();
    assert!(!loggers.is_empty(), "rotatelogs runs under the parent: {:?}", server.processes());
    for logger in &loggers {
        assert_eq!(logger.root, std::path::PathBuf::from("/"), "piped logger {} stays outside the jail", logger.pid);
    }

    // rotatelogs appends the start time of the period to the file name.
    let logged = || {
        fs::read_dir(&site.logs).expect("list logs").flatten().any(|entry| {
            entry.file_name().to_string_lossy().starts_with("access_log")
                && fs::read_to_string(entry.path()).unwrap_or_default().contains(&site.token)
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !logged() {
        assert!(std::time::Instant::now() < deadline, "request not logged to {}.*", access_log.display());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    server.stop();
}

#[test]
fn stop_command_ignores_unusable_settings() {
    if !common::can_run_servers("stop-command") {
        return;
    }
    let mut site = Site::new("stop-command", "event");
    let server = site.start();
    let parent = server.parent;
    std::mem::forget(server);

    site.set_env("HTTPD_CHROOT_DIR", "/nonexistent/jail");
    let output = site.command(&["-k", "stop"]).output().expect("run apache2 -k stop");
    assert!(output.status.success(), "apache2 -k stop: {}", describe(&output));
    assert!(!String::from_utf8_lossy(&output.stderr).contains("httpd-chroot"), "stop stays silent: {}", describe(&output));
    assert!(procs::wait_gone(parent, 20), "server {} stopped", parent);
}

#[test]
fn config_test_checks_jail() {
    if !common::can_run_servers("config-test") {
        return;
    }
    let mut site = Site::new("config-test", "event");
    site.write_config();
    let good = site.command(&["-t"]).output().expect("run apache2 -t");
    assert!(good.status.success(), "apache2 -t with a usable jail: {}", describe(&good));

    let missing = site.scratch.path.join("missing");
    site.set_env("HTTPD_CHROOT_DIR", &missing.display().to_string());
    let bad = site.command(&["-t"]).output().expect("run apache2 -t");
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "apache2 -t with a missing jail: {}", describe(&bad));
    assert!(stderr.contains(&format!("HTTPD_CHROOT_DIR={}", missing.display())), "stderr: {}", stderr);
    assert!(stderr.contains("ENOENT"), "stderr: {}", stderr);
}

#[test]
fn children_keep_host_time_zone() {
    if !common::can_run_servers("time-zone") {
        return;
    }
    // A private mount namespace gives this server a host zone other than the
    // machine's, and the jail has no zone data at all.
    const ZONE: &str = "Asia/Kathmandu";
    let mut site = Site::new("time-zone", "prefork");
    site.extra.extend(
        [
            "LoadModule status_module /usr/lib/apache2/modules/mod_status.so",
            "<Location /server-status>\nSetHandler server-status\n</Location>",
            // One child serves every request, so the log line below comes
            // from the child that formatted the status page.
            "StartServers 1\nMinSpareServers 1\nMaxSpareServers 1\nServerLimit 1\nMaxRequestWorkers 1",
        ]
        .map(String::from),
    );
    site.write_config();

    let zone_file = format!("/usr/share/zoneinfo/{}", ZONE);
    let wrapper = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        "mount --bind \"$0\" /etc/localtime && exec \"$@\"",
        &zone_file,
    ];
    let output = site.wrapped_command(&wrapper, &["-k", "start"]).output().expect("run unshare apache2");
    assert!(output.status.success(), "start in a mount namespace: {}", describe(&output));
    let server = site.wait_ready();

    let date = |format: &str| {
        let output = Command::new("date").env("TZ", ZONE).arg(format).output().expect("run date");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    let before = date("+%H:%M:");

    // mod_status formats the time with strftime(3), which calls tzset().
    let status = http::get(site.port, "/server-status").expect("GET /server-status");
    assert_eq!(status.status, 200, "GET /server-status: {:?}", status);
    let abbreviation = date("+%Z");
    assert!(status.body.contains(&abbreviation), "status page shows zone {}: {}", abbreviation, status.body);

    let missing = http::get(site.port, "/no-such-file").expect("GET /no-such-file");
    assert_eq!(missing.status, 404, "GET /no-such-file: {:?}", missing);
    let after = date("+%H:%M:");
    let log = site.error_log();
    let line = log.lines().find(|line| line.contains("AH00128")).expect("the child logged AH00128");
    assert!(
        line.contains(&format!(" {}", before)) || line.contains(&format!(" {}", after)),
        "timestamp in {:?} should be in {} ({} or {})",
        line,
        ZONE,
        before,
        after
    );
    server.stop();
}

//! The commands Debian admins use, with the library set up the way an admin
//! sets it up: exported from apachectl's envvars file. apache2ctl start,
//! graceful and restart, the init script's reload, a log rotation with
//! Debian's logrotate rule, and apache2ctl stop, in both modes.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::apache::{describe, Running, Site};
use common::lifecycle::{assert_nothing_left, serial};
use common::{http, library, write_file};

/// A Debian-style configuration directory for apache2ctl and the init
/// script: apache2.conf with the site's configuration, and envvars.
struct ConfDir {
    path: PathBuf,
}

impl ConfDir {
    fn new(site: &Site) -> ConfDir {
        let path = site.scratch.dir("apache2", 0o755);
        let envvars = format!(
            "# Written by the test, in the shape of Debian's /etc/apache2/envvars.\n\
             export APACHE_RUN_USER=www-data\n\
             export APACHE_RUN_GROUP=www-data\n\
             export APACHE_PID_FILE={pidfile}\n\
             export APACHE_RUN_DIR={scratch}/run\n\
             export APACHE_LOCK_DIR={scratch}/lock\n\
             export APACHE_LOG_DIR={logs}\n\
             export LANG=C\n\
             export LD_PRELOAD={library}\n\
             export HTTPD_CHROOT_DIR={jail}\n\
             export HTTPD_CHROOT_MODE={mode}\n",
            pidfile = site.pidfile.display(),
            scratch = site.scratch.path.display(),
            logs = site.logs.display(),
            library = library().display(),
            jail = site.jail.display(),
            mode = site.mode(),
        );
        write_file(&path.join("envvars"), &envvars, 0o644);
        ConfDir { path }
    }

    /// Writes the site's configuration where apache2ctl reads it.
    fn write_config(&self, site: &Site, more: &[String]) {
        site.write_config_with(more);
        fs::copy(&site.config, self.path.join("apache2.conf")).expect("copy the configuration");
    }

    /// Runs `program args` with an empty environment but for PATH and
    /// APACHE_CONFDIR, as the init script runs apache2ctl.
    fn run(&self, program: &str, args: &[&str], site: &Site) {
        let output = Command::new(program)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .env("APACHE_CONFDIR", &self.path)
            .output()
            .unwrap_or_else(|error| panic!("run {}: {}", program, error));
        assert!(output.status.success(), "{} {:?} failed: {}\n{}", program, args, describe(&output), site.report());
    }
}

/// Debian's /etc/logrotate.d/apache2 rule for `log`, whose postrotate
/// action reloads the server through the init script as invoke-rc.d does.
fn logrotate_rule(log: &Path, conf: &ConfDir) -> String {
    format!(
        "{log} {{\n\
         \trotate 14\n\
         \tcompress\n\
         \tdelaycompress\n\
         \tnotifempty\n\
         \tcreate 640 root adm\n\
         \tsharedscripts\n\
         \tpostrotate\n\
         \t\tAPACHE_CONFDIR={conf} /etc/init.d/apache2 reload > /dev/null\n\
         \tendscript\n\
         }}\n",
        log = log.display(),
        conf = conf.path.display()
    )
}

fn request(site: &Site, path: &str) {
    let response = http::get(site.port, path).unwrap_or_else(|error| panic!("GET {}: {}", path, error));
    assert_eq!(response.status, 200, "GET {}: {:?}\n{}", path, response, site.report());
}

fn count_in(path: &Path, needle: &str) -> usize {
    fs::read_to_string(path).unwrap_or_default().matches(needle).count()
}

fn admin_commands(mode: &str) {
    let test = format!("admin-commands-{}", mode);
    if !common::can_run_servers(&test) {
        return;
    }
    let _serial = serial();
    let mut site = Site::new(&test, "event");
    site.set_mode(mode);
    site.extra.push(format!("CustomLog {}/access.log \"%U%q\"", site.logs.display()));
    let conf = ConfDir::new(&site);
    conf.write_config(&site, &[]);
    let before: BTreeSet<String> = Site::ipc_snapshot();

    conf.run("apache2ctl", &["start"], &site);
    let server: Running<'_> = site.wait_ready();
    server.check_confined("apache2ctl start");

    let generation = site.generations();
    conf.write_config(&site, &[format!("Alias /graceful {}/www/index.html", site.jail.display())]);
    conf.run("apache2ctl", &["graceful"], &site);
    server.wait_generation(generation + 1);
    server.check_confined("apache2ctl graceful");
    request(&site, "/graceful");

    conf.run("apache2ctl", &["restart"], &site);
    server.wait_generation(generation + 2);
    server.check_confined("apache2ctl restart");

    conf.run("/etc/init.d/apache2", &["reload"], &site);
    server.wait_generation(generation + 3);
    server.check_confined("init script reload");

    // Rotation: the old file keeps what was logged before the reload, and
    // the server writes to the new file afterwards.
    request(&site, "/index.html?before-rotation");
    let access = site.logs.join("access.log");
    let rule = site.scratch.path.join("logrotate.conf");
    write_file(&rule, &logrotate_rule(&access, &conf), 0o644);
    let state = site.scratch.path.join("logrotate.state");
    let output = Command::new("logrotate").arg("-f").arg("-s").arg(&state).arg(&rule).output().expect("run logrotate");
    assert!(output.status.success(), "logrotate failed: {}\n{}", describe(&output), site.report());
    server.wait_generation(generation + 4);
    server.check_confined("logrotate");
    request(&site, "/index.html?after-rotation");
    let rotated = site.logs.join("access.log.1");
    assert_eq!(count_in(&rotated, "?before-rotation"), 1, "rotated log {}", rotated.display());
    assert_eq!(count_in(&rotated, "?after-rotation"), 0, "the server still writes to the rotated file");
    assert_eq!(count_in(&access, "?after-rotation"), 1, "new log {}", access.display());

    let processes = server.processes();
    conf.run("apache2ctl", &["stop"], &site);
    for process in &processes {
        assert!(common::procs::wait_gone(process.pid, 20), "pid {} still runs after apache2ctl stop", process.pid);
    }
    drop(server);
    assert_nothing_left(&site, &before, &[]);
    assert!(!site.error_log().contains("[httpd-chroot:error]"), "library errors:\n{}", site.error_log());
}

#[test]
fn debian_commands_in_server_mode() {
    admin_commands("server");
}

#[test]
fn debian_commands_in_children_mode() {
    admin_commands("children");
}

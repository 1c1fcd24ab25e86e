//! `httpd-chroot-admin install` and `uninstall` on a copy of Debian's real
//! /etc/apache2/envvars and on a RHEL-style sysconfig file, and a dry run on
//! the real envvars. The last test copies Debian's packaged configuration to
//! a scratch APACHE_CONFDIR on a loopback port and starts it with
//! apache2ctl in a jail built by the admin program. It serves the default
//! site and a Perl CGI. System files are only read, and the tests check
//! that they did not change.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::admin::{admin_expect, admin_program, outcome, run_admin, snapshot, PidfileGuard};
use common::{free_port, http, library, token, write_file, Scratch};

const ENVVARS: &str = "/etc/apache2/envvars";

fn install_args<'a>(env_file: &'a str, jail: &'a str, dest: &'a str, library: &'a str) -> Vec<&'a str> {
    vec!["install", "--env-file", env_file, "--jail", jail, "--dest", dest, "--library", library]
}

#[test]
fn install_round_trip_on_debian_envvars() {
    if !common::can_run_servers("admin-install-debian") {
        return;
    }
    let scratch = Scratch::new("admin-install-debian");
    let jail = scratch.dir("jail", 0o755);
    let envvars = scratch.path.join("envvars");
    fs::copy(ENVVARS, &envvars).expect("copy Debian's envvars");
    let original = fs::read(&envvars).unwrap();
    let dest = scratch.path.join("lib/httpd-chroot/libhttpd_chroot.so");
    let library = library();
    let mut args = install_args(envvars.to_str().unwrap(), jail.to_str().unwrap(), dest.to_str().unwrap(), library.to_str().unwrap());
    args.extend(["--mode", "children", "--log", "debug", "--audit"]);

    let stdout = admin_expect(&args, 0);
    let installed = fs::read_to_string(&envvars).unwrap();
    for line in [
        format!("export LD_PRELOAD={}", dest.display()),
        format!("export HTTPD_CHROOT_DIR={}", jail.display()),
        "export HTTPD_CHROOT_MODE=children".to_string(),
        "export HTTPD_CHROOT_LOG=debug".to_string(),
        "export HTTPD_CHROOT_AUDIT=1".to_string(),
    ] {
        assert!(installed.lines().any(|existing| existing == line), "missing {:?} in:\n{}", line, installed);
        assert!(stdout.contains(&format!("+ {}", line)), "output does not show {:?}:\n{}", line, stdout);
    }
    assert!(installed.starts_with(std::str::from_utf8(&original).unwrap()), "install changed the existing lines");
    assert_eq!(fs::read(&dest).unwrap(), fs::read(&library).unwrap(), "installed library differs");
    let program_copy = dest.with_file_name("httpd-chroot-admin");
    assert_eq!(fs::read(&program_copy).unwrap(), fs::read(admin_program()).unwrap(), "copy of the admin program differs");
    assert_eq!(fs::metadata(&program_copy).unwrap().permissions().mode() & 0o7777, 0o755, "mode of the program copy");
    let backup = scratch.path.join("envvars.httpd-chroot-backup");
    assert_eq!(fs::read(&backup).unwrap(), original, "backup is not the original file");

    // The shell that apache2ctl uses reads the result.
    let output = Command::new("sh").arg("-c").arg(". \"$0\" && echo \"$HTTPD_CHROOT_DIR\"").arg(&envvars).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), jail.to_str().unwrap(), "sourced envvars");

    let stdout = admin_expect(&args, 0);
    assert!(stdout.contains("nothing to change"), "second install reported changes:\n{}", stdout);
    assert_eq!(fs::read_to_string(&envvars).unwrap(), installed, "second install changed the file");

    let uninstall = ["uninstall", "--env-file", envvars.to_str().unwrap(), "--dest", dest.to_str().unwrap()];
    let stdout = admin_expect(&[&uninstall[..], &["--dry-run"]].concat(), 0);
    assert!(stdout.contains("would rewrite"), "dry-run uninstall output:\n{}", stdout);
    assert!(stdout.contains("would delete"), "dry-run uninstall output:\n{}", stdout);
    assert!(stdout.contains(&format!("would delete backup {}", backup.display())), "dry-run uninstall output:\n{}", stdout);
    assert_eq!(fs::read_to_string(&envvars).unwrap(), installed, "dry-run uninstall changed the file");
    assert!(dest.exists(), "dry-run uninstall deleted the library");
    assert!(backup.exists(), "dry-run uninstall deleted the backup");

    let stdout = admin_expect(&uninstall, 0);
    assert_eq!(fs::read(&envvars).unwrap(), original, "uninstall did not restore envvars byte for byte");
    assert!(!dest.exists(), "uninstall left {}", dest.display());
    assert!(!program_copy.exists(), "uninstall left {}", program_copy.display());
    assert!(!backup.exists(), "uninstall left the backup, which equals the restored file");
    assert!(!dest.parent().unwrap().exists(), "uninstall left the library's directory");
    for advice in ["`apache2ctl stop` then `apache2ctl start`", "remove the jail only after the jailed server has stopped"] {
        assert!(stdout.contains(advice), "uninstall output lacks {:?}:\n{}", advice, stdout);
    }
    let stdout = admin_expect(&uninstall, 0);
    assert!(stdout.contains("nothing to change"), "second uninstall:\n{}", stdout);
}

/// Returns the lines of an install or uninstall run that report a change,
/// and the count in its summary line.
fn change_lines_and_count(stdout: &str) -> (Vec<&str>, usize) {
    let verbs = ["created ", "replaced ", "set ", "saved ", "rewrote ", "deleted "];
    let changes = stdout.lines().filter(|line| verbs.iter().any(|verb| line.starts_with(verb))).collect();
    let count = stdout
        .lines()
        .find_map(|line| line.strip_suffix(" change(s) made").and_then(|head| head.rsplit(' ').next()))
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no \"change(s) made\" line in:\n{}", stdout));
    (changes, count)
}

#[test]
fn install_keeps_first_backup() {
    if !common::can_run_servers("admin-install-backup") {
        return;
    }
    let scratch = Scratch::new("admin-install-backup");
    let jail = scratch.dir("jail", 0o755);
    let envvars = scratch.path.join("envvars");
    fs::copy(ENVVARS, &envvars).expect("copy Debian's envvars");
    let original = fs::read(&envvars).unwrap();
    let backup = scratch.path.join("envvars.httpd-chroot-backup");
    let dest = scratch.path.join("lib/httpd-chroot/libhttpd_chroot.so");
    let library = library();
    let args = install_args(envvars.to_str().unwrap(), jail.to_str().unwrap(), dest.to_str().unwrap(), library.to_str().unwrap());

    let stdout = admin_expect(&args, 0);
    let (changes, count) = change_lines_and_count(&stdout);
    assert_eq!(changes.len(), count, "printed changes and count differ:\n{}", stdout);
    assert!(stdout.contains("`apache2ctl stop` then `apache2ctl start`"), "install output:\n{}", stdout);
    assert!(!stdout.contains("(apachectl restart)"), "install output still proposes a restart:\n{}", stdout);

    // A second install with other values keeps the first backup and
    // reports one change: the rewrite with its one added line.
    let audit_args = [&args[..], &["--audit"]].concat();
    let stdout = admin_expect(&audit_args, 0);
    assert_eq!(fs::read(&backup).unwrap(), original, "a second install overwrote the backup");
    let (changes, count) = change_lines_and_count(&stdout);
    assert_eq!(count, 1, "second install:\n{}", stdout);
    assert_eq!(changes.len(), 1, "second install:\n{}", stdout);
    assert!(changes[0].starts_with(&format!("rewrote {}: 1 line(s) added, 0 removed", envvars.display())), "{}", stdout);
    assert_eq!(stdout.lines().filter(|line| line.starts_with("  + ")).count(), 1, "second install:\n{}", stdout);

    // A line added outside the block after install: uninstall keeps the
    // backup, which no longer equals the restored file, and prints why.
    let mut edited = fs::read_to_string(&envvars).unwrap();
    edited.push_str("export LANG=C\n");
    fs::write(&envvars, &edited).unwrap();
    let uninstall = ["uninstall", "--env-file", envvars.to_str().unwrap(), "--dest", dest.to_str().unwrap()];
    let stdout = admin_expect(&uninstall, 0);
    assert_eq!(fs::read(&backup).unwrap(), original, "uninstall changed the backup");
    assert!(stdout.contains(&format!("kept backup {}: it differs from the restored", backup.display())), "uninstall output:\n{}", stdout);
    let (changes, count) = change_lines_and_count(&stdout);
    assert_eq!(changes.len(), count, "printed changes and count differ:\n{}", stdout);
    assert_eq!(fs::read(&envvars).unwrap(), [&original[..], b"export LANG=C\n"].concat(), "uninstall removed more than the block");
}

#[test]
fn install_round_trip_on_rhel_sysconfig() {
    if !common::can_run_servers("admin-install-rhel") {
        return;
    }
    let scratch = Scratch::new("admin-install-rhel");
    let jail = scratch.dir("srv jail", 0o755);
    let sysconfig = scratch.path.join("httpd");
    // RHEL's file, here without a newline at its end.
    let original = "#\n# This file can be used to set additional environment variables for\n# the httpd process.\n#\nOPTIONS=\nLANG=C";
    write_file(&sysconfig, original, 0o640);
    let dest = scratch.path.join("libhttpd_chroot.so");
    let library = library();
    let mut args = install_args(sysconfig.to_str().unwrap(), jail.to_str().unwrap(), dest.to_str().unwrap(), library.to_str().unwrap());
    args.extend(["--layout", "rhel"]);

    admin_expect(&args, 0);
    let installed = fs::read_to_string(&sysconfig).unwrap();
    assert!(installed.contains(&format!("\nLD_PRELOAD={}\n", dest.display())), "sysconfig:\n{}", installed);
    assert!(installed.contains(&format!("\nHTTPD_CHROOT_DIR='{}'\n", jail.display())), "quoted jail path:\n{}", installed);
    assert!(!installed.contains("export "), "RHEL lines have no export:\n{}", installed);
    assert!(installed.starts_with(&format!("{}\n", original)), "install changed the existing lines:\n{}", installed);
    admin_expect(&args, 0);
    assert_eq!(fs::read_to_string(&sysconfig).unwrap(), installed, "second install changed the file");

    admin_expect(&["uninstall", "--layout", "rhel", "--env-file", sysconfig.to_str().unwrap(), "--dest", dest.to_str().unwrap()], 0);
    assert_eq!(fs::read_to_string(&sysconfig).unwrap(), original, "uninstall did not restore the file byte for byte");
}

#[test]
fn install_dry_run_on_real_envvars() {
    if !common::can_run_servers("admin-install-dry-run") {
        return;
    }
    let scratch = Scratch::new("admin-install-dry-run");
    let jail = scratch.dir("jail", 0o755);
    let dest = scratch.path.join("lib/libhttpd_chroot.so");
    let backup = format!("{}.httpd-chroot-backup", ENVVARS);
    let before = snapshot(&[Path::new(ENVVARS), Path::new(&backup)]);
    let library = library();
    let mut args = install_args(ENVVARS, jail.to_str().unwrap(), dest.to_str().unwrap(), library.to_str().unwrap());
    args.push("--dry-run");

    let stdout = admin_expect(&args, 0);
    assert!(stdout.contains(&format!("would rewrite {}", ENVVARS)), "dry run output:\n{}", stdout);
    assert!(stdout.contains(&format!("+ export HTTPD_CHROOT_DIR={}", jail.display())), "dry run output:\n{}", stdout);
    assert_eq!(snapshot(&[Path::new(ENVVARS), Path::new(&backup)]), before, "a dry run changed {} or its backup", ENVVARS);
    assert!(!dest.exists(), "a dry run installed the library");
    assert!(!dest.parent().unwrap().exists(), "a dry run created the library's directory");
}

#[test]
fn install_usage_errors() {
    let scratch = Scratch::new("admin-install-usage");
    let envvars = scratch.path.join("envvars");
    write_file(&envvars, "export LANG=C\n", 0o644);
    let env = envvars.to_str().unwrap();
    let jail = scratch.path.to_str().unwrap();
    let status = |args: &[&str]| outcome(&run_admin(args)).0;
    assert_eq!(status(&["install", "--env-file", env]), 2, "missing --jail");
    assert_eq!(status(&["install", "--env-file", env, "--jail", jail, "--mode", "parent"]), 2, "bad --mode");
    assert_eq!(status(&["install", "--env-file", env, "--jail", jail, "--log", "verbose"]), 2, "bad --log");
    assert_eq!(status(&["install", "--env-file", env, "--jail", "/nonexistent/jail"]), 1, "missing jail");
    assert_eq!(status(&["install", "--env-file", env, "--jail", jail, "--library", "/nonexistent.so", "--dest", "/tmp/x.so"]), 1);
    assert_eq!(status(&["uninstall", "--layout", "suse"]), 2);
    assert_eq!(fs::read_to_string(&envvars).unwrap(), "export LANG=C\n", "a failed run changed the file");
    assert!(admin_expect(&["install", "--help"], 0).contains("--dest FILE"));
    assert!(admin_expect(&["uninstall", "--help"], 0).contains("--keep-library"));
}

/// Copies /etc/apache2 to `dir` and moves it to `port` on loopback, with
/// runtime files under `scratch` and mod_cgi enabled for a Perl CGI.
fn debian_confdir(scratch: &Path, dir: &Path, port: u16) {
    let status = Command::new("cp").arg("-a").arg("/etc/apache2").arg(dir).status().expect("run cp");
    assert!(status.success(), "cp -a /etc/apache2 {} failed", dir.display());
    write_file(&dir.join("ports.conf"), &format!("Listen 127.0.0.1:{}\n", port), 0o644);
    let site = dir.join("sites-available/000-default.conf");
    let text = fs::read_to_string(&site).unwrap().replace("<VirtualHost *:80>", &format!("<VirtualHost *:{}>", port));
    write_file(&site, &text, 0o644);
    let cgi = dir.join("mods-enabled/cgi.load");
    if !cgi.exists() {
        std::os::unix::fs::symlink("../mods-available/cgi.load", &cgi).unwrap();
    }
    let envvars = dir.join("envvars");
    let mut text = String::new();
    for line in fs::read_to_string(&envvars).unwrap().lines() {
        let replaced = match line.split_once('=').map(|(name, _)| name) {
            Some("export APACHE_PID_FILE") => format!("export APACHE_PID_FILE={}/run/apache2.pid", scratch.display()),
            Some("export APACHE_RUN_DIR") => format!("export APACHE_RUN_DIR={}/run", scratch.display()),
            Some("export APACHE_LOCK_DIR") => format!("export APACHE_LOCK_DIR={}/lock", scratch.display()),
            Some("export APACHE_LOG_DIR") => format!("export APACHE_LOG_DIR={}/logs", scratch.display()),
            _ => line.to_string(),
        };
        text.push_str(&replaced);
        text.push('\n');
    }
    write_file(&envvars, &text, 0o644);
    fs::create_dir_all(scratch.join("logs")).unwrap();
}

fn apache2ctl(confdir: &Path, action: &str) -> std::process::Output {
    Command::new("apache2ctl")
        .arg(action)
        .env_clear()
        .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .env("APACHE_CONFDIR", confdir)
        .output()
        .expect("run apache2ctl")
}

fn get_body(port: u16, path: &str, log: &Path) -> String {
    let response = http::get(port, path).unwrap_or_else(|error| panic!("GET {}: {}", path, error));
    let errors = fs::read_to_string(log).unwrap_or_default();
    assert_eq!(response.status, 200, "GET {}: {:?}\nerror log:\n{}", path, response, errors);
    response.body
}

#[test]
fn install_then_apache2ctl_serves_from_jail() {
    if !common::can_run_servers("admin-install-apache2ctl") {
        return;
    }
    let system_files: Vec<PathBuf> = ["envvars", "ports.conf", "apache2.conf", "sites-available/000-default.conf"]
        .iter()
        .map(|name| Path::new("/etc/apache2").join(name))
        .chain(fs::read_dir("/etc/apache2/mods-enabled").unwrap().flatten().map(|entry| entry.path()))
        .collect();
    let system_paths: Vec<&Path> = system_files.iter().map(PathBuf::as_path).collect();
    let system_before = snapshot(&system_paths);
    let cgi_enabled_before = Path::new("/etc/apache2/mods-enabled/cgi.load").exists();

    let scratch = Scratch::new("admin-install-apache2ctl");
    let port = free_port();
    let confdir = scratch.path.join("apache2");
    debian_confdir(&scratch.path, &confdir, port);
    let envvars = confdir.join("envvars");
    let before_install = fs::read(&envvars).unwrap();
    let jail = scratch.path.join("jail");
    let jail_arg = jail.to_str().unwrap();
    let marker = token();

    // The jail for Debian's default site and a Perl CGI, as the README describes.
    admin_expect(
        &[
            "jail", "--user", "www-data", "--with", "/usr/bin/perl", "--with-tree", "/usr/lib/x86_64-linux-gnu/perl-base",
            "--with-tree", "/var/www/html", "--with-tree", "/usr/share/apache2/icons", jail_arg,
        ],
        0,
    );
    write_file(&jail.join("var/www/html/marker.txt"), &format!("jailed {}\n", marker), 0o644);
    let script = "#!/usr/bin/perl\nuse strict;\nuse warnings;\nprint \"Content-Type: text/plain\\n\\n\";\n\
                  print \"perl CGI in the jail, sees /: \", join(' ', sort glob('/*')), \"\\n\";\n";
    write_file(&jail.join("usr/lib/cgi-bin/hello.pl"), script, 0o755);

    let check = ["check", "--config", confdir.join("apache2.conf").to_str().unwrap(), "--env-file", envvars.to_str().unwrap()]
        .map(str::to_string);
    let check_args: Vec<&str> = check.iter().map(String::as_str).chain(["--jail", jail_arg]).collect();
    let report = admin_expect(&check_args, 0);
    assert!(report.contains("passed every check"), "{}", report);

    let dest = scratch.path.join("lib/libhttpd_chroot.so");
    let library = library();
    admin_expect(&install_args(envvars.to_str().unwrap(), jail_arg, dest.to_str().unwrap(), library.to_str().unwrap()), 0);
    // After install the check finds the jail in envvars without --jail.
    let check_args: Vec<&str> = check.iter().map(String::as_str).collect();
    admin_expect(&check_args, 0);

    let pidfile = scratch.path.join("run/apache2.pid");
    let guard = PidfileGuard { pidfile: pidfile.clone() };
    let output = apache2ctl(&confdir, "start");
    assert!(output.status.success(), "apache2ctl start: {:?}", outcome(&output));
    let parent = wait_for_server(&guard, port);
    let log = scratch.path.join("logs/error.log");

    assert_eq!(get_body(port, "/marker.txt", &log), format!("jailed {}\n", marker));
    let cgi = get_body(port, "/cgi-bin/hello.pl", &log);
    assert!(cgi.contains("perl CGI in the jail, sees /: /dev /etc /lib /lib64 /run /tmp /usr /var"), "CGI output: {}", cgi);
    let root = fs::read_link(format!("/proc/{}/root", parent)).unwrap();
    assert_eq!(root, fs::canonicalize(&jail).unwrap(), "daemon parent's root");
    let errors = fs::read_to_string(&log).unwrap_or_default();
    assert!(errors.contains("[httpd-chroot:info]"), "error log:\n{}", errors);
    assert!(errors.contains("entered jail"), "error log:\n{}", errors);

    // The README's uninstall order: uninstall while the server runs, stop
    // it, start a new one, which runs without the library, then remove the jail.
    let stdout = admin_expect(&["uninstall", "--env-file", envvars.to_str().unwrap(), "--dest", dest.to_str().unwrap()], 0);
    assert!(stdout.contains("`apache2ctl stop` then `apache2ctl start`"), "uninstall output:\n{}", stdout);
    assert_eq!(fs::read(&envvars).unwrap(), before_install, "uninstall did not restore envvars byte for byte");
    assert_eq!(fs::read_link(format!("/proc/{}/root", parent)).unwrap(), fs::canonicalize(&jail).unwrap(), "uninstall alone left the jail");

    stop_server(&confdir, parent);
    let output = apache2ctl(&confdir, "start");
    assert!(output.status.success(), "apache2ctl start after uninstall: {:?}", outcome(&output));
    let new_parent = wait_for_server(&guard, port);
    assert_ne!(new_parent, parent, "apache2ctl start did not start a new parent");
    assert_eq!(fs::read_link(format!("/proc/{}/root", new_parent)).unwrap(), Path::new("/"), "the new server is still jailed");
    let response = http::get(port, "/marker.txt").expect("GET /marker.txt");
    assert_eq!(response.status, 404, "the new server serves the jail's copy: {:?}", response);
    stop_server(&confdir, new_parent);
    drop(guard);
    fs::remove_dir_all(&jail).expect("remove the jail");

    assert_eq!(snapshot(&system_paths), system_before, "a file under /etc/apache2 changed");
    assert_eq!(Path::new("/etc/apache2/mods-enabled/cgi.load").exists(), cgi_enabled_before, "mods-enabled changed");
}

/// Waits until the server of `guard` wrote its pidfile and listens on
/// `port`, and returns the parent's pid.
fn wait_for_server(guard: &PidfileGuard, port: u16) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(pid) = guard.pid().filter(|&pid| common::procs::is_alive(pid)) {
            if http::is_listening(port) {
                return pid;
            }
        }
        assert!(Instant::now() < deadline, "server did not start within 20 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stop_server(confdir: &Path, parent: i32) {
    let output = apache2ctl(confdir, "stop");
    assert!(output.status.success(), "apache2ctl stop: {:?}", outcome(&output));
    assert!(common::procs::wait_gone(parent, 20), "pid {} still runs after apache2ctl stop", parent);
}

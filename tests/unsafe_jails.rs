//! Jails that httpd must not use, and unusual spellings it must accept.
//!
//! A jail that httpd's run user can change (the jail itself or any parent
//! directory) is refused, unless HTTPD_CHROOT_ALLOW_WRITABLE=1 accepts it
//! with a warning. httpd's own ChrootDir next to the library is refused.
//! A noexec or nosuid mount is a warning where CGIs run. Doubled and
//! trailing slashes and a symlink to the jail are accepted.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{chown, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::apache::{describe, uid_of, Running, Site, RUN_USER};
use common::refusal::{assert_nothing_runs, assert_rejected, start};
use common::{http, library_lines, set_mode};

/// Returns the gid of `group` from /etc/group.
fn gid_of(group: &str) -> u32 {
    let text = fs::read_to_string("/etc/group").expect("read /etc/group");
    text.lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&group)).then(|| fields[2].parse().expect("numeric gid"))
        })
        .unwrap_or_else(|| panic!("group {} not found in /etc/group", group))
}

/// Starts the site, expecting it to serve, and returns the terminal output.
fn start_serving(site: &Site) -> (Running<'_>, String) {
    let output = start(site);
    assert!(output.status.success(), "apache2 -k start failed: {}\n{}", describe(&output), site.report());
    (site.wait_ready(), String::from_utf8_lossy(&output.stderr).to_string())
}

/// Checks that every server process has `jail` as its root directory.
fn assert_jailed(running: &Running<'_>, jail: &Path) {
    let processes = running.httpd_processes();
    assert!(processes.len() > 1, "the server runs children: {:?}", processes);
    for info in processes {
        assert_eq!(info.root, jail, "root of pid {} ({})", info.pid, info.command);
    }
}

#[test]
fn jail_writable_by_the_run_user_is_refused() {
    if !common::can_run_servers("writable-jail") {
        return;
    }
    let run_uid = uid_of(RUN_USER);
    let run_gid = gid_of(RUN_USER);
    let cases: [(&str, fn(&Site, u32, u32) -> PathBuf, &str); 3] = [
        ("owner", |site, uid, _| own(&site.jail, uid), "is owned by the run user"),
        ("group", |site, _, gid| group_writable(&site.scratch.path, gid), "is writable by group"),
        ("everyone", |site, _, _| world_writable(&site.scratch.path), "is writable by everyone"),
    ];
    for (name, make_writable, reason) in cases {
        let site = Site::new(&format!("writable-{}", name), "event");
        let level = make_writable(&site, run_uid, run_gid).display().to_string();
        let output = start(&site);
        assert_rejected(&site, &output, &["unsafe jail", &level, reason, "EPERM", "HTTPD_CHROOT_ALLOW_WRITABLE=1"]);
    }
}

fn own(path: &Path, uid: u32) -> PathBuf {
    chown(path, Some(uid), None).expect("chown the jail");
    path.to_path_buf()
}

fn group_writable(path: &Path, gid: u32) -> PathBuf {
    chown(path, Some(0), Some(gid)).expect("chown the jail's parent");
    set_mode(path, 0o775);
    path.to_path_buf()
}

fn world_writable(path: &Path) -> PathBuf {
    set_mode(path, 0o777);
    path.to_path_buf()
}

#[test]
fn writable_jail_runs_with_a_warning_when_allowed() {
    if !common::can_run_servers("allowed-writable") {
        return;
    }
    let mut site = Site::new("allowed-writable", "prefork");
    site.set_env("HTTPD_CHROOT_ALLOW_WRITABLE", "1");
    world_writable(&site.scratch.path);
    let warning = "running anyway because HTTPD_CHROOT_ALLOW_WRITABLE=1";

    let (running, terminal) = start_serving(&site);
    assert_jailed(&running, &fs::canonicalize(&site.jail).expect("canonical jail"));
    assert_eq!(library_lines(&terminal, "warn").len(), 1, "one warning on the terminal: {}", terminal);
    let log = site.error_log();
    let warnings = library_lines(&log, "warn");
    assert_eq!(warnings.len(), 1, "one warning in the error log: {}", log);
    assert!(warnings[0].contains(warning), "{}", warnings[0]);
    assert!(warnings[0].contains("is writable by everyone"), "{}", warnings[0]);

    // Every configuration httpd reads is checked and warned about again.
    let output = site.command(&["-k", "graceful"]).output().expect("run apache2 -k graceful");
    assert!(output.status.success(), "graceful: {}", describe(&output));
    common::wait_for(|| library_lines(&site.error_log(), "warn").len() == 2, "a second warning after graceful");
    assert_eq!(http::get(site.port, "/").expect("serves after graceful").status, 200);
    running.stop();
}

#[test]
fn sticky_parent_is_accepted() {
    if !common::can_run_servers("sticky-parent") {
        return;
    }
    let site = Site::new("sticky-parent", "event");
    set_mode(&site.scratch.path, 0o1777);
    let (running, terminal) = start_serving(&site);
    for level in ["warn", "error"] {
        assert!(library_lines(&terminal, level).is_empty(), "no {} line on the terminal: {}", level, terminal);
    }
    assert_jailed(&running, &fs::canonicalize(&site.jail).expect("canonical jail"));
    running.stop();
}

#[test]
fn chrootdir_with_library_is_refused() {
    if !common::can_run_servers("chrootdir") {
        return;
    }
    let mut site = Site::new("chrootdir", "worker");
    site.extra.push(format!("ChrootDir {}", site.jail.display()));
    let output = start(&site);
    let shown = format!("ChrootDir {} is set", site.jail.display());
    assert_rejected(&site, &output, &[&shown, "EINVAL", "Remove ChrootDir"]);
}

#[test]
fn dangling_symlink_is_refused_with_its_target() {
    if !common::can_run_servers("dangling-jail") {
        return;
    }
    let mut site = Site::new("dangling-jail", "event");
    let link = site.scratch.path.join("link");
    let target = site.scratch.path.join("gone");
    symlink(&target, &link).expect("create symlink");
    site.set_env("HTTPD_CHROOT_DIR", &link.display().to_string());
    let output = start(&site);
    let shown = format!("is a symlink to {}, which does not exist", target.display());
    assert_rejected(&site, &output, &[&shown, "ENOENT", "Create the jail directory"]);
}

#[test]
fn newline_and_non_utf8_bytes_are_refused() {
    if !common::can_run_servers("odd-bytes") {
        return;
    }
    let cases: [(&[u8], &str); 2] = [(b"/srv/ja\nil", "/srv/ja\\nil"), (b"/srv/ja\xffil", "/srv/ja\\xffil")];
    for (value, shown) in cases {
        let site = Site::new("odd-bytes", "event");
        site.write_config();
        let mut command = site.command(&["-k", "start"]);
        command.env("HTTPD_CHROOT_DIR", OsStr::from_bytes(value));
        let output = command.output().expect("run apache2 -k start");
        assert_rejected(&site, &output, &[&format!("HTTPD_CHROOT_DIR={}", shown), "control character"]);
    }
}

#[test]
fn doubled_slashes_and_symlinks_name_the_same_jail() {
    if !common::can_run_servers("spellings") {
        return;
    }
    let canonical_of = |site: &Site| fs::canonicalize(&site.jail).expect("canonical jail");

    let mut site = Site::new("spellings", "event");
    let doubled = format!("/{}//", site.jail.display()).replace("/jail", "//jail/./");
    site.set_env("HTTPD_CHROOT_DIR", &doubled);
    let (running, _) = start_serving(&site);
    assert_jailed(&running, &canonical_of(&site));
    running.stop();

    let mut site = Site::new("spellings", "prefork");
    let link = site.scratch.path.join("current");
    symlink(&site.jail, &link).expect("create symlink");
    site.set_env("HTTPD_CHROOT_DIR", &link.display().to_string());
    let (running, _) = start_serving(&site);
    assert_jailed(&running, &canonical_of(&site));

    // The symlink was resolved once at the start: pointing it elsewhere
    // changes nothing until httpd is stopped and started again.
    fs::remove_file(&link).expect("remove symlink");
    symlink(&site.scratch.path, &link).expect("point the symlink elsewhere");
    let output = site.command(&["-k", "graceful"]).output().expect("run apache2 -k graceful");
    assert!(output.status.success(), "graceful: {}", describe(&output));
    common::wait_for(|| site.error_log().matches("resuming normal operations").count() == 2, "graceful restart");
    assert_eq!(http::get(site.port, "/").expect("serves").status, 200);
    assert_jailed(&running, &canonical_of(&site));
    running.stop();
}

/// A bind mount of a directory onto itself with extra flags, undone on drop.
struct FlaggedMount(PathBuf);

impl FlaggedMount {
    fn new(path: &Path, flags: &str) -> FlaggedMount {
        mount(&["--bind", &path.display().to_string(), &path.display().to_string()]);
        let mount_point = FlaggedMount(path.to_path_buf());
        mount(&["-o", &format!("remount,bind,{}", flags), &path.display().to_string()]);
        mount_point
    }
}

impl Drop for FlaggedMount {
    fn drop(&mut self) {
        let status = Command::new("umount").arg(&self.0).status().expect("run umount");
        assert!(status.success() || std::thread::panicking(), "umount {}", self.0.display());
    }
}

fn mount(args: &[&str]) {
    let output = Command::new("mount").args(args).output().expect("run mount");
    assert!(output.status.success(), "mount {:?}: {}", args, describe(&output));
}

#[test]
fn noexec_jail_is_a_warning_where_cgis_run() {
    if !common::can_run_servers("noexec-jail") {
        return;
    }
    let site = Site::new("noexec-jail", "event");
    site.add_cgi();
    let _mount = FlaggedMount::new(&site.jail, "noexec,nosuid");

    let (running, terminal) = start_serving(&site);
    let warnings = library_lines(&terminal, "warn");
    assert_eq!(warnings.len(), 1, "one warning on the terminal: {}", terminal);
    assert!(warnings[0].contains("mounted noexec"), "{}", warnings[0]);
    assert!(warnings[0].contains("EACCES"), "{}", warnings[0]);
    assert_eq!(library_lines(&site.error_log(), "warn").len(), 1, "one warning in the error log");

    // The warning is right: the CGI cannot run.
    let response = http::get(site.port, "/cgi-bin/probe.cgi").expect("CGI request");
    assert_eq!(response.status, 500, "CGI on a noexec jail: {:?}", response);
    running.stop();
    assert_nothing_runs(&site);
}

//! Unusable settings stop httpd before it serves: one error line on the
//! terminal and one in the error log, naming the value, the errno and the
//! remedy, with no process, pidfile or listener left behind.

mod common;

use common::apache::Site;
use common::refusal::{assert_rejected, start};

#[test]
fn missing_jail_is_rejected() {
    if !common::can_run_servers("missing-jail") {
        return;
    }
    let mut site = Site::new("missing-jail", "event");
    let missing = site.scratch.path.join("no-such-jail").display().to_string();
    site.set_env("HTTPD_CHROOT_DIR", &missing);
    let output = start(&site);
    assert_rejected(&site, &output, &[&format!("HTTPD_CHROOT_DIR={}", missing), "ENOENT", "Create the jail directory"]);
}

#[test]
fn relative_jail_is_rejected() {
    if !common::can_run_servers("relative-jail") {
        return;
    }
    let mut site = Site::new("relative-jail", "event");
    site.set_env("HTTPD_CHROOT_DIR", "jail");
    let output = start(&site);
    assert_rejected(&site, &output, &["HTTPD_CHROOT_DIR=jail", "not an absolute path"]);
}

#[test]
fn file_as_jail_is_rejected() {
    if !common::can_run_servers("file-jail") {
        return;
    }
    let mut site = Site::new("file-jail", "prefork");
    let file = site.outside.display().to_string();
    site.set_env("HTTPD_CHROOT_DIR", &file);
    let output = start(&site);
    assert_rejected(&site, &output, &[&format!("HTTPD_CHROOT_DIR={}", file), "ENOTDIR"]);
}

#[test]
fn root_directory_as_jail_is_rejected() {
    if !common::can_run_servers("root-jail") {
        return;
    }
    let mut site = Site::new("root-jail", "worker");
    site.set_env("HTTPD_CHROOT_DIR", "/");
    let output = start(&site);
    assert_rejected(&site, &output, &["HTTPD_CHROOT_DIR=/", "root directory"]);
}

#[test]
fn unknown_log_level_is_rejected() {
    if !common::can_run_servers("log-level") {
        return;
    }
    let mut site = Site::new("log-level", "event");
    site.set_env("HTTPD_CHROOT_LOG", "verbose");
    let output = start(&site);
    assert_rejected(&site, &output, &["HTTPD_CHROOT_LOG=verbose", "error, warn, info, debug, trace"]);
}

#[test]
fn unprivileged_start_is_rejected() {
    if !common::can_run_servers("unprivileged") {
        return;
    }
    let site = Site::new("unprivileged", "event");
    common::set_mode(&site.logs, 0o777);
    site.write_config();
    let output = site
        .wrapped_command(&["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"], &["-k", "start"])
        .output()
        .expect("run setpriv apache2");
    assert_rejected(&site, &output, &["CAP_SYS_CHROOT", "uid 65534", "EPERM"]);
}

#[test]
fn root_without_chroot_capability_is_rejected() {
    if !common::can_run_servers("no-capability") {
        return;
    }
    let site = Site::new("no-capability", "prefork");
    site.write_config();
    let output = site
        .wrapped_command(&["setpriv", "--bounding-set=-sys_chroot"], &["-k", "start"])
        .output()
        .expect("run setpriv apache2");
    assert_rejected(&site, &output, &["CAP_SYS_CHROOT", "uid 0", "EPERM"]);
}

#[test]
fn foreground_start_with_missing_jail_is_rejected() {
    if !common::can_run_servers("foreground-missing") {
        return;
    }
    let mut site = Site::new("foreground-missing", "event");
    let missing = site.scratch.path.join("gone").display().to_string();
    site.set_env("HTTPD_CHROOT_DIR", &missing);
    site.write_config();
    let output = site.command(&["-DFOREGROUND"]).output().expect("run apache2 -DFOREGROUND");
    assert_rejected(&site, &output, &[&format!("HTTPD_CHROOT_DIR={}", missing), "ENOENT"]);
}

#[test]
fn malformed_jail_paths_are_rejected() {
    if !common::can_run_servers("malformed-jail") {
        return;
    }
    let overlong = format!("/{}", "j".repeat(4096));
    let cases: [(&str, &str, &str); 3] = [
        ("/srv/../jail", "HTTPD_CHROOT_DIR=/srv/../jail", "'..'"),
        ("/srv/ja\til", "HTTPD_CHROOT_DIR=/srv/ja\\til", "control character"),
        (&overlong, "HTTPD_CHROOT_DIR=/jjjj", "ENAMETOOLONG"),
    ];
    for (value, shown, reason) in cases {
        let mut site = Site::new("malformed-jail", "event");
        site.set_env("HTTPD_CHROOT_DIR", value);
        let output = start(&site);
        assert_rejected(&site, &output, &[shown, reason]);
    }
}

#[test]
fn unknown_mode_is_rejected() {
    if !common::can_run_servers("unknown-mode") {
        return;
    }
    let mut site = Site::new("unknown-mode", "worker");
    site.set_mode("parent");
    let output = start(&site);
    assert_rejected(&site, &output, &["HTTPD_CHROOT_MODE=parent", "expected server", "children"]);
}

#[test]
fn unknown_audit_value_is_rejected() {
    if !common::can_run_servers("unknown-audit") {
        return;
    }
    let mut site = Site::new("unknown-audit", "event");
    site.set_env("HTTPD_CHROOT_AUDIT", "yes");
    let output = start(&site);
    assert_rejected(&site, &output, &["HTTPD_CHROOT_AUDIT=yes", "expected 1"]);
}

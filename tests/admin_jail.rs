//! `httpd-chroot-admin jail`: the jail's skeleton, copied programs that run
//! under chroot, idempotence, --dry-run (and that it matches the real run),
//! --update, output into a closed pipe and usage errors, on jails in
//! scratch directories.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

use common::admin::{admin_expect, admin_program};
use common::{listing, Scratch};

fn can_run(test: &str) -> bool {
    // mknod and chown need root; the same rule as the server tests.
    common::can_run_servers(test)
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap_or_else(|error| panic!("{}: {}", path.display(), error)).permissions().mode() & 0o7777
}

/// Returns the jail's listing with sizes and modification times, which
/// stays the same when a run changes nothing.
fn detailed_listing(jail: &Path) -> String {
    let mut lines: Vec<String> = listing(jail)
        .lines()
        .map(|line| {
            let path = line.split_once(' ').map_or(line, |(_, path)| path);
            let metadata = fs::symlink_metadata(path).expect("listed path exists");
            format!("{} {} {}", line, metadata.len(), metadata.mtime_nsec() + metadata.mtime() * 1_000_000_000)
        })
        .collect();
    lines.sort();
    lines.join("\n")
}

fn chroot_output(jail: &Path, command: &str) -> (bool, String) {
    let output = Command::new("chroot").arg(jail).args(["/bin/sh", "-c", command]).env("LC_ALL", "C").output().expect("run chroot");
    (output.status.success(), format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
}

#[test]
fn jail_skeleton_for_run_user() {
    if !can_run("admin-jail-skeleton") {
        return;
    }
    let scratch = Scratch::new("admin-jail-skeleton");
    let jail = scratch.path.join("jail");
    let jail_arg = jail.to_str().unwrap();
    admin_expect(&["jail", "--user", "www-data", "--with", "/bin/sh", jail_arg], 0);

    for (dir, expected) in [("", 0o755), ("etc", 0o755), ("dev", 0o755), ("run", 0o755), ("tmp", 0o1777), ("dev/shm", 0o1777)] {
        assert_eq!(mode(&jail.join(dir)), expected, "mode of {}/{}", jail.display(), dir);
        assert_eq!(fs::metadata(jail.join(dir)).unwrap().uid(), 0, "owner of {}/{}", jail.display(), dir);
    }
    for (name, major, minor) in [("null", 1, 3), ("zero", 1, 5), ("urandom", 1, 9)] {
        let metadata = fs::symlink_metadata(jail.join("dev").join(name)).expect("device node exists");
        assert!(metadata.file_type().is_char_device(), "/dev/{} is not a character device", name);
        assert_eq!((libc::major(metadata.rdev()), libc::minor(metadata.rdev())), (major, minor), "/dev/{} numbers", name);
        assert_eq!(mode(&jail.join("dev").join(name)), 0o666, "/dev/{} mode", name);
    }
    let passwd = fs::read_to_string(jail.join("etc/passwd")).unwrap();
    assert_eq!(passwd.lines().count(), 1, "passwd holds only the run user: {}", passwd);
    assert!(passwd.starts_with("www-data:x:33:33:"), "passwd: {}", passwd);
    let group = fs::read_to_string(jail.join("etc/group")).unwrap();
    assert_eq!(group.lines().collect::<Vec<_>>(), ["www-data:x:33:"], "group");
    assert!(fs::read_to_string(jail.join("etc/nsswitch.conf")).unwrap().contains("hosts: files dns"));
    assert_eq!(fs::read(jail.join("etc/hosts")).unwrap(), fs::read("/etc/hosts").unwrap(), "hosts copied");
    assert_eq!(fs::read(jail.join("etc/localtime")).unwrap(), fs::read("/etc/localtime").unwrap(), "localtime copied");

    // The copied shell runs under chroot and finds the device nodes.
    let (ok, output) = chroot_output(&jail, "echo data >/dev/null && head -c 4 /dev/urandom | wc -c; echo shell-ran");
    assert!(ok, "chroot /bin/sh failed: {}", output);
    assert!(output.contains("shell-ran"), "chroot /bin/sh output: {}", output);

    // A second run changes nothing.
    let before = detailed_listing(&jail);
    let stdout = admin_expect(&["jail", "--user", "www-data", "--with", "/bin/sh", jail_arg], 0);
    assert!(stdout.contains("nothing to change"), "second run reported changes:\n{}", stdout);
    assert_eq!(detailed_listing(&jail), before, "second run changed the jail");
}

#[test]
fn jail_dry_run_changes_nothing() {
    if !can_run("admin-jail-dry-run") {
        return;
    }
    let scratch = Scratch::new("admin-jail-dry-run");
    let jail = scratch.path.join("jail");
    let stdout = admin_expect(&["jail", "--user", "www-data", "--with", "/usr/bin/perl", "--dry-run", jail.to_str().unwrap()], 0);
    assert!(stdout.contains("would create directory"), "dry run output:\n{}", stdout);
    assert!(stdout.contains("would create file"), "dry run output:\n{}", stdout);
    assert!(stdout.contains("usr/bin/perl"), "dry run output:\n{}", stdout);
    assert!(!jail.exists(), "dry run created {}", jail.display());

    // On an existing jail, a dry run leaves a changed file alone too.
    admin_expect(&["jail", "--user", "www-data", jail.to_str().unwrap()], 0);
    fs::set_permissions(jail.join("tmp"), fs::Permissions::from_mode(0o777)).unwrap();
    let stdout = admin_expect(&["jail", "--user", "www-data", "--dry-run", jail.to_str().unwrap()], 0);
    assert!(stdout.contains("would set owner 0:0 and mode 1777"), "dry run output:\n{}", stdout);
    assert_eq!(mode(&jail.join("tmp")), 0o777, "dry run changed the mode of tmp");
}

/// Returns the change lines of a jail run, each without its verb ("would
/// create X" and "created X" both give "X"), sorted, and the count in its
/// summary line.
fn changes_and_count(stdout: &str) -> (Vec<String>, usize) {
    let verbs = [("would create ", "created "), ("would replace ", "replaced "), ("would set ", "set ")];
    let mut changes = Vec::new();
    for line in stdout.lines() {
        for (dry, real) in verbs {
            if let Some(rest) = line.strip_prefix(dry).or_else(|| line.strip_prefix(real)) {
                changes.push(rest.to_string());
            }
        }
    }
    changes.sort();
    let summary = stdout.lines().last().unwrap_or("");
    let count = summary
        .split(": ")
        .last()
        .and_then(|tail| tail.split(' ').next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no change count in the summary line {:?}", summary));
    (changes, count)
}

#[test]
fn jail_dry_run_matches_real_run() {
    if !can_run("admin-jail-dry-run-count") {
        return;
    }
    let scratch = Scratch::new("admin-jail-dry-run-count");
    let jail = scratch.path.join("jail");
    let args = ["jail", "--user", "www-data", "--with", "/usr/bin/perl", "--with-tree", "/usr/lib/x86_64-linux-gnu/perl-base", jail.to_str().unwrap()];

    let dry_stdout = admin_expect(&[&args[..], &["--dry-run"]].concat(), 0);
    let (dry_changes, dry_count) = changes_and_count(&dry_stdout);
    let mut unique = dry_changes.clone();
    unique.dedup();
    assert_eq!(unique.len(), dry_changes.len(), "a dry run printed a change twice:\n{}", dry_stdout);
    assert_eq!(dry_count, dry_changes.len(), "dry run count differs from its printed changes:\n{}", dry_stdout);
    assert!(!jail.exists(), "dry run created {}", jail.display());

    let real_stdout = admin_expect(&args, 0);
    let (real_changes, real_count) = changes_and_count(&real_stdout);
    assert_eq!(real_count, dry_count, "the real run's count differs from the dry run's");
    assert_eq!(real_changes, dry_changes, "the real run made other changes than the dry run printed");
}

#[test]
fn jail_dry_run_into_closed_pipe() {
    if !can_run("admin-jail-pipe") {
        return;
    }
    let scratch = Scratch::new("admin-jail-pipe");
    let jail = scratch.path.join("jail");
    let mut child = Command::new(admin_program())
        .args(["jail", "--user", "www-data", "--with", "/usr/bin/perl", "--with-tree", "/usr/lib/x86_64-linux-gnu/perl-base", "--dry-run"])
        .arg(&jail)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run httpd-chroot-admin");
    let stdout = child.stdout.take().unwrap();
    // A 4 KiB pipe, far less than the dry run prints, so the program
    // writes into the closed pipe (as with `| head -1`).
    // SAFETY: the descriptor belongs to `stdout`, which lives until the drop below.
    unsafe { libc::fcntl(stdout.as_raw_fd(), libc::F_SETPIPE_SZ, 4096) };
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    assert!(first.starts_with("would create directory"), "first line: {:?}", first);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.signal(), Some(libc::SIGPIPE), "status {:?}, stderr:\n{}", output.status, stderr);
    assert!(!stderr.contains("panicked"), "stderr:\n{}", stderr);
}

#[test]
fn jail_perl_with_module_tree() {
    if !can_run("admin-jail-perl") {
        return;
    }
    let scratch = Scratch::new("admin-jail-perl");
    let jail = scratch.path.join("jail");
    let tree = "/usr/lib/x86_64-linux-gnu/perl-base";
    admin_expect(&["jail", "--user", "www-data", "--with", "/bin/sh", "--with", "/usr/bin/perl", "--with-tree", tree, jail.to_str().unwrap()], 0);
    assert!(jail.join("usr/lib/x86_64-linux-gnu/perl-base/strict.pm").is_file(), "strict.pm not copied");
    let (ok, output) = chroot_output(&jail, "perl -e 'use strict; use warnings; print qq(perl-ran\\n)'");
    assert!(ok, "perl in the jail failed: {}", output);
    assert!(output.contains("perl-ran"), "perl output: {}", output);
}

#[test]
fn jail_drops_setuid_bits() {
    if !can_run("admin-jail-setuid") {
        return;
    }
    let Some(program) = ["/usr/bin/passwd", "/usr/bin/su", "/usr/bin/chsh"].into_iter().find(|path| {
        fs::metadata(path).map_or(false, |metadata| metadata.permissions().mode() & 0o4000 != 0)
    }) else {
        panic!("no setuid program found on the host to copy (passwd, su, chsh)");
    };
    let scratch = Scratch::new("admin-jail-setuid");
    let jail = scratch.path.join("jail");
    let stdout = admin_expect(&["jail", "--user", "www-data", "--with", program, jail.to_str().unwrap()], 0);
    let copy = fs::canonicalize(jail.join(program.trim_start_matches('/'))).expect("copy exists");
    assert_eq!(mode(&copy) & 0o6000, 0, "{} keeps setuid or setgid: {:o}", copy.display(), mode(&copy));
    assert!(stdout.contains("setuid or setgid on the host"), "no note about the dropped bit:\n{}", stdout);
}

#[test]
fn jail_update_refreshes_programs() {
    if !can_run("admin-jail-update") {
        return;
    }
    let scratch = Scratch::new("admin-jail-update");
    let jail = scratch.path.join("jail");
    let jail_arg = jail.to_str().unwrap();
    admin_expect(&["jail", "--user", "www-data", "--with", "/bin/sh", jail_arg], 0);
    let shell = fs::canonicalize(jail.join("bin/sh")).expect("shell in the jail");
    let host_shell = fs::canonicalize("/bin/sh").unwrap();

    // An older version of the program, as before a package upgrade.
    let mut old = fs::read(&shell).unwrap();
    old.truncate(old.len() / 2);
    fs::write(&shell, &old).unwrap();

    let stdout = admin_expect(&["jail", "--user", "www-data", "--with", "/bin/sh", jail_arg], 0);
    assert!(stdout.contains("run with --update"), "no hint about --update:\n{}", stdout);
    assert_eq!(fs::read(&shell).unwrap(), old, "a run without --update replaced the program");

    // --update needs no --with: it refreshes every program in the jail.
    let stdout = admin_expect(&["jail", "--user", "www-data", "--update", jail_arg], 0);
    assert!(stdout.contains("replaced"), "--update output:\n{}", stdout);
    assert_eq!(fs::read(&shell).unwrap(), fs::read(&host_shell).unwrap(), "--update did not refresh {}", shell.display());
}

#[test]
fn jail_usage_errors() {
    let scratch = Scratch::new("admin-jail-usage");
    let jail = scratch.path.join("jail");
    let jail_arg = jail.to_str().unwrap();
    admin_expect(&["jail", jail_arg], 2);
    admin_expect(&["jail", "--user", "www-data"], 2);
    admin_expect(&["jail", "--user", "www-data", "relative/jail"], 2);
    admin_expect(&["jail", "--user", "www-data", "--bogus", jail_arg], 2);
    admin_expect(&["jail", "--user", "no-such-user-httpd-chroot", jail_arg], 1);
    assert!(admin_expect(&["jail", "--help"], 0).contains("--with-tree DIR"));
    assert!(!jail.exists(), "a failed run created {}", jail.display());
}

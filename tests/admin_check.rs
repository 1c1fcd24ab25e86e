//! `httpd-chroot-admin check`: a clean jail and configuration, one
//! configuration or jail defect at a time with the finding, its file and
//! line, the audit log proposals, and usage errors.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::admin::{admin_expect, admin_program, outcome, run_admin};
use common::{write_file, Scratch};

/// A jail built by the admin program, and a configuration that is clean for it.
struct Setup {
    scratch: Scratch,
    jail: PathBuf,
    config: PathBuf,
    envvars: PathBuf,
}

impl Setup {
    fn new(test: &str) -> Setup {
        let scratch = Scratch::new(test);
        let jail = scratch.path.join("jail");
        admin_expect(&["jail", "--user", "www-data", "--with", "/bin/sh", jail.to_str().unwrap()], 0);
        write_file(&jail.join("www/index.html"), "index\n", 0o644);
        write_file(&jail.join("www/cgi-bin/ok.cgi"), "#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho ok\n", 0o755);
        write_file(&jail.join("only-in-jail.txt"), "inside\n", 0o644);
        write_file(&scratch.path.join("outside.txt"), "outside\n", 0o644);
        let envvars = scratch.path.join("envvars");
        write_file(&envvars, &format!("export SITE_JAIL={}\n", jail.display()), 0o644);
        let setup = Setup { config: scratch.path.join("httpd.conf"), scratch, jail, envvars };
        setup.write_config(&[]);
        setup
    }

    /// Writes the clean configuration followed by `more` lines.
    fn write_config(&self, more: &[String]) {
        let jail = self.jail.display();
        let mut lines = vec![
            format!("ServerRoot {}", self.scratch.path.display()),
            "User www-data".to_string(),
            "Group www-data".to_string(),
            "LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so".to_string(),
            // ${SITE_JAIL} comes from the envvars file.
            "DocumentRoot ${SITE_JAIL}/www".to_string(),
            "<IfModule mod_cgid.c>".to_string(),
            format!("  ScriptSock {}/run/cgisock", jail),
            "</IfModule>".to_string(),
            format!("ScriptAlias /cgi-bin/ \"{}/www/cgi-bin/\"", jail),
            "Alias /marker.txt /only-in-jail.txt".to_string(),
            format!("Mutex flock:{}/run default", jail),
            format!("ScoreBoardFile {}/run/scoreboard", jail),
            "<IfModule mod_nothing.c>".to_string(),
            "  Alias /never /not/checked".to_string(),
            "</IfModule>".to_string(),
        ];
        lines.extend(more.iter().cloned());
        write_file(&self.config, &(lines.join("\n") + "\n"), 0o644);
    }

    /// Returns the line number that the first extra line gets.
    fn first_extra_line(&self) -> usize {
        16
    }

    fn check(&self, extra: &[&str]) -> (i32, String, String) {
        let mut args = vec![
            "check",
            "--layout",
            "debian",
            "--config",
            self.config.to_str().unwrap(),
            "--env-file",
            self.envvars.to_str().unwrap(),
            "--jail",
            self.jail.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        outcome(&run_admin(&args))
    }
}

#[test]
fn check_clean_jail_passes() {
    if !common::can_run_servers("admin-check-clean") {
        return;
    }
    let setup = Setup::new("admin-check-clean");
    let (status, stdout, stderr) = setup.check(&[]);
    assert_eq!(status, 0, "clean jail has findings:\n{}{}", stdout, stderr);
    assert!(stdout.contains("passed every check"), "{}", stdout);

    let (status, stdout, _) = setup.check(&["--json"]);
    assert_eq!(status, 0);
    assert!(stdout.contains("\"findings\":[]"), "JSON output: {}", stdout);
    assert!(stdout.contains("\"user\":\"www-data\""), "JSON output: {}", stdout);
}

/// One defect: a configuration line to add or a change to the jail, and
/// the finding it must produce.
struct Case {
    name: &'static str,
    config: Vec<String>,
    change: fn(&Setup),
    kind: &'static str,
    /// Text the finding's path must contain.
    path: String,
    /// Whether the finding names the added configuration line.
    from_config: bool,
}

fn no_change(_: &Setup) {}

fn cases(setup: &Setup) -> Vec<Case> {
    let jail = setup.jail.display().to_string();
    let scratch = setup.scratch.path.display().to_string();
    let config = |kind, name, line: String, path: String| Case { name, config: vec![line], change: no_change, kind, path, from_config: true };
    vec![
        config("outside-jail", "DocumentRoot outside", format!("DocumentRoot {}/outside-www", scratch), format!("{}/outside-www", scratch)),
        config("missing-in-jail", "Alias missing inside", format!("Alias /gone {}/www/gone.txt", jail), format!("{}/www/gone.txt", jail)),
        config("outside-jail", "ScriptAlias outside", "ScriptAlias /scripts/ /srv/no-such-cgi-dir/".to_string(), "/srv/no-such-cgi-dir/".to_string()),
        config("outside-jail", "ScriptSock outside", format!("ScriptSock {}/cgisock", scratch), format!("{}/cgisock", scratch)),
        config("missing-in-jail", "ScriptSock dir missing", format!("ScriptSock {}/no-run/cgisock", jail), format!("{}/no-run/cgisock", jail)),
        config("outside-jail", "flock Mutex outside", format!("Mutex flock:{}/lock ssl-cache", scratch), format!("{}/lock", scratch)),
        config("outside-jail", "ScoreBoardFile outside", "ScoreBoardFile /var/run/apache2/scoreboard".to_string(), "/var/run/apache2/scoreboard".to_string()),
        Case {
            name: "Perl CGI without perl",
            config: vec![],
            change: |setup| write_file(&setup.jail.join("www/cgi-bin/hello.pl"), "#!/usr/bin/perl\nprint \"Content-Type: text/plain\\n\\nhello\\n\";\n", 0o755),
            kind: "missing-interpreter",
            path: "/usr/bin/perl".to_string(),
            from_config: false,
        },
        Case {
            name: "directory owned by the run user",
            config: vec![],
            change: |setup| std::os::unix::fs::chown(setup.jail.join("www"), Some(common::apache::uid_of("www-data")), None).unwrap(),
            kind: "writable",
            path: format!("{}/www", jail),
            from_config: false,
        },
        Case {
            name: "world-writable file",
            config: vec![],
            change: |setup| fs::set_permissions(setup.jail.join("www/index.html"), fs::Permissions::from_mode(0o666)).unwrap(),
            kind: "writable",
            path: format!("{}/www/index.html", jail),
            from_config: false,
        },
        Case {
            name: "extra device node",
            config: vec![],
            change: |setup| {
                let path = std::ffi::CString::new(setup.jail.join("dev/full").to_str().unwrap()).unwrap();
                // SAFETY: a valid path; /dev/full's numbers are 1:7.
                assert_eq!(unsafe { libc::mknod(path.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 7)) }, 0, "mknod dev/full");
            },
            kind: "device",
            path: format!("{}/dev/full", jail),
            from_config: false,
        },
        Case {
            name: "setuid file",
            config: vec![],
            change: |setup| {
                let shell = fs::canonicalize(setup.jail.join("bin/sh")).unwrap();
                fs::set_permissions(&shell, fs::Permissions::from_mode(0o4755)).unwrap();
            },
            kind: "setuid",
            path: "/usr/bin/dash".to_string(),
            from_config: false,
        },
        Case {
            name: "hard link from outside",
            config: vec![],
            change: |setup| fs::hard_link(setup.scratch.path.join("outside.txt"), setup.jail.join("www/linked.txt")).unwrap(),
            kind: "hard-link",
            path: format!("{}/www/linked.txt", jail),
            from_config: false,
        },
    ]
}

#[test]
fn check_reports_each_defect() {
    if !common::can_run_servers("admin-check-defects") {
        return;
    }
    let probe = Setup::new("admin-check-probe");
    let count = cases(&probe).len();
    drop(probe);
    for index in 0..count {
        let setup = Setup::new("admin-check-defect");
        let case = cases(&setup).remove(index);
        setup.write_config(&case.config);
        (case.change)(&setup);

        let (status, stdout, stderr) = setup.check(&["--json"]);
        assert_eq!(status, 1, "{}: expected findings, exit 1\n{}{}", case.name, stdout, stderr);
        let expected_kind = format!(":\"{}\"", case.kind);
        let finding = stdout
            .split("{\"kind\"")
            .skip(1)
            .find(|part| part.starts_with(&expected_kind) && part.contains(&case.path))
            .unwrap_or_else(|| panic!("{}: no {} finding for {}:\n{}", case.name, case.kind, case.path, stdout));
        if case.from_config {
            let source = format!("\"source\":\"{}:{}\"", setup.config.display(), setup.first_extra_line());
            assert!(finding.contains(&source), "{}: finding lacks {}: {}", case.name, source, finding);
        }
        let findings = stdout.matches("{\"kind\"").count();
        assert_eq!(findings, 1, "{}: expected one finding, got {}:\n{}", case.name, findings, stdout);
    }
}

#[test]
fn check_reports_interpreter_script_line() {
    if !common::can_run_servers("admin-check-interpreter") {
        return;
    }
    let setup = Setup::new("admin-check-interpreter");
    let script = setup.jail.join("www/cgi-bin/hello.pl");
    write_file(&script, "#!/usr/bin/perl\nprint \"Content-Type: text/plain\\n\\nhello\\n\";\n", 0o755);
    let (status, stdout, _) = setup.check(&[]);
    assert_eq!(status, 1, "{}", stdout);
    assert!(stdout.contains(&format!("{}:1: missing-interpreter", script.display())), "text output:\n{}", stdout);
    assert!(stdout.contains("--with /usr/bin/perl"), "no proposal:\n{}", stdout);

    // After the proposal is applied, the check passes.
    admin_expect(&["jail", "--user", "www-data", "--with", "/usr/bin/perl", setup.jail.to_str().unwrap()], 0);
    let (status, stdout, _) = setup.check(&[]);
    assert_eq!(status, 0, "after --with /usr/bin/perl:\n{}", stdout);
}

fn audit_line(function: &str, path: &str, jail: &Path) -> String {
    format!(
        "[Fri Dec 04 21:30:36.212139 2026] [httpd-chroot:warn] [pid 354:tid 354] audit: {}({}) found nothing in jail {}: ENOENT (No such file or directory)",
        function,
        path,
        jail.display()
    )
}

#[test]
fn check_audit_log_proposes_options() {
    if !common::can_run_servers("admin-check-audit") {
        return;
    }
    let setup = Setup::new("admin-check-audit");
    let other_jail = setup.scratch.path.join("other-jail");
    let log = setup.scratch.path.join("error.log");
    let lines = [
        "[Fri Dec 04 21:30:35.000000 2026] [mpm_prefork:notice] [pid 350:tid 350] AH00163: Apache/2.4 configured".to_string(),
        audit_line("execve", "/usr/bin/perl", &setup.jail),
        audit_line("execve", "/usr/bin/perl", &setup.jail),
        audit_line("open", "/usr/lib/x86_64-linux-gnu/perl-base/strict.pm", &setup.jail),
        audit_line("open", "/lib/x86_64-linux-gnu/libcrypt.so.1", &setup.jail),
        audit_line("open", "/etc/mime.types", &setup.jail),
        audit_line("stat", "/srv/odd\\x01name", &setup.jail),
        audit_line("open", "/usr/bin/python3-for-another-jail", &other_jail),
        // Present in the jail already, so nothing to propose.
        audit_line("open", "/etc/passwd", &setup.jail),
    ];
    write_file(&log, &(lines.join("\n") + "\n"), 0o644);

    let (status, stdout, stderr) = setup.check(&["--json", "--audit-log", log.to_str().unwrap()]);
    assert_eq!(status, 1, "{}{}", stdout, stderr);
    let proposals = stdout.split("\"proposals\":").nth(1).unwrap_or("");
    assert_eq!(
        proposals.trim(),
        "[\"--with /usr/bin/perl\",\"--with-tree /usr/lib/x86_64-linux-gnu/perl-base\",\"--with /etc/mime.types\"]}",
        "proposals in: {}",
        stdout
    );
    let notes = json_array(&stdout, "notes");
    assert!(notes.contains("\"path\":\"/srv/odd\\u0001name\""), "escaped path not decoded, or not a note: {}", stdout);
    assert!(!json_array(&stdout, "findings").contains("/srv/odd"), "a path the host lacks is a finding: {}", stdout);
    assert!(!stdout.contains("another-jail"), "a line of another jail was used: {}", stdout);
    assert!(stdout.contains(&format!("\"source\":\"{}:2\"", log.display())), "no log line number: {}", stdout);
    assert!(stdout.contains("2 time(s)"), "repeated line not counted: {}", stdout);

    // The text output names the program by its absolute path, so the
    // proposed command runs as printed.
    let (status, stdout, _) = setup.check(&["--audit-log", log.to_str().unwrap()]);
    assert_eq!(status, 1, "{}", stdout);
    let program = fs::canonicalize(admin_program()).unwrap();
    let command = format!("  {} jail --user www-data --with /usr/bin/perl", program.display());
    assert!(stdout.contains(&command), "proposed command lacks {:?}:\n{}", command, stdout);

    // Applying the proposals leaves only the path that exists nowhere, a
    // note that does not fail the check.
    admin_expect(
        &["jail", "--user", "www-data", "--with", "/usr/bin/perl", "--with-tree", "/usr/lib/x86_64-linux-gnu/perl-base", "--with", "/etc/mime.types", setup.jail.to_str().unwrap()],
        0,
    );
    let (status, stdout, _) = setup.check(&["--audit-log", log.to_str().unwrap()]);
    assert_eq!(status, 0, "{}", stdout);
    assert_eq!(stdout.matches("audit: ").count(), 1, "expected only the odd path left:\n{}", stdout);
    assert!(stdout.contains(&format!("note: {}:7: audit: ", log.display())), "{}", stdout);
    assert!(stdout.contains("nothing to copy"), "{}", stdout);
    assert!(stdout.contains("passed every check (1 note(s))"), "{}", stdout);
}

/// Returns the JSON array `key` in `json`, brackets included, skipping
/// brackets inside strings.
fn json_array<'a>(json: &'a str, key: &str) -> &'a str {
    let start = json.find(&format!("\"{}\":[", key)).unwrap_or_else(|| panic!("no {} in: {}", key, json)) + key.len() + 3;
    let (mut depth, mut in_string, mut escaped) = (0, false, false);
    for (offset, c) in json[start..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '[' if !in_string => depth += 1,
            ']' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return &json[start..start + offset + 1];
                }
            }
            _ => {}
        }
    }
    panic!("unterminated {} array in: {}", key, json)
}

#[test]
fn check_audit_notes_keep_exit_zero() {
    if !common::can_run_servers("admin-check-audit-notes") {
        return;
    }
    let setup = Setup::new("admin-check-audit-notes");
    let log = setup.scratch.path.join("error.log");
    // A 404, a DirectoryIndex probe and a Perl module in a tree the host has
    // but without that file: nothing on the host to copy.
    let lines = [
        audit_line("stat", "/www/no-such-page.html", &setup.jail),
        audit_line("stat", "/www/index.php", &setup.jail),
        audit_line("open", "/etc/perl/strict.pm", &setup.jail),
    ];
    write_file(&log, &(lines.join("\n") + "\n"), 0o644);

    let (status, stdout, stderr) = setup.check(&["--json", "--audit-log", log.to_str().unwrap()]);
    assert_eq!(status, 0, "notes made the check fail:\n{}{}", stdout, stderr);
    assert!(stdout.contains("\"findings\":[]"), "{}", stdout);
    assert!(stdout.contains("\"proposals\":[]"), "{}", stdout);
    let notes = json_array(&stdout, "notes");
    for path in ["/www/no-such-page.html", "/www/index.php", "/etc/perl/strict.pm"] {
        assert!(notes.contains(&format!("\"path\":\"{}\"", path)), "no note for {}: {}", path, stdout);
    }

    let (status, stdout, _) = setup.check(&["--audit-log", log.to_str().unwrap()]);
    assert_eq!(status, 0, "{}", stdout);
    assert_eq!(stdout.matches("\nnote: ").count() + usize::from(stdout.starts_with("note: ")), 3, "{}", stdout);
    assert!(!stdout.contains("to copy what is missing"), "{}", stdout);
}

#[test]
fn check_usage_errors() {
    let scratch = Scratch::new("admin-check-usage");
    let config = scratch.path.join("httpd.conf");
    write_file(&config, "User www-data\n", 0o644);
    let config = config.to_str().unwrap();
    let jail = scratch.path.to_str().unwrap();
    let env = "--env-file=/nonexistent/envvars";
    let status = |args: &[&str]| outcome(&run_admin(args)).0;
    assert_eq!(status(&["check", "--bogus"]), 2);
    assert_eq!(status(&["check", "--layout", "debian", env, "--config", config]), 2, "no jail given");
    assert_eq!(status(&["check", "--layout", "debian", env, "--config", "/nonexistent.conf", "--jail", jail]), 2);
    assert_eq!(status(&["check", "--layout", "debian", env, "--config", config, "--jail", "relative"]), 2);
    assert_eq!(status(&["check", "--layout", "debian", env, "--config", config, "--jail", jail, "extra"]), 2);
    assert!(admin_expect(&["check", "--help"], 0).contains("--audit-log FILE"));
}

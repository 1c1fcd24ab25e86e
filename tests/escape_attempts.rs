//! Attempts to reach a file outside the jail, made from a CGI program and a
//! PHP page that run in the jail as the run user. They try the file's host
//! path, `..`, symlinks planted in the jail, /proc (mounted in the jail for
//! this test), fchdir through every open descriptor, and chroot. Each
//! attempt must fail with the errno the kernel gives a confined process, and
//! no attempt may return the file's content. The same probe run first on the
//! host reaches the file by every path, so the failures come from the jail.
//!
//! Both modes run with mod_cgid under the event MPM and with mod_cgi and
//! mod_php under prefork, at start and after two graceful restarts.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::apache::{uid_of, Running, Site, RUN_USER};
use common::escape::{self, Attempt, ProcMount, Target};
use common::http;
use common::lifecycle::serial;
use common::procs::ProcessInfo;

/// The module that Debian's libapache2-mod-php8.2 installs.
const PHP_MODULE: &str = "/usr/lib/apache2/modules/libphp8.2.so";

/// Attempts by path that reach the outside file on the host and must fail
/// with ENOENT in the jail, where the path names nothing.
const PATH_ATTEMPTS: [&str; 7] = [
    "open-absolute",
    "open-jail-dotdot",
    "open-dotdot",
    "chdir-dotdot-open",
    "symlink-absolute",
    "symlink-relative",
    "symlink-deep",
];

/// Returns the one attempt called `name`.
fn find<'a>(attempts: &'a [Attempt], name: &str, label: &str) -> &'a Attempt {
    let mut matching = attempts.iter().filter(|attempt| attempt.name == name);
    let found = matching.next().unwrap_or_else(|| panic!("{}: no {} line in {:#?}", label, name, attempts));
    assert!(matching.next().is_none(), "{}: more than one {} line", label, name);
    found
}

/// Checks that the output never contains the token and that no attempt
/// reports reading the outside file or listing its directory, naming every
/// attempt that did.
fn assert_token_absent(body: &str, attempts: &[Attempt], token: &str, label: &str) {
    let reached = |attempt: &&Attempt| attempt.field("token") == Some("found") || attempt.field("outside") == Some("listed");
    let found: Vec<String> = attempts.iter().filter(reached).map(describe_attempt).collect();
    assert!(found.is_empty(), "{}: escaped the jail, these attempts reached the outside file: {:#?}", label, found);
    assert!(!body.contains(token), "{}: the output contains the outside file's token:\n{}", label, body);
    assert_eq!(attempts.last().map(|attempt| attempt.name.as_str()), Some("done"), "{}: output ends early:\n{}", label, body);
}

/// Returns the attempt's line and, for a /proc attempt, the process it went
/// through as the kernel shows it now.
fn describe_attempt(attempt: &Attempt) -> String {
    let Some(pid) = attempt.pid() else {
        return attempt.line.clone();
    };
    let cwd = std::fs::read_link(format!("/proc/{}/cwd", pid)).map(|path| path.display().to_string());
    let process = ProcessInfo::read(pid).map_or("exited".to_string(), |info| format!("{:?}", info));
    format!("{} (through pid {}: cwd {:?}, {})", attempt.line, pid, cwd.unwrap_or_else(|error| error.to_string()), process)
}

/// Runs the probe on the host, outside any jail, as the run user: every
/// attempt by path and through its own /proc entry must read the token, and
/// chroot must fail with EPERM because the run user lacks CAP_SYS_CHROOT.
fn check_host_control(site: &Site, target: &Target, probe: &Path) {
    let body = escape::run_probe_on_host(site, target, probe);
    let attempts = escape::parse_attempts(&body);
    let label = "probe on the host";
    for name in PATH_ATTEMPTS {
        assert_eq!(find(&attempts, name, label).field("token"), Some("found"), "{}: {} did not reach the file", label, name);
    }

    let own = find(&attempts, "self", label).pid().expect("the probe's pid");
    for name in ["proc-root", "proc-cwd"] {
        let line = attempts.iter().find(|attempt| attempt.name == name && attempt.pid() == Some(own));
        let line = line.unwrap_or_else(|| panic!("{}: no {} line for its own pid {}", label, name, own));
        assert_eq!(line.field("token"), Some("found"), "{}: {}", label, line.line);
    }
    for name in ["chroot-dot", "chroot-root"] {
        assert_eq!(find(&attempts, name, label).outcome(), "EPERM", "{}: {}", label, name);
    }
}

/// Checks the /proc attempts named in `kinds`, each with the outcome
/// expected for the caller's own process, and returns them by role.
///
/// Following /proc/PID/root or /proc/PID/cwd needs ptrace read access. The
/// kernel grants it for the caller's own process. For another process it
/// requires the same uids and gids, no capabilities the caller lacks, and a
/// dumpable process. A process that changed its uid and did not exec since,
/// such as every httpd child, is not dumpable, and its /proc/PID/status is
/// owned by root. httpd makes its children dumpable again only when
/// CoreDumpDirectory is set, which these sites do not set. So the caller's own entry gives ENOENT (its root is the
/// jail), and the entries of the server's processes and of other users give
/// EACCES. A process that exited before the attempt gives ENOENT. Another
/// dumpable process of the run user, outside this server, gives the own
/// outcome or EACCES depending on its gids, and must not lead to the file.
fn check_proc(attempts: &[Attempt], kinds: &[(&str, &str)], server: &Running<'_>, label: &str) -> BTreeSet<String> {
    let own = find(attempts, "self", label).pid().expect("pid of the process making the attempts");
    let run_uid = uid_of(RUN_USER).to_string();
    let server_pids: Vec<i32> = server.httpd_processes().iter().map(|process| process.pid).collect();
    let listed = find(attempts, "proc-list", label).field("count").and_then(|count| count.parse::<usize>().ok());
    let first_kind = attempts.iter().filter(|attempt| attempt.name == kinds[0].0).count();
    assert_eq!(listed, Some(first_kind), "{}: proc-list count", label);

    let mut roles = BTreeSet::new();
    for attempt in attempts {
        let Some(&(_, own_outcome)) = kinds.iter().find(|(name, _)| *name == attempt.name) else {
            continue;
        };
        let pid = attempt.pid().expect("pid field");
        let allowed = match attempt.field("owner").unwrap_or_default() {
            _ if pid == own => vec![own_outcome],
            "gone" => vec!["ENOENT"],
            owner if owner == run_uid => vec![own_outcome, "EACCES"],
            _ => vec!["EACCES"],
        };
        assert!(allowed.contains(&attempt.outcome()), "{}: expected one of {:?}: {}", label, allowed, attempt.line);

        let role = if pid == own {
            "own"
        } else if pid == server.parent {
            "daemon-parent"
        } else if server_pids.contains(&pid) {
            "server"
        } else {
            continue;
        };
        if role != "own" {
            assert_eq!(attempt.field("owner"), Some("0"), "{}: {} process not owned by root: {}", label, role, attempt.line);
            assert_eq!(attempt.outcome(), "EACCES", "{}: {} process: {}", label, role, attempt.line);
        }
        roles.insert(format!("{} {} {}", attempt.name, role, attempt.outcome()));
    }

    for (name, own_outcome) in kinds {
        for expected in [format!("{} own {}", name, own_outcome), format!("{} daemon-parent EACCES", name)] {
            assert!(roles.contains(&expected), "{}: no `{}` among {:?}", label, expected, roles);
        }
    }
    roles
}

/// Returns the outcome of every attempt except the volatile ones (pids,
/// process counts, descriptor limit), to compare runs across restarts.
fn summary(attempts: &[Attempt], proc_roles: BTreeSet<String>) -> BTreeSet<String> {
    let volatile = ["self", "proc-root", "proc-cwd", "proc-root-dir", "proc-cwd-dir", "proc-readlink", "proc-list", "fd-limit"];
    let mut lines: BTreeSet<String> =
        attempts.iter().filter(|attempt| !volatile.contains(&attempt.name.as_str())).map(|a| a.line.clone()).collect();
    lines.extend(proc_roles);
    lines
}

/// Requests `path` and returns the response body, which must be a 200.
fn request(site: &Site, path: &str, step: &str) -> String {
    let response = http::get(site.port, path).unwrap_or_else(|error| panic!("{}: GET {}: {}", step, path, error));
    assert_eq!(response.status, 200, "{}: GET {}: {:?}\n{}", step, path, response, site.report());
    response.body
}

/// Runs the probe CGI in the jail and checks every attempt. Returns the
/// summary of its results.
fn check_probe(server: &Running<'_>, target: &Target, step: &str) -> BTreeSet<String> {
    let site = server.site;
    let label = format!("{}: probe CGI", step);
    let query = escape::probe_query(site, target, Path::new("/links"));
    let body = request(site, &format!("/cgi-bin/escape_probe?{}", query), step);
    let attempts = escape::parse_attempts(&body);
    assert_token_absent(&body, &attempts, &target.token, &label);

    assert_eq!(find(&attempts, "self", &label).field("uid"), Some(uid_of(RUN_USER).to_string().as_str()), "{}: uid", label);
    assert_eq!(find(&attempts, "cwd-start", &label).field("path"), Some("/www/cgi-bin"), "{}: working directory", label);
    for name in PATH_ATTEMPTS {
        assert_eq!(find(&attempts, name, &label).outcome(), "ENOENT", "{}: {}", label, name);
    }
    assert_eq!(find(&attempts, "chdir-dotdot", &label).field("path"), Some("/"), "{}: getcwd after chdir(\"..\")", label);

    // No open descriptor is a directory. A CGI program gets the request and
    // response streams, the error log and what the program that started
    // httpd left open. The library's descriptors are close-on-exec and are
    // closed before root privileges are dropped.
    let descriptors: Vec<&Attempt> = attempts.iter().filter(|attempt| attempt.name == "fchdir").collect();
    assert!(descriptors.iter().any(|attempt| attempt.field("fd") == Some("1")), "{}: fd 1 not listed: {:#?}", label, attempts);
    for attempt in &descriptors {
        assert_eq!(attempt.outcome(), "ENOTDIR", "{}: {}", label, attempt.line);
    }
    for name in ["fchdir-getcwd", "fchdir-open"] {
        assert!(attempts.iter().all(|attempt| attempt.name != name), "{}: fchdir succeeded: {:#?}", label, attempts);
    }

    for name in ["chroot-dot", "chroot-root"] {
        assert_eq!(find(&attempts, name, &label).outcome(), "EPERM", "{}: {}", label, name);
    }
    let roles = check_proc(&attempts, &[("proc-root", "ENOENT"), ("proc-cwd", "ENOENT")], server, &label);
    summary(&attempts, roles)
}

/// Requests the PHP page, which runs inside an httpd child where the library
/// translates host paths under the jail, and checks every attempt. Returns
/// the summary of its results.
fn check_php(server: &Running<'_>, target: &Target, step: &str) -> BTreeSet<String> {
    let site = server.site;
    let label = format!("{}: PHP page", step);
    let body = request(site, "/escape.php", step);
    let attempts = escape::parse_attempts(&body);
    assert_token_absent(&body, &attempts, &target.token, &label);

    assert_eq!(find(&attempts, "self", &label).field("uid"), Some(uid_of(RUN_USER).to_string().as_str()), "{}: uid", label);
    // getcwd returns host spellings in jailed processes.
    let www = site.jail.join("www").display().to_string();
    assert_eq!(find(&attempts, "cwd-start", &label).field("path"), Some(www.as_str()), "{}: working directory", label);
    for name in PATH_ATTEMPTS.iter().chain(&["fopen-absolute"]) {
        assert_eq!(find(&attempts, name, &label).outcome(), "ENOENT", "{}: {}", label, name);
    }
    let jail = site.jail.display().to_string();
    assert_eq!(find(&attempts, "chdir-dotdot", &label).field("path"), Some(jail.as_str()), "{}: getcwd after chdir", label);
    assert_eq!(find(&attempts, "chroot", &label).field("function"), Some("absent"), "{}: chroot() in mod_php", label);

    // PHP resolves /proc/PID/root itself and reports every failure as ENOENT.
    for attempt in attempts.iter().filter(|attempt| attempt.name == "proc-root") {
        assert_eq!(attempt.outcome(), "ENOENT", "{}: {}", label, attempt.line);
    }
    let kinds = [("proc-root-dir", "ENOENT"), ("proc-cwd-dir", "ENOENT"), ("proc-readlink", "ok")];
    let roles = check_proc(&attempts, &kinds, server, &label);
    let own = find(&attempts, "self", &label).pid();
    let readlink = attempts.iter().find(|attempt| attempt.name == "proc-readlink" && attempt.pid() == own);
    assert_eq!(readlink.and_then(|attempt| attempt.field("target")), Some("/"), "{}: own root as readlink shows it", label);
    summary(&attempts, roles)
}

fn escape_attempts(mpm: &'static str, mode: &str) {
    let test = format!("escape-{}-{}", mpm, mode);
    if !common::can_run_servers(&test) {
        return;
    }
    // The probe run on the host is a dumpable process of the run user outside
    // any jail, which a probe running at the same time in another jail with
    // /proc could follow out. Serial runs keep the tests of this file apart.
    let _serial = serial();
    let mut site = Site::new(&test, mpm);
    site.set_mode(mode);
    let php = mpm == "prefork" && Path::new(PHP_MODULE).exists();
    if mpm == "prefork" {
        assert!(php || std::env::var_os("HTTPD_CHROOT_TEST_STRICT").is_none(), "{} needs libapache2-mod-php", test);
        site.modules.retain(|module| module != "cgid");
        site.modules.push("cgi".to_string());
    }
    if php {
        site.extra.extend([
            format!("LoadModule php_module {}", PHP_MODULE),
            "<FilesMatch \"\\.php$\">\n    SetHandler application/x-httpd-php\n</FilesMatch>".to_string(),
        ]);
    }

    let target = escape::plant_target(&site);
    let probe = escape::install_probe(&site);
    if php {
        escape::write_php_page(&site, &target);
    }
    check_host_control(&site, &target, &probe);

    // NOTE: with /proc in the jail, any dumpable process of the run user whose
    // root or working directory is outside this jail (a CGI of another jail,
    // a job run as www-data) lets the probe out through /proc/PID/root or
    // /proc/PID/cwd. This test then fails and names that process.
    let _proc = ProcMount::new(&site.jail);
    let server = site.start();
    server.check_confined("start");
    let probe_first = check_probe(&server, &target, "start");
    let php_first = php.then(|| check_php(&server, &target, "start"));

    for step in ["graceful 1", "graceful 2"] {
        server.restart_with("graceful");
        server.check_confined(step);
        assert_eq!(check_probe(&server, &target, step), probe_first, "{}: probe results differ from those at start", step);
        if let Some(first) = &php_first {
            assert_eq!(&check_php(&server, &target, step), first, "{}: PHP results differ from those at start", step);
        }
    }

    server.stop_with("stop");
    let log = site.error_log();
    assert!(!log.contains("[httpd-chroot:error]"), "library errors:\n{}", log);
}

#[test]
fn cgid_event_server_mode() {
    escape_attempts("event", "server");
}

#[test]
fn cgid_event_children_mode() {
    escape_attempts("event", "children");
}

#[test]
fn cgi_and_php_prefork_server_mode() {
    escape_attempts("prefork", "server");
}

#[test]
fn cgi_and_php_prefork_children_mode() {
    escape_attempts("prefork", "children");
}

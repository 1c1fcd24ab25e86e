//! Calls whose results the library rewrites, made by a jailed process with
//! host paths under the jail (tests/programs/jailed_calls.c). realpath and
//! getcwd return host spellings, and mkstemp fills in the caller's template.
//! An ancestor of the jail is a directory, AF_UNIX sockets bind and connect,
//! and an overlong path fails as the kernel would fail it.

mod common;

use std::collections::HashMap;
use std::process::Command;

use common::{library, Scratch};

#[test]
fn jailed_calls_use_host_spelling() {
    if !common::can_run_servers("jailed-calls") {
        return;
    }
    let scratch = Scratch::new("jailed-calls");
    let program = common::build_program(&scratch, "jailed_calls");
    let jail = scratch.dir("jail", 0o755);
    scratch.dir("jail/www", 0o755);
    scratch.dir("jail/tmp", 0o1777);
    scratch.dir("jail/run", 0o755);
    let pidfile = scratch.dir("run", 0o755).join("calls.pid");
    let jail = std::fs::canonicalize(&jail).expect("canonical jail path");

    let output = Command::new(&program)
        .arg(&pidfile)
        .arg(&jail)
        .env("LD_PRELOAD", library())
        .env("HTTPD_CHROOT_DIR", &jail)
        .output()
        .expect("run jailed_calls");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "jailed_calls failed: {}\n{}", stdout, stderr);
    assert!(stderr.contains("entered jail"), "the program did not enter the jail: {}", stderr);
    let results: HashMap<&str, &str> = stdout.lines().filter_map(|line| line.split_once('=')).collect();
    let www = format!("{}/www", jail.display());

    assert_eq!(results["realpath"], www, "realpath of the DocumentRoot");
    assert_eq!(results["chdir"], "0", "chdir into the DocumentRoot");
    assert_eq!(results["getcwd"], www, "getcwd after chdir");

    let template = format!("{}/tmp/probe.", jail.display());
    assert!(results["mkstemp"].starts_with(&template), "mkstemp template: {}", results["mkstemp"]);
    assert_eq!(results["mkstemp"].len(), template.len() + 6, "mkstemp filled in six characters");
    assert!(std::path::Path::new(results["mkstemp"]).exists(), "file {} on the host", results["mkstemp"]);

    assert_eq!(results["ancestor"], "directory", "the directory containing the jail");
    assert_eq!(results["bind"], "0", "bind under the jail");
    assert_eq!(results["connect"], "0", "connect under the jail");
    assert!(jail.join("run/probe.sock").exists(), "socket file at its host path");
    assert_eq!(results["long"], "ENAMETOOLONG", "stat of a path longer than PATH_MAX");
}

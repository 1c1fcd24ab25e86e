//! Starting a site that must be refused, and the checks that it was: one
//! error line on the terminal and one in the error log, a non-zero exit,
//! and no process, pidfile or listener left behind.

use std::process::Output;

use super::apache::{describe, Site};
use super::{http, library_lines, procs};

/// Starts the site and returns the output of `apache2 -k start`.
pub fn start(site: &Site) -> Output {
    site.write_config();
    site.command(&["-k", "start"]).output().expect("run apache2 -k start")
}

/// Checks that the start was refused with every text of `expected` in both
/// error lines.
pub fn assert_rejected(site: &Site, output: &Output, expected: &[&str]) {
    assert_eq!(output.status.code(), Some(1), "apache2 must fail: {}", describe(output));

    let stderr = String::from_utf8_lossy(&output.stderr);
    let terminal = library_lines(&stderr, "error");
    assert_eq!(terminal.len(), 1, "one error line on the terminal: {}", stderr);
    let log = site.error_log();
    let logged = library_lines(&log, "error");
    assert_eq!(logged.len(), 1, "one error line in the error log: {}", log);
    for text in expected {
        assert!(terminal[0].contains(text), "terminal line lacks {:?}: {}", text, terminal[0]);
        assert!(logged[0].contains(text), "error-log line lacks {:?}: {}", text, logged[0]);
    }
    assert!(terminal[0].contains("The server was not started"), "terminal line: {}", terminal[0]);

    assert_nothing_runs(site);
}

/// Checks that no pidfile, listener or process of the site is left.
pub fn assert_nothing_runs(site: &Site) {
    assert!(!site.pidfile.exists(), "no pidfile at {}", site.pidfile.display());
    assert!(!http::is_listening(site.port), "nothing listens on port {}", site.port);
    let config = site.config.display().to_string();
    let left: Vec<_> = procs::all().into_iter().filter(|info| info.command.contains(&config)).collect();
    assert!(left.is_empty(), "processes left: {:?}", left);
}

//! Audit mode: with HTTPD_CHROOT_AUDIT=1, jailed server processes log each
//! path they did not find in the jail, once for the whole server, naming
//! the call; a CGI script whose interpreter is missing names the interpreter.

mod common;

use common::apache::Site;
use common::{http, write_file};

/// Returns the audit lines of the site's error log.
fn audit_lines(site: &Site) -> Vec<String> {
    let log = site.error_log();
    common::library_lines(&log, "warn").into_iter().filter(|line| line.contains("] audit: ")).map(str::to_string).collect()
}

fn lines_naming(lines: &[String], needle: &str) -> usize {
    lines.iter().filter(|line| line.contains(needle)).count()
}

fn site_with_perl_cgi(test: &str, audit: Option<&str>) -> Site {
    let mut site = Site::new(test, "event");
    site.add_cgi();
    if let Some(value) = audit {
        site.set_env("HTTPD_CHROOT_AUDIT", value);
    }
    site.set_env("HTTPD_CHROOT_LOG", "info");
    let script = "#!/usr/bin/perl -w\nprint \"Content-Type: text/plain\\n\\nperl\\n\";\n";
    write_file(&site.jail.join("www/cgi-bin/hello.pl"), script, 0o755);
    site
}

#[test]
fn missing_paths_are_logged_once() {
    if !common::can_run_servers("audit-on") {
        return;
    }
    let site = site_with_perl_cgi("audit-on", Some("1"));
    let server = site.start();

    for _ in 0..20 {
        let missing = http::get(site.port, "/no-such-page.html").expect("GET /no-such-page.html");
        assert_eq!(missing.status, 404, "GET /no-such-page.html: {:?}", missing);
    }
    let perl = http::get(site.port, "/cgi-bin/hello.pl").expect("GET /cgi-bin/hello.pl");
    assert_eq!(perl.status, 500, "the Perl CGI cannot run without perl in the jail: {:?}", perl);
    let shell = http::get(site.port, "/cgi-bin/probe.cgi").expect("GET /cgi-bin/probe.cgi");
    assert_eq!(shell.status, 200, "the shell CGI runs: {:?}", shell);
    server.stop();

    let lines = audit_lines(&site);
    let jail = format!("found nothing in jail {}: ENOENT (No such file or directory)", site.jail.display());
    assert!(lines.iter().all(|line| line.contains("found nothing in jail")), "{:#?}", lines);
    assert_eq!(lines_naming(&lines, &format!("(/www/no-such-page.html) {}", jail)), 1, "{:#?}", lines);
    assert_eq!(lines_naming(&lines, &format!("audit: execve(/usr/bin/perl) {}", jail)), 1, "{:#?}", lines);
    assert_eq!(lines_naming(&lines, "/bin/sh"), 0, "the shell is in the jail: {:#?}", lines);
    assert_eq!(lines_naming(&lines, "hello.pl"), 0, "the script itself exists: {:#?}", lines);
}

#[test]
fn audit_is_off_by_default() {
    if !common::can_run_servers("audit-off") {
        return;
    }
    let site = site_with_perl_cgi("audit-off", None);
    let server = site.start();
    let missing = http::get(site.port, "/no-such-page.html").expect("GET /no-such-page.html");
    assert_eq!(missing.status, 404);
    let perl = http::get(site.port, "/cgi-bin/hello.pl").expect("GET /cgi-bin/hello.pl");
    assert_eq!(perl.status, 500);
    server.stop();
    assert_eq!(audit_lines(&site), Vec::<String>::new());
}

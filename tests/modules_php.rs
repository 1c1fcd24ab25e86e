//! Debian's mod_php (libapache2-mod-php, prefork) in both modes: a PHP page
//! runs in the jail as the run user, and sessions saved under a host path
//! in the jail (`php_admin_value session.save_path`) keep their data
//! through a graceful and a full restart.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use common::apache::{uid_of, Site, RUN_USER};
use common::lifecycle::{assert_nothing_left, serial};
use common::write_file;

/// The module that Debian's libapache2-mod-php8.2 installs.
const PHP_MODULE: &str = "/usr/lib/apache2/modules/libphp8.2.so";

/// A response split into status, header lines and body.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<String>,
    body: String,
}

/// Sends `GET path` to 127.0.0.1:`port` with a `Cookie` header when
/// `cookie` is given, and reads the whole response.
fn get(port: u16, path: &str, cookie: Option<&str>) -> Response {
    let connected = TcpStream::connect(("127.0.0.1", port));
    let mut stream = connected.unwrap_or_else(|error| panic!("connect to 127.0.0.1:{}: {}", port, error));
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("set read timeout");
    let cookie = cookie.map(|value| format!("Cookie: {}\r\n", value)).unwrap_or_default();
    let request = format!("GET {} HTTP/1.0\r\nHost: 127.0.0.1\r\n{}Connection: close\r\n\r\n", path, cookie);
    stream.write_all(request.as_bytes()).expect("send request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap_or_else(|error| panic!("read response to GET {}: {}", path, error));

    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
    let mut lines = head.lines();
    let status = lines.next().and_then(|line| line.split_whitespace().nth(1)).and_then(|code| code.parse().ok());
    Response {
        status: status.unwrap_or_else(|| panic!("no status line in response to GET {}: {:?}", path, text)),
        headers: lines.map(str::to_string).collect(),
        body: body.to_string(),
    }
}

/// Returns `PHPSESSID=<id>` from a response's Set-Cookie header.
fn session_cookie(response: &Response) -> Option<String> {
    response.headers.iter().find_map(|line| {
        let value = line.strip_prefix("Set-Cookie: ")?;
        let pair = value.split(';').next()?;
        pair.starts_with("PHPSESSID=").then(|| pair.to_string())
    })
}

/// Requests the session page and checks the counter it returns and the
/// session file PHP wrote in the jail.
fn check_session(site: &Site, cookie: &str, expected: u32, step: &str) {
    let response = get(site.port, "/session.php", Some(cookie));
    assert_eq!(response.status, 200, "{}: {:?}\n{}", step, response, site.report());
    assert_eq!(response.body, format!("count={}\n", expected), "{}: session page", step);

    let id = cookie.strip_prefix("PHPSESSID=").expect("session cookie");
    let file = site.jail.join(format!("sessions/sess_{}", id));
    let data = fs::read_to_string(&file).unwrap_or_else(|error| panic!("{}: read {}: {}", step, file.display(), error));
    assert_eq!(data, format!("count|i:{};", expected), "{}: content of {}", step, file.display());
    let owner = fs::metadata(&file).expect("session file metadata").uid();
    assert_eq!(owner, uid_of(RUN_USER), "{}: owner of {}", step, file.display());
}

/// Checks that the PHP page runs in the jail as the run user and sees its
/// own path as the host path under the jail.
fn check_page(site: &Site, step: &str) {
    let response = get(site.port, "/info.php", None);
    assert_eq!(response.status, 200, "{}: {:?}\n{}", step, response, site.report());
    let www = site.jail.join("www");
    let expected = format!(
        "root=jail\nuid={uid}\nscript={www}/info.php\nrealpath={www}/info.php\n",
        uid = uid_of(RUN_USER),
        www = www.display()
    );
    assert_eq!(response.body, expected, "{}: PHP page", step);
}

fn php_lifecycle(mode: &str) {
    let test = format!("modules-php-{}", mode);
    if !common::can_run_servers(&test) {
        return;
    }
    if !Path::new(PHP_MODULE).exists() {
        assert!(std::env::var_os("HTTPD_CHROOT_TEST_STRICT").is_none(), "{} needs libapache2-mod-php", test);
        eprintln!("skipping {}: needs Debian's libapache2-mod-php ({})", test, PHP_MODULE);
        return;
    }
    let _serial = serial();
    let mut site = Site::new(&test, "prefork");
    site.set_mode(mode);
    let sessions = site.scratch.dir("jail/sessions", 0o700);
    std::os::unix::fs::chown(&sessions, Some(uid_of(RUN_USER)), None).expect("chown the session directory");
    site.extra.extend([
        format!("LoadModule php_module {}", PHP_MODULE),
        "<FilesMatch \"\\.php$\">\n    SetHandler application/x-httpd-php\n</FilesMatch>".to_string(),
        format!("php_admin_value session.save_path {}", sessions.display()),
    ]);
    let info = format!(
        "<?php\n\
         header('Content-Type: text/plain');\n\
         echo 'root=', file_exists('/marker-{}.txt') ? 'jail' : 'host', \"\\n\";\n\
         echo 'uid=', posix_geteuid(), \"\\n\";\n\
         echo 'script=', $_SERVER['SCRIPT_FILENAME'], \"\\n\";\n\
         echo 'realpath=', realpath(__FILE__), \"\\n\";\n",
        site.token
    );
    write_file(&site.jail.join("www/info.php"), &info, 0o644);
    let counter = "<?php\n\
                   session_start();\n\
                   $_SESSION['count'] = ($_SESSION['count'] ?? 0) + 1;\n\
                   header('Content-Type: text/plain');\n\
                   echo 'count=', $_SESSION['count'], \"\\n\";\n";
    write_file(&site.jail.join("www/session.php"), counter, 0o644);
    let before = Site::ipc_snapshot();

    let server = site.start();
    server.check_confined("start");
    check_page(&site, "start");
    let first = get(site.port, "/session.php", None);
    assert_eq!(first.body, "count=1\n", "first session request: {:?}\n{}", first, site.report());
    let cookie = session_cookie(&first).unwrap_or_else(|| panic!("no session cookie in {:?}", first));
    check_session(&site, &cookie, 2, "start");

    for (action, count) in [("graceful", 3), ("restart", 4)] {
        server.restart_with(action);
        server.check_confined(action);
        check_page(&site, action);
        check_session(&site, &cookie, count, action);
    }

    server.stop_with("stop");
    assert_nothing_left(&site, &before, &[]);
    let log = site.error_log();
    assert!(!log.contains("[httpd-chroot:error]"), "library errors:\n{}", log);
    assert!(!log.contains("PHP Warning"), "PHP warnings:\n{}", log);
}

#[test]
fn php_server_mode() {
    php_lifecycle("server");
}

#[test]
fn php_children_mode() {
    php_lifecycle("children");
}

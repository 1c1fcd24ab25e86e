//! A second, TLS listener for a generated site: a self-signed certificate
//! made with the openssl CLI, mod_ssl with its shmcb session cache, and
//! requests sent with curl.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::apache::{describe, Site};
use super::{free_port, http};

/// Returns whether curl and the openssl CLI are installed. It prints the
/// reason when they are not, or fails under HTTPD_CHROOT_TEST_STRICT.
pub fn have_tls_tools(test: &str) -> bool {
    let missing: Vec<&str> = [("curl", "--version"), ("openssl", "version")]
        .into_iter()
        .filter(|(tool, option)| {
            Command::new(tool).arg(option).output().map_or(true, |output| !output.status.success())
        })
        .map(|(tool, _)| tool)
        .collect();
    if missing.is_empty() {
        return true;
    }
    let reason = format!("needs {} (apt-get install curl openssl)", missing.join(" and "));
    assert!(std::env::var_os("HTTPD_CHROOT_TEST_STRICT").is_none(), "{}: {}", test, reason);
    eprintln!("skipping {}: {}", test, reason);
    false
}

/// Writes a self-signed certificate for 127.0.0.1 and its key under `dir`
/// with the openssl CLI, and returns their paths.
pub fn self_signed_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let cert = dir.join("tls-cert.pem");
    let key = dir.join("tls-key.pem");
    let output = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
        .args(["-days", "2", "-subj", "/CN=127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("run openssl req");
    assert!(output.status.success(), "openssl req failed: {}", describe(&output));
    (cert, key)
}

/// Adds a second listener on a free loopback port that serves TLS with a
/// self-signed certificate and mod_ssl's shmcb session cache, whose mutex
/// follows `Mutex ... default`. Returns the port.
pub fn add_tls_listener(site: &mut Site) -> u16 {
    let port = free_port();
    let (cert, key) = self_signed_certificate(&site.scratch.path);
    site.modules.extend(["socache_shmcb", "ssl"].map(String::from));
    site.extra.extend([
        format!("Listen 127.0.0.1:{}", port),
        format!("SSLSessionCache shmcb:{}/run/ssl_scache(512000)", site.jail.display()),
        format!("<VirtualHost 127.0.0.1:{}>", port),
        "SSLEngine on".to_string(),
        format!("SSLCertificateFile {}", cert.display()),
        format!("SSLCertificateKeyFile {}", key.display()),
        "</VirtualHost>".to_string(),
    ]);
    port
}

/// Sends `GET path` over TLS to 127.0.0.1:`port` with curl, without
/// verifying the certificate, and returns the status and body.
pub fn https_get(port: u16, path: &str) -> Result<(u16, String), String> {
    let output = Command::new("curl")
        .args(["-k", "-s", "-S", "--noproxy", "*", "--max-time", "20", "-w", "\n%{http_code}"])
        .arg(format!("https://127.0.0.1:{}{}", port, path))
        .output()
        .map_err(|error| format!("run curl: {}", error))?;
    if !output.status.success() {
        return Err(format!("curl https://127.0.0.1:{}{} failed: {}", port, path, describe(&output)));
    }
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let (body, status) = text.rsplit_once('\n').ok_or_else(|| format!("no status from curl: {:?}", text))?;
    let status = status.parse().map_err(|_| format!("invalid status from curl: {:?}", text))?;
    Ok((status, body.to_string()))
}

/// Checks that the site's plain listener and its TLS listener on `tls_port`
/// both serve the jail's index page.
pub fn check_plain_and_tls(site: &Site, tls_port: u16, step: &str) {
    let expected = format!("index {}\n", site.token);
    let plain =
        http::get(site.port, "/index.html").unwrap_or_else(|error| panic!("{}: {}\n{}", step, error, site.report()));
    assert_eq!(plain.status, 200, "{}: plain GET: {:?}\n{}", step, plain, site.report());
    assert_eq!(plain.body, expected, "{}: plain GET body", step);

    // Two TLS connections, so that mod_ssl stores two sessions in its
    // cache under its mutex.
    for _ in 0..2 {
        let (status, body) =
            https_get(tls_port, "/index.html").unwrap_or_else(|error| panic!("{}: {}\n{}", step, error, site.report()));
        assert_eq!(status, 200, "{}: TLS GET: {:?}\n{}", step, body, site.report());
        assert_eq!(body, expected, "{}: TLS GET body", step);
    }
}

//! mod_ssl in both modes: HTTPS on loopback with a self-signed certificate,
//! a shmcb session cache named by a host path under the jail, and
//! `SSLRandomSeed connect file:/dev/urandom` read by the jailed children,
//! through a graceful and a full restart.

mod common;

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd};
use std::path::Path;
use std::process::{Command, Stdio};

use common::apache::{describe, Site};
use common::lifecycle::{assert_nothing_left, serial};
use common::{free_port, http};

/// Creates a self-signed certificate and its key in `dir` with the openssl
/// command, valid for 127.0.0.1.
fn make_certificate(dir: &Path) {
    let output = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(dir.join("server.key"))
        .arg("-out")
        .arg(dir.join("server.crt"))
        .output()
        .expect("run openssl (install openssl)");
    assert!(output.status.success(), "openssl req failed: {}", describe(&output));
}

/// Creates the character device /dev/urandom (major 1, minor 9) in the jail.
fn make_urandom(jail: &Path) {
    std::fs::create_dir_all(jail.join("dev")).expect("create dev in the jail");
    let path = CString::new(jail.join("dev/urandom").to_str().expect("UTF-8 jail path")).expect("path without NUL");
    // SAFETY: path is a valid NUL-terminated string.
    let result = unsafe { libc::mknod(path.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 9)) };
    assert_eq!(result, 0, "mknod {:?}: {}", path, std::io::Error::last_os_error());
}

/// An inotify watch that records reads of one file, such as a device node.
struct ReadWatch {
    fd: std::os::fd::OwnedFd,
}

impl ReadWatch {
    fn new(path: &Path) -> ReadWatch {
        // SAFETY: inotify_init1 takes only flags, and a valid result is a new descriptor.
        let raw = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        assert!(raw >= 0, "inotify_init1: {}", std::io::Error::last_os_error());
        // SAFETY: raw is an open descriptor that nothing else owns.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) };
        let name = CString::new(path.to_str().expect("UTF-8 path")).expect("path without NUL");
        // SAFETY: fd is an inotify descriptor and name a NUL-terminated string.
        let watch = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), name.as_ptr(), libc::IN_ACCESS) };
        assert!(watch >= 0, "inotify_add_watch {}: {}", path.display(), std::io::Error::last_os_error());
        ReadWatch { fd }
    }

    /// Returns how many reads were recorded since the last call.
    fn take_reads(&self) -> usize {
        let mut reads = 0;
        let mut buffer = [0u8; 4096];
        loop {
            // SAFETY: buffer is writable for its whole length.
            let length = unsafe { libc::read(self.fd.as_raw_fd(), buffer.as_mut_ptr().cast(), buffer.len()) };
            if length <= 0 {
                return reads;
            }
            // Each event is struct inotify_event (16 bytes) and a name of `len` bytes.
            let mut offset = 0;
            while offset + 16 <= length as usize {
                let field = |at: usize| {
                    let bytes = buffer[offset + at..offset + at + 4].try_into().expect("4 bytes");
                    u32::from_ne_bytes(bytes)
                };
                if field(4) & libc::IN_ACCESS != 0 {
                    reads += 1;
                }
                offset += 16 + field(12) as usize;
            }
        }
    }
}

/// Requests `path` over HTTPS with curl, without verifying the certificate,
/// and returns the body of its 200 response.
fn https_body(site: &Site, port: u16, path: &str) -> String {
    let url = format!("https://127.0.0.1:{}{}", port, path);
    let output = Command::new("curl")
        .args(["-k", "-sS", "--max-time", "20", "-w", "\n%{http_code}"])
        .arg(&url)
        .output()
        .expect("run curl (install curl)");
    assert!(output.status.success(), "curl {}: {}\n{}", url, describe(&output), site.report());
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let (body, status) = text.rsplit_once('\n').expect("curl prints the status last");
    assert_eq!(status, "200", "curl {}: {:?}\n{}", url, text, site.report());
    body.to_string()
}

/// Connects six times over TLS 1.2 offering the first session again, and
/// returns how many connections resumed it. Session tickets are off in the
/// site, so a resumption can only come from the shmcb session cache, which
/// the children share.
fn resumed_sessions(site: &Site, port: u16) -> usize {
    let output = Command::new("openssl")
        .args(["s_client", "-tls1_2", "-reconnect", "-connect"])
        .arg(format!("127.0.0.1:{}", port))
        .stdin(Stdio::null())
        .output()
        .expect("run openssl s_client");
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let report = || format!("{}\n{}", describe(&output), site.report());
    assert!(text.contains("New, TLSv1.2"), "openssl s_client made no TLS 1.2 connection: {}", report());
    text.lines().filter(|line| line.starts_with("Reused, TLSv1.2")).count()
}

fn check_tls(site: &Site, port: u16, urandom: &ReadWatch, step: &str) {
    urandom.take_reads();
    let body = https_body(site, port, "/index.html");
    assert_eq!(body, format!("index {}\n", site.token), "{}: body over HTTPS", step);
    // SSLRandomSeed connect makes the child read the jail's /dev/urandom.
    assert!(urandom.take_reads() > 0, "{}: no process read the jail's /dev/urandom\n{}", step, site.report());
    // openssl s_client -reconnect makes five connections after the first.
    // Right after a graceful restart a connection may still reach a child
    // of the previous generation, whose session cache is another one, as
    // without the library: a short wait lets those children finish.
    let mut resumed = resumed_sessions(site, port);
    for _ in 0..10 {
        if resumed == 5 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        resumed = resumed_sessions(site, port);
    }
    assert_eq!(resumed, 5, "{}: resumed TLS sessions", step);
}

fn tls_lifecycle(mode: &str) {
    let test = format!("modules-tls-{}", mode);
    if !common::can_run_servers(&test) {
        return;
    }
    let _serial = serial();
    let mut site = Site::new(&test, "event");
    site.set_mode(mode);
    site.modules.extend(["socache_shmcb", "ssl"].map(str::to_string));
    make_certificate(&site.scratch.path);
    make_urandom(&site.jail);
    let urandom = ReadWatch::new(&site.jail.join("dev/urandom"));
    let tls_port = free_port();
    let scratch = site.scratch.path.display().to_string();
    site.extra.extend([
        format!("SSLSessionCache shmcb:{}/run/ssl_scache(512000)", site.jail.display()),
        "SSLRandomSeed startup builtin".to_string(),
        "SSLRandomSeed connect file:/dev/urandom 512".to_string(),
        "SSLSessionTickets off".to_string(),
        format!("Listen 127.0.0.1:{} https", tls_port),
        format!("<VirtualHost 127.0.0.1:{}>", tls_port),
        "    SSLEngine on".to_string(),
        format!("    SSLCertificateFile {}/server.crt", scratch),
        format!("    SSLCertificateKeyFile {}/server.key", scratch),
        "</VirtualHost>".to_string(),
    ]);
    let before = Site::ipc_snapshot();

    let server = site.start();
    server.check_confined("start");
    check_tls(&site, tls_port, &urandom, "start");
    for action in ["graceful", "restart"] {
        server.restart_with(action);
        server.check_confined(action);
        check_tls(&site, tls_port, &urandom, action);
    }
    // Plain HTTP on the main port still works next to the TLS listener.
    assert_eq!(http::get(site.port, "/index.html").map(|response| response.status), Ok(200));

    server.stop_with("graceful-stop");
    assert_nothing_left(&site, &before, &[]);
    let log = site.error_log();
    assert!(!log.contains("[httpd-chroot:error]"), "library errors:\n{}", log);
    assert!(!log.contains(":error]"), "errors in the error log:\n{}", log);
}

#[test]
fn tls_server_mode() {
    tls_lifecycle("server");
}

#[test]
fn tls_children_mode() {
    tls_lifecycle("children");
}

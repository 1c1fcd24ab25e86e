//! Helpers shared by the integration tests: the built library, scratch
//! directories, jails, loopback ports and skipping without root.

#![allow(dead_code)]

pub mod admin;
pub mod apache;
pub mod escape;
pub mod http;
pub mod keepalive;
pub mod lifecycle;
pub mod procs;
pub mod refusal;
pub mod soak;
pub mod tls_listener;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The httpd binary of Debian's apache2 package.
pub const APACHE2: &str = "/usr/sbin/apache2";

/// Returns the built library: `HTTPD_CHROOT_LIB`, or the release build.
pub fn library() -> PathBuf {
    if let Some(path) = std::env::var_os("HTTPD_CHROOT_LIB") {
        return PathBuf::from(path);
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/libhttpd_chroot.so");
    assert!(
        path.exists(),
        "library not built: {} is missing. Run `cargo build --release` first, or scripts/test",
        path.display()
    );
    path
}

/// Returns whether a test that needs root and Debian's apache2 can run. It
/// prints the reason when it cannot; with HTTPD_CHROOT_TEST_STRICT=1 (as
/// scripts/test sets it) a missing requirement fails the test instead.
pub fn can_run_servers(test: &str) -> bool {
    // SAFETY: geteuid cannot fail.
    let missing = if unsafe { libc::geteuid() } != 0 {
        Some("needs root, because chroot(2) does")
    } else if !Path::new(APACHE2).exists() {
        Some("needs Debian's apache2 package (/usr/sbin/apache2)")
    } else {
        None
    };
    match missing {
        None => true,
        Some(reason) if std::env::var_os("HTTPD_CHROOT_TEST_STRICT").is_some() => {
            panic!("{}: {} (HTTPD_CHROOT_TEST_STRICT is set)", test, reason)
        }
        Some(reason) => {
            eprintln!("skipping {}: {}", test, reason);
            false
        }
    }
}

/// A fresh directory for one test, removed when the test passes and kept
/// (with its path printed) when it fails.
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    pub fn new(test: &str) -> Scratch {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("httpd-chroot-{}-{}-{}", test, std::process::id(), unique));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap_or_else(|error| panic!("create {}: {}", path.display(), error));
        set_mode(&path, 0o755);
        Scratch { path }
    }

    /// Creates a subdirectory with `mode` and returns its path.
    pub fn dir(&self, name: &str, mode: u32) -> PathBuf {
        let path = self.path.join(name);
        fs::create_dir_all(&path).unwrap_or_else(|error| panic!("create {}: {}", path.display(), error));
        set_mode(&path, mode);
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept scratch directory {} for inspection", self.path.display());
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

pub fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|error| panic!("chmod {:o} {}: {}", mode, path.display(), error));
}

pub fn write_file(path: &Path, content: &str, mode: u32) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap_or_else(|error| panic!("create {}: {}", parent.display(), error));
    }
    fs::write(path, content).unwrap_or_else(|error| panic!("write {}: {}", path.display(), error));
    set_mode(path, mode);
}

/// Returns a token that no other test run produces, to mark files and
/// responses.
pub fn token() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970");
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!("{}-{}-{}", std::process::id(), now.subsec_nanos(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

/// Returns the lines of `text` that the library wrote at `level` (such as
/// `error`), or at any level when `level` is empty.
pub fn library_lines<'a>(text: &'a str, level: &str) -> Vec<&'a str> {
    let tag = if level.is_empty() { "[httpd-chroot:".to_string() } else { format!("[httpd-chroot:{}]", level) };
    text.lines().filter(|line| line.contains(&tag)).collect()
}

/// Returns a TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

/// Copies `program` and every library `ldd` lists for it into `jail`, at
/// the same paths, so that it runs inside the jail.
pub fn copy_program(jail: &Path, program: &str) {
    let output = Command::new("ldd").arg(program).output().expect("run ldd");
    assert!(output.status.success(), "ldd {} failed: {}", program, String::from_utf8_lossy(&output.stderr));

    let mut files = vec![PathBuf::from(program)];
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        if let Some(path) = line.split_whitespace().find(|word| word.starts_with('/')) {
            files.push(PathBuf::from(path));
        }
    }
    for file in files {
        let target = jail.join(file.strip_prefix("/").expect("absolute path"));
        fs::create_dir_all(target.parent().expect("file has a parent")).expect("create directory in jail");
        fs::copy(&file, &target).unwrap_or_else(|error| panic!("copy {} into jail: {}", file.display(), error));
    }
}

/// Compiles tests/programs/`name`.c into `scratch` with symbols exported
/// (-rdynamic), so that the library finds its `ap_state_query`.
pub fn build_program(scratch: &Scratch, name: &str) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/programs/{}.c", name));
    let binary = scratch.path.join(name);
    let output = Command::new("cc")
        .arg("-rdynamic")
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .output()
        .expect("run cc (install gcc)");
    assert!(output.status.success(), "cc {}: {}", source.display(), String::from_utf8_lossy(&output.stderr));
    binary
}

/// Lists every file under `root`, for failure reports.
pub fn listing(root: &Path) -> String {
    let mut lines = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) => {
                lines.push(format!("{}: {}", dir.display(), error));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let metadata = match fs::symlink_metadata(&path) {
                Ok(metadata) => metadata,
                Err(_) => continue,
            };
            lines.push(format!("{:o} {}", metadata.permissions().mode(), path.display()));
            if metadata.is_dir() {
                pending.push(path);
            }
        }
    }
    lines.sort();
    lines.join("\n")
}

/// Waits up to 20 seconds until `ready` returns true; fails with `what`.
pub fn wait_for(mut ready: impl FnMut() -> bool, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !ready() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {}", what);
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

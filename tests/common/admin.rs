//! Running httpd-chroot-admin from the tests, and a guard that stops a
//! server by its pidfile when a test ends, passed or failed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use super::procs;

/// Returns the admin program: HTTPD_CHROOT_ADMIN (scripts/test builds it
/// first), or a build made once per test binary. It is a package of its own
/// (admin/), so cargo does not build it for this package's tests. That
/// build uses its own target directory, because the running `cargo test`
/// holds the lock of target/.
pub fn admin_program() -> &'static Path {
    static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        if let Some(program) = std::env::var_os("HTTPD_CHROOT_ADMIN") {
            return PathBuf::from(program);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let target = root.join("target/admin-tests");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let output = Command::new(cargo)
            .args(["build", "--release", "--locked", "--quiet", "-p", "httpd-chroot-admin", "--target-dir"])
            .arg(&target)
            .current_dir(root)
            .output()
            .expect("run cargo build -p httpd-chroot-admin");
        assert!(output.status.success(), "cargo build -p httpd-chroot-admin failed:\n{}", String::from_utf8_lossy(&output.stderr));
        target.join("release/httpd-chroot-admin")
    })
}

/// Runs `httpd-chroot-admin args` and returns its output.
pub fn run_admin(args: &[&str]) -> Output {
    Command::new(admin_program()).args(args).output().expect("run httpd-chroot-admin")
}

/// Returns the exit status, stdout and stderr of `output`, for assertions.
pub fn outcome(output: &Output) -> (i32, String, String) {
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

/// Runs the admin program and checks its exit status.
pub fn admin_expect(args: &[&str], status: i32) -> String {
    let output = run_admin(args);
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, status, "httpd-chroot-admin {:?}\nstdout:\n{}\nstderr:\n{}", args, stdout, stderr);
    stdout
}

/// Stops the server whose pid is in `pidfile` when dropped, with SIGTERM
/// and then SIGKILL, if it still runs.
pub struct PidfileGuard {
    pub pidfile: PathBuf,
}

impl PidfileGuard {
    pub fn pid(&self) -> Option<i32> {
        fs::read_to_string(&self.pidfile).ok().and_then(|text| text.trim().parse().ok())
    }
}

impl Drop for PidfileGuard {
    fn drop(&mut self) {
        let Some(pid) = self.pid() else { return };
        if !procs::is_alive(pid) {
            return;
        }
        eprintln!("stopping server pid {} from {}", pid, self.pidfile.display());
        let tree = procs::tree(pid);
        procs::signal(pid, libc::SIGTERM);
        if !procs::wait_gone(pid, 20) {
            procs::signal(pid, libc::SIGKILL);
        }
        for process in tree {
            if !procs::wait_gone(process.pid, 5) {
                procs::signal(process.pid, libc::SIGKILL);
            }
        }
    }
}

/// Returns the content of each file, or None where it is missing, to
/// compare system files before and after a test.
pub fn snapshot(paths: &[&Path]) -> Vec<(PathBuf, Option<Vec<u8>>)> {
    paths.iter().map(|path| (path.to_path_buf(), fs::read(path).ok())).collect()
}

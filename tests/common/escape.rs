//! Helpers for the escape attempts of tests/escape_attempts.rs. They plant
//! the file outside the jail and the symlinks that point at it, build the
//! static probe CGI (tests/programs/escape_probe.c) and the PHP page, mount
//! proc in the jail, and parse the output lines of both.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::apache::{describe, uid_of, Site, RUN_USER};
use super::{set_mode, write_file};

/// How many `..` components the deep symlink and the probes climb: more
/// than any scratch path has directories.
const CLIMB: usize = 32;

/// The file outside the jail and the symlinks in the jail that point at it.
pub struct Target {
    /// Host path of the outside file, `<scratch>/site.outside`.
    pub path: PathBuf,
    /// Text that only the outside file contains.
    pub token: String,
    /// Host path of the directory with the symlinks.
    pub links: PathBuf,
}

/// Writes the outside file, readable by the run user, in `<scratch>/outside`,
/// and three symlinks in `<jail>/links`: `absolute` (its host path),
/// `relative` (`../../outside/site.outside`) and `deep` (many `..`, then its
/// host path). Checks on the host that each symlink reaches the file, so
/// that a failure inside the jail comes from the jail alone.
///
/// The file's directory is a sibling of the jail, not the scratch directory
/// itself: the library rewrites a path that names an ancestor of the jail
/// (the scratch directory) to the jail's root, and the attempts are meant
/// to reach the kernel unchanged.
pub fn plant_target(site: &Site) -> Target {
    let token = format!("outside-secret-{}", site.token);
    let path = site.scratch.dir("outside", 0o755).join("site.outside");
    write_file(&path, &format!("{}\n", token), 0o644);

    let links = site.scratch.dir("jail/links", 0o755);
    let relative_to_root = path.strip_prefix("/").expect("absolute scratch path");
    let deep = Path::new(&"../".repeat(CLIMB)).join(relative_to_root);
    let relative = Path::new("../../outside/site.outside");
    for (name, target) in [("absolute", path.as_path()), ("relative", relative), ("deep", &deep)] {
        let link = links.join(name);
        std::os::unix::fs::symlink(target, &link).unwrap_or_else(|error| panic!("symlink {}: {}", link.display(), error));
        let content = std::fs::read_to_string(&link).unwrap_or_else(|error| panic!("read {}: {}", link.display(), error));
        assert!(content.contains(&token), "{} does not reach {} on the host", link.display(), path.display());
    }
    Target { path, token, links }
}

/// Compiles tests/programs/escape_probe.c statically, so that it needs
/// nothing in the jail, and installs it as `<jail>/www/cgi-bin/escape_probe`.
/// Returns the host copy, which the positive control runs.
pub fn install_probe(site: &Site) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/escape_probe.c");
    let binary = site.scratch.path.join("escape_probe");
    let output = Command::new("cc")
        .args(["-static", "-O2", "-Wall", "-Wextra", "-o"])
        .arg(&binary)
        .arg(&source)
        .output()
        .expect("run cc (install gcc and libc6-dev)");
    assert!(output.status.success(), "cc -static {}: {}", source.display(), describe(&output));

    let installed = site.jail.join("www/cgi-bin/escape_probe");
    std::fs::create_dir_all(installed.parent().expect("cgi-bin has a parent")).expect("create cgi-bin in the jail");
    std::fs::copy(&binary, &installed).unwrap_or_else(|error| panic!("copy the probe into the jail: {}", error));
    set_mode(&installed, 0o755);
    binary
}

/// Returns the probe's QUERY_STRING. `links` is the path under which the
/// probe opens the symlinks: `/links` in the jail, the host path outside.
pub fn probe_query(site: &Site, target: &Target, links: &Path) -> String {
    format!("token={}&path={}&jail={}&links={}", target.token, target.path.display(), site.jail.display(), links.display())
}

/// Runs the probe on the host as the run user from `<jail>/www/cgi-bin`, as
/// httpd would run it without a jail, and returns its output after the CGI
/// header.
pub fn run_probe_on_host(site: &Site, target: &Target, probe: &Path) -> String {
    let uid = uid_of(RUN_USER).to_string();
    let output = Command::new("setpriv")
        .args(["--reuid", &uid, "--regid", &uid, "--clear-groups"])
        .arg(probe)
        .current_dir(site.jail.join("www/cgi-bin"))
        .env_clear()
        .env("QUERY_STRING", probe_query(site, target, &target.links))
        .output()
        .expect("run setpriv (util-linux)");
    assert!(output.status.success(), "probe on the host: {}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let body = stdout.strip_prefix("Content-Type: text/plain\n\n");
    body.unwrap_or_else(|| panic!("no CGI header in the probe's output: {:?}", stdout)).to_string()
}

/// Writes `<jail>/www/escape.php`, which makes the attempts that mod_php
/// offers and prints lines in the probe's format. mod_php has no chroot()
/// and no fchdir(), and the page reports whether chroot() exists.
///
/// PHP 8.2's file_get_contents() and fopen() remove `..` components
/// lexically and resolve symlinks with their own lstat() and readlink()
/// calls before open(). When the kernel refuses to read /proc/PID/root,
/// PHP reports "No such file or directory" instead of the kernel's error.
/// scandir() and readlink() pass the path to the kernel unchanged and report
/// its errno, so the page uses them for the /proc attempts whose errno the
/// test checks (`proc-root-dir`, `proc-cwd-dir`, `proc-readlink`).
pub fn write_php_page(site: &Site, target: &Target) {
    let page = format!(
        r#"<?php
header('Content-Type: text/plain');
$token = '{token}';
$outside = '{outside}';
$jail = '{jail}';
$links = '{links}';

// Returns the errno name of the last PHP warning, which ends with strerror's text.
function errno_name() {{
    $message = error_get_last()['message'] ?? '';
    $errnos = ['No such file or directory' => 'ENOENT', 'Permission denied' => 'EACCES',
              'Not a directory' => 'ENOTDIR', 'Operation not permitted' => 'EPERM',
              'Too many levels of symbolic links' => 'ELOOP'];
    foreach ($errnos as $text => $errno) {{
        if (str_ends_with($message, $text)) return $errno;
    }}
    return 'unknown message=' . str_replace(' ', '_', $message);
}}

// Prints whether listing the directory $path succeeds, and whether it contains the outside file.
function list_directory($label, $path) {{
    global $outside;
    error_clear_last();
    $names = @scandir($path);
    if ($names === false) {{
        echo $label, ' errno=', errno_name(), "\n";
        return;
    }}
    echo $label, ' ok outside=', in_array(basename($outside), $names) ? 'listed' : 'absent', "\n";
}}

function attempt($label, $path, $with_fopen = false) {{
    global $token;
    error_clear_last();
    if ($with_fopen) {{
        $file = @fopen($path, 'r');
        $content = $file === false ? false : (string) fread($file, 4096);
    }} else {{
        $content = @file_get_contents($path, false, null, 0, 4096);
    }}
    if ($content === false) {{
        echo $label, ' errno=', errno_name(), "\n";
        return;
    }}
    echo $label, ' ok token=', str_contains($content, $token) ? 'found' : 'absent', "\n";
}}

echo 'self pid=', getmypid(), ' uid=', posix_geteuid(), "\n";
echo 'cwd-start path=', getcwd(), "\n";
attempt('open-absolute', $outside);
attempt('fopen-absolute', $outside, true);
attempt('open-jail-dotdot', $jail . '/..' . substr($outside, strlen(dirname($jail))));
attempt('open-dotdot', str_repeat('../', {climb}) . ltrim($outside, '/'));
for ($i = 0; $i < {climb}; $i++) @chdir('..');
echo 'chdir-dotdot path=', getcwd(), "\n";
attempt('chdir-dotdot-open', ltrim($outside, '/'));
foreach (['absolute', 'relative', 'deep'] as $name) attempt("symlink-$name", "$links/$name");

$entries = @scandir('/proc');
if ($entries === false) {{
    echo 'proc-list errno=', errno_name(), "\n";
    $entries = [];
}}
$count = 0;
foreach ($entries as $pid) {{
    if (!ctype_digit($pid)) continue;
    $owner = @fileowner("/proc/$pid/status");
    $owner = $owner === false ? 'gone' : $owner;
    attempt("proc-root pid=$pid owner=$owner", "/proc/$pid/root$outside");
    list_directory("proc-root-dir pid=$pid owner=$owner", "/proc/$pid/root" . dirname($outside));
    $climb = str_repeat('../', {climb}) . ltrim(dirname($outside), '/');
    list_directory("proc-cwd-dir pid=$pid owner=$owner", "/proc/$pid/cwd/$climb");
    error_clear_last();
    $link = @readlink("/proc/$pid/root");
    echo "proc-readlink pid=$pid owner=$owner ", $link === false ? 'errno=' . errno_name() : "ok target=$link", "\n";
    $count++;
}}
echo 'proc-list count=', $count, "\n";
echo 'chroot function=', function_exists('chroot') ? 'present' : 'absent', "\n";
echo "done\n";
"#,
        token = target.token,
        outside = target.path.display(),
        jail = site.jail.display(),
        links = target.links.display(),
        climb = CLIMB,
    );
    write_file(&site.jail.join("www/escape.php"), &page, 0o644);
}

/// A proc filesystem mounted at `<jail>/proc`, unmounted on drop, also when
/// a test fails.
pub struct ProcMount {
    path: PathBuf,
}

impl ProcMount {
    pub fn new(jail: &Path) -> ProcMount {
        let path = jail.join("proc");
        std::fs::create_dir_all(&path).unwrap_or_else(|error| panic!("create {}: {}", path.display(), error));
        let target = CString::new(path.as_os_str().as_bytes()).expect("mount point without NUL");
        let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        // SAFETY: every argument is a NUL-terminated string that outlives the call.
        let result = unsafe { libc::mount(c"proc".as_ptr(), target.as_ptr(), c"proc".as_ptr(), flags, std::ptr::null()) };
        assert_eq!(result, 0, "mount proc at {}: {}", path.display(), std::io::Error::last_os_error());
        ProcMount { path }
    }
}

impl Drop for ProcMount {
    fn drop(&mut self) {
        let target = CString::new(self.path.as_os_str().as_bytes()).expect("mount point without NUL");
        // SAFETY: `target` is a NUL-terminated string that outlives the call.
        // MNT_DETACH unmounts even while a process still has a directory in it open.
        if unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) } != 0 {
            eprintln!("unmount proc at {}: {}", self.path.display(), std::io::Error::last_os_error());
        }
    }
}

/// One output line of the probe or the PHP page: the attempt's name and its
/// `key=value` fields.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub name: String,
    pub fields: BTreeMap<String, String>,
    pub line: String,
}

impl Attempt {
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    /// Returns the errno name, `ok` for a success, or `-` when neither is given.
    pub fn outcome(&self) -> &str {
        match (self.field("errno"), self.fields.contains_key("ok")) {
            (Some(errno), _) => errno,
            (None, true) => "ok",
            _ => "-",
        }
    }

    pub fn pid(&self) -> Option<i32> {
        self.field("pid").and_then(|pid| pid.parse().ok())
    }
}

/// Parses the body of a probe or PHP response, one attempt per line.
pub fn parse_attempts(body: &str) -> Vec<Attempt> {
    let mut attempts = Vec::new();
    for line in body.lines().filter(|line| !line.trim().is_empty()) {
        let mut words = line.split_whitespace();
        let name = words.next().unwrap_or_default().to_string();
        let mut fields = BTreeMap::new();
        for word in words {
            let (key, value) = word.split_once('=').unwrap_or((word, ""));
            fields.insert(key.to_string(), value.to_string());
        }
        attempts.push(Attempt { name, fields, line: line.to_string() });
    }
    attempts
}

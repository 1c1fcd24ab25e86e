//! `httpd-chroot-admin check`: compares a jail with the httpd
//! configuration that runs in it.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::args::{self, failed, flag, value, Error, Result};
use crate::audit;
use crate::config::{self, Config, Directive};
use crate::copy::{interpreter_of, libraries};
use crate::layout::{self, Flavor};
use crate::report::{self, Finding};
use crate::scan::{Scan, WRITABLE_DEFAULTS};
use crate::users;

pub const HELP: &str = "\
usage: httpd-chroot-admin check [OPTIONS]

Reads the httpd configuration (following Include, <IfModule>, <IfDefine>
and ${VARIABLES} from apachectl's environment file) and the jail, and
reports, with file and line:
  outside-jail         DocumentRoot, Alias, ScriptAlias targets neither under
                       the jail nor inside it at the same path; ScriptSock,
                       ScoreBoardFile and Mutex flock: directories not under it
  missing-in-jail      such a path under the jail that does not exist
  missing-interpreter  a `#!` interpreter of a script in a ScriptAlias
                       directory that the jail lacks (Premature end of script
                       headers), and missing-library for its libraries
  writable             the jail, a file or directory in it, or an ancestor,
                       writable by the run user (except /tmp, /var/tmp, /dev/shm)
  device               device nodes other than /dev/null, zero, random, urandom
  setuid               setuid or setgid files
  hard-link            files that share their inode with a path outside the jail
  nodev-mount          device nodes on a filesystem mounted nodev
  audit                paths the library's audit mode logged as missing
                       (--audit-log) that exist on the host. Paths the host
                       lacks too (404s, DirectoryIndex probes) are printed as
                       notes, which do not count as findings

Options:
  --jail DIR             the jail; default: HTTPD_CHROOT_DIR from the environment file
  --user USER            the run user; default: the configuration's User
  --config FILE          default: /etc/apache2/apache2.conf or /etc/httpd/conf/httpd.conf
  --server-root DIR      ServerRoot for relative paths; default: the configuration's
                         directory (Debian) or its parent (RHEL), or its ServerRoot
  --env-file FILE        default: /etc/apache2/envvars or /etc/sysconfig/httpd
  --layout NAME          debian or rhel; default: detected
  --define NAME          as httpd -D NAME, for <IfDefine>; repeatable
  --allow-writable PATH  a path inside the jail the run user may write to; repeatable
  --allow-device PATH    a device node inside the jail to accept; repeatable
  --audit-log FILE       read the library's audit lines (HTTPD_CHROOT_AUDIT=1) from
                         this error log and propose jail builder options
  --json                 print one JSON object: {jail, user, findings: [{kind, path,
                         message, source, proposal}], notes: [the same fields],
                         proposals}
  -h, --help             show this help

Exit status: 0 when nothing was found (notes do not count), 1 with findings,
2 on usage errors or when the configuration or jail cannot be read.
The proposed jail command names this program by its absolute path.
";

const SPECS: [args::Spec; 12] = [
    value("jail"),
    value("user"),
    value("config"),
    value("server-root"),
    value("env-file"),
    value("layout"),
    value("define"),
    value("allow-writable"),
    value("allow-device"),
    value("audit-log"),
    flag("json"),
    flag("help"),
];

pub fn run(arguments: &[String]) -> Result<i32> {
    let parsed = args::parse("check", arguments, &SPECS)?;
    if parsed.has("help") {
        print!("{}", HELP);
        return Ok(0);
    }
    if let Some(extra) = parsed.positional.first() {
        return Err(Error::Usage(format!("unexpected argument {}: give the jail with --jail", extra)));
    }
    let layout = layout::resolve(parsed.get("layout"), parsed.get("env-file"), parsed.get("config"))?;
    let server_root = match parsed.get("server-root") {
        Some(dir) => PathBuf::from(dir),
        None => default_server_root(&layout.config, layout.flavor),
    };
    let environment = read_environment(&layout.env_file, layout.flavor, &server_root)?;
    let config = config::read(&layout.config, &server_root, &environment, &parsed.all("define"))?;

    let jail = match parsed.get("jail").map(str::to_string).or_else(|| environment.get("HTTPD_CHROOT_DIR").cloned()) {
        Some(jail) if jail.starts_with('/') => PathBuf::from(jail),
        Some(jail) => return Err(Error::Usage(format!("invalid jail {}: give an absolute path with --jail", jail))),
        None => {
            return Err(Error::Usage(format!(
                "no jail given and {} sets no HTTPD_CHROOT_DIR; give --jail DIR",
                layout.env_file.display()
            )))
        }
    };
    if !jail.is_dir() {
        return failed(format!("jail {} is not a directory; build it with `httpd-chroot-admin jail`", jail.display()));
    }
    let user_name = match parsed.get("user") {
        Some(name) => name.to_string(),
        None => match config.last("User").and_then(|directive| directive.args.first()) {
            Some(name) if !name.contains("${") => name.clone(),
            _ => return Err(Error::Usage("cannot tell the run user from the configuration; give --user".to_string())),
        },
    };
    let user = users::user(&user_name)?;
    let canonical = fs::canonicalize(&jail).or_else(|error| failed(format!("cannot resolve jail {}: {}", jail.display(), error)))?;

    let paths = JailPaths { spelled: jail.clone(), canonical: canonical.clone() };
    let mut findings = paths.check_config(&config);
    let mut writable: Vec<PathBuf> = WRITABLE_DEFAULTS.iter().map(PathBuf::from).collect();
    for path in parsed.all("allow-writable") {
        writable.push(paths.inside(Path::new(&path)).unwrap_or_else(|| PathBuf::from(&path)));
    }
    let devices = parsed.all("allow-device").iter().map(|path| paths.inside(Path::new(path)).unwrap_or_else(|| PathBuf::from(path))).collect();
    findings.extend(Scan { jail: &canonical, user: &user, writable, devices }.run());
    let mut notes = Vec::new();
    if let Some(log) = parsed.get("audit-log") {
        let audit = audit::read(Path::new(log), &jail)?;
        findings.extend(audit.findings);
        notes = audit.notes;
    }

    let mut proposals: Vec<String> = Vec::new();
    for proposal in findings.iter().filter_map(|finding| finding.proposal.clone()) {
        if !proposals.contains(&proposal) {
            proposals.push(proposal);
        }
    }
    let jail_text = jail.display().to_string();
    if parsed.has("json") {
        print!("{}", report::json(&findings, &notes, &proposals, &jail_text, &user.name));
    } else {
        print!("{}", report::text(&findings, &notes, &proposals, &jail_text, &user.name));
    }
    Ok(if findings.is_empty() { 0 } else { 1 })
}

fn default_server_root(config: &Path, flavor: Flavor) -> PathBuf {
    let dir = config.parent().unwrap_or(Path::new("/"));
    match flavor {
        Flavor::Debian => dir.to_path_buf(),
        Flavor::Rhel => dir.parent().unwrap_or(dir).to_path_buf(),
    }
}

/// Returns the variables apachectl exports: Debian's envvars is sourced by
/// sh as apache2ctl does, RHEL's KEY=value lines are read as systemd does.
fn read_environment(file: &Path, flavor: Flavor, server_root: &Path) -> Result<HashMap<String, String>> {
    if !file.exists() {
        return Ok(HashMap::new());
    }
    if flavor == Flavor::Rhel {
        let text = fs::read_to_string(file).or_else(|error| failed(format!("cannot read {}: {}", file.display(), error)))?;
        let pairs = text.lines().map(str::trim).filter(|line| !line.starts_with('#')).filter_map(|line| line.split_once('='));
        return Ok(pairs.map(|(key, value)| (key.trim().to_string(), value.trim().trim_matches(['"', '\'']).to_string())).collect());
    }
    let output = Command::new("sh")
        .arg("-c")
        .arg(". \"$0\" >/dev/null 2>&1 && env -0")
        .arg(file)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("APACHE_CONFDIR", server_root)
        .output()
        .or_else(|error| failed(format!("cannot run sh to read {}: {}", file.display(), error)))?;
    if !output.status.success() {
        return failed(format!("sourcing {} with sh failed ({}); fix the file's syntax", file.display(), output.status));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text.split('\0').filter_map(|pair| pair.split_once('=')).map(|(key, value)| (key.to_string(), value.to_string())).collect())
}

struct JailPaths {
    spelled: PathBuf,
    canonical: PathBuf,
}

/// The requirement a configured path must meet.
#[derive(PartialEq)]
enum Need {
    /// Exists in the jail, under the jail path or at the same path inside it.
    Served,
    /// Under the jail path, in an existing directory: the file is created
    /// before the chroot and opened again inside the jail.
    UnderJail,
}

impl JailPaths {
    /// Returns `path` as seen inside the jail when it is written under the jail.
    fn inside(&self, path: &Path) -> Option<PathBuf> {
        let rest = path.strip_prefix(&self.spelled).or_else(|_| path.strip_prefix(&self.canonical)).ok()?;
        Some(Path::new("/").join(rest))
    }

    fn check_config(&self, config: &Config) -> Vec<Finding> {
        let mut findings = Vec::new();
        let runtime_dir = config.last("DefaultRuntimeDir").and_then(|d| d.args.first()).map_or("logs", String::as_str);
        let runtime_dir = config.absolute(runtime_dir);
        let runtime = |path: &str| if path.starts_with('/') { PathBuf::from(path) } else { runtime_dir.join(path) };

        for directive in &config.directives {
            let target = directive.args.last().cloned().unwrap_or_default();
            if directive.is("DocumentRoot") || directive.is("Alias") || directive.is("ScriptAlias") {
                let path = config.absolute(&target);
                self.check(&mut findings, directive, &path, Need::Served);
                if directive.is("ScriptAlias") {
                    self.check_scripts(&mut findings, directive, &path);
                }
            } else if directive.is("AliasMatch") || directive.is("ScriptAliasMatch") {
                // The directory before the first back-reference ($1) must exist.
                let fixed = target.split('$').next().unwrap_or("");
                let dir = &fixed[..fixed.rfind('/').map_or(0, |at| at + 1)];
                if dir.starts_with('/') {
                    self.check(&mut findings, directive, Path::new(dir), Need::Served);
                }
            } else if directive.is("ScriptSock") || directive.is("ScoreBoardFile") {
                self.check(&mut findings, directive, &runtime(&target), Need::UnderJail);
            } else if directive.is("Mutex") {
                let mechanism = directive.args.first().map_or("", String::as_str);
                if mechanism == "flock" {
                    self.check(&mut findings, directive, &runtime_dir.join("mutex"), Need::UnderJail);
                } else if let Some(dir) = mechanism.strip_prefix("flock:") {
                    self.check(&mut findings, directive, &config.absolute(dir).join("mutex"), Need::UnderJail);
                }
            } else if directive.is("LoadModule") && directive.args.first().map_or(false, |name| name == "cgid_module") {
                // mod_cgid's socket defaults to DefaultRuntimeDir/cgisock.
                if config.last("ScriptSock").is_none() {
                    self.check(&mut findings, directive, &runtime("cgisock"), Need::UnderJail);
                }
            }
        }
        findings
    }

    fn check(&self, findings: &mut Vec<Finding>, directive: &Directive, path: &Path, need: Need) {
        let finding = |kind: &'static str, message: String, proposal: Option<String>| Finding {
            kind,
            path: path.display().to_string(),
            message,
            source: Some(directive.location()),
            proposal,
        };
        let inside = match (self.inside(path), &need) {
            (Some(inside), Need::Served) => inside,
            (Some(inside), Need::UnderJail) => inside.parent().map_or_else(|| inside.clone(), Path::to_path_buf),
            (None, Need::UnderJail) => {
                findings.push(finding(
                    "outside-jail",
                    format!(
                        "{} {} is outside the jail {}: the server creates it on the host before the chroot, \
                         and jailed children then cannot reach it. Move it under {}",
                        directive.name,
                        path.display(),
                        self.spelled.display(),
                        self.spelled.display()
                    ),
                    None,
                ));
                return;
            }
            (None, Need::Served) => {
                if resolve_in_jail(&self.canonical, path).is_some() {
                    return;
                }
                let proposal = path.exists().then(|| {
                    if path.is_dir() { format!("--with-tree {}", path.display()) } else { format!("--with {}", path.display()) }
                });
                findings.push(finding(
                    "outside-jail",
                    format!(
                        "{} {} is outside the jail {} and does not exist inside it at {}{}, so requests for it fail. \
                         Move it under the jail and change the directive, or copy it into the jail",
                        directive.name,
                        path.display(),
                        self.spelled.display(),
                        self.spelled.display(),
                        path.display()
                    ),
                    proposal,
                ));
                return;
            }
        };
        if resolve_in_jail(&self.canonical, &inside).is_none() {
            let what = if need == Need::UnderJail { "its directory " } else { "" };
            findings.push(finding(
                "missing-in-jail",
                format!(
                    "{} {}: {}{} does not exist in the jail; create it",
                    directive.name,
                    path.display(),
                    what,
                    self.spelled.join(inside.strip_prefix("/").unwrap_or(&inside)).display()
                ),
                None,
            ));
        }
    }

    /// Checks the `#!` interpreters of the scripts under a ScriptAlias
    /// target, and the libraries of each interpreter found.
    fn check_scripts(&self, findings: &mut Vec<Finding>, directive: &Directive, target: &Path) {
        let inside = self.inside(target).unwrap_or_else(|| target.to_path_buf());
        let Some(start) = resolve_in_jail(&self.canonical, &inside) else { return };
        let mut scripts = Vec::new();
        let mut pending = vec![start];
        while let Some(path) = pending.pop() {
            if scripts.len() > 10_000 {
                break;
            }
            match fs::read_dir(&path) {
                Ok(entries) => pending.extend(entries.flatten().map(|entry| entry.path()).filter(|path| !path.is_symlink())),
                Err(_) if path.is_file() => scripts.push(path),
                Err(_) => {}
            }
        }
        scripts.sort();
        for script in scripts {
            let Some(interpreter) = interpreter_of(&script) else { continue };
            let source = Some(format!("{}:1", script.display()));
            let proposal = Some(format!("--with {}", interpreter.display()));
            if resolve_in_jail(&self.canonical, &interpreter).is_none() {
                findings.push(Finding {
                    kind: "missing-interpreter",
                    path: interpreter.display().to_string(),
                    message: format!(
                        "{} (under {} {}) needs interpreter {}, which the jail lacks, so the request fails with \
                         \"Premature end of script headers\"",
                        script.display(),
                        directive.name,
                        directive.location(),
                        interpreter.display()
                    ),
                    source,
                    proposal,
                });
                continue;
            }
            for library in libraries(&interpreter) {
                if resolve_in_jail(&self.canonical, &library).is_none() {
                    findings.push(Finding {
                        kind: "missing-library",
                        path: library.display().to_string(),
                        message: format!(
                            "interpreter {} of {} needs {}, which the jail lacks",
                            interpreter.display(),
                            script.display(),
                            library.display()
                        ),
                        source: source.clone(),
                        proposal: proposal.clone(),
                    });
                }
            }
        }
    }
}

/// Resolves `path` (as seen inside the jail) with the jail as root, as the
/// kernel does after chroot. Returns the host path, or None when missing.
pub fn resolve_in_jail(jail: &Path, path: &Path) -> Option<PathBuf> {
    let mut pending: Vec<std::ffi::OsString> = path.iter().map(|part| part.to_os_string()).rev().collect();
    let mut resolved = PathBuf::new();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        if part == "/" || part == "." {
            continue;
        }
        if part == ".." {
            resolved.pop();
            continue;
        }
        let candidate = resolved.join(&part);
        let metadata = fs::symlink_metadata(jail.join(&candidate)).ok()?;
        if metadata.file_type().is_symlink() {
            links += 1;
            if links > 40 {
                return None;
            }
            let target = fs::read_link(jail.join(&candidate)).ok()?;
            if target.is_absolute() {
                resolved = PathBuf::new();
            }
            pending.extend(target.iter().map(|part| part.to_os_string()).collect::<Vec<_>>().into_iter().rev());
        } else {
            resolved = candidate;
        }
    }
    Some(jail.join(resolved))
}

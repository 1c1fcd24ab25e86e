//! Reads the library's audit lines (HTTPD_CHROOT_AUDIT=1) back from an
//! error log and proposes the jail builder options that add what was
//! missing. A line looks like
//! `[...] [httpd-chroot:warn] [pid 354:tid 354] audit: execve(/usr/bin/perl) found nothing in jail /srv/jail: ENOENT (No such file or directory)`.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use crate::args::{failed, Result};
use crate::check::resolve_in_jail;
use crate::copy::libraries;
use crate::report::Finding;

const MARKER: &str = "] audit: ";
const FOUND_NOTHING: &str = ") found nothing in jail ";

/// One audit line: the function, the path inside the jail, the jail and the error.
#[derive(Debug, PartialEq)]
pub struct AuditLine {
    pub function: String,
    pub path: String,
    pub jail: String,
    pub error: String,
}

/// Parses one error log line; None for every other line.
pub fn parse_line(line: &str) -> Option<AuditLine> {
    let rest = &line[line.find(MARKER)? + MARKER.len()..];
    let open = rest.find('(')?;
    let function = &rest[..open];
    // The path may contain ") found nothing", so the last occurrence ends it.
    let close = rest.rfind(FOUND_NOTHING)?;
    let path = &rest[open + 1..close];
    let tail = &rest[close + FOUND_NOTHING.len()..];
    // The error name never contains ": ", but a jail path may.
    let colon = tail.rfind(": ")?;
    Some(AuditLine {
        function: function.to_string(),
        path: unescape(path),
        jail: tail[..colon].to_string(),
        error: tail[colon + 2..].to_string(),
    })
}

/// Undoes Rust's `escape_ascii`: `\n`, `\t`, `\r`, `\\`, `\'`, `\"` and `\xNN`.
/// Bytes that do not form UTF-8 become U+FFFD.
pub fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'\\' && index + 1 < bytes.len() {
            let next = bytes[index + 1];
            let simple = match next {
                b'n' => Some(b'\n'),
                b't' => Some(b'\t'),
                b'r' => Some(b'\r'),
                b'\\' | b'\'' | b'"' => Some(next),
                _ => None,
            };
            if let Some(byte) = simple {
                out.push(byte);
                index += 2;
                continue;
            }
            if next == b'x' && index + 3 < bytes.len() {
                if let Some(byte) = std::str::from_utf8(&bytes[index + 2..index + 4]).ok().and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
                    out.push(byte);
                    index += 4;
                    continue;
                }
            }
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

/// Returns the directory tree a module path belongs to: the first
/// component named perl*, python* or ruby*, plus a version directory
/// right after it (/usr/share/perl/5.36/POSIX.pm gives /usr/share/perl/5.36).
fn module_tree(path: &Path) -> Option<PathBuf> {
    let mut tree = PathBuf::new();
    let mut components = path.components().peekable();
    while let Some(component) = components.next() {
        tree.push(component);
        let Component::Normal(name) = component else { continue };
        let name = name.to_string_lossy();
        if ["perl", "python", "ruby"].iter().any(|language| name.starts_with(language)) {
            if let Some(Component::Normal(next)) = components.peek() {
                if next.to_string_lossy().starts_with(|c: char| c.is_ascii_digit()) {
                    tree.push(next);
                }
            }
            return Some(tree);
        }
    }
    None
}

fn is_program(path: &Path) -> bool {
    let in_program_dir = path.components().any(|component| {
        matches!(component, Component::Normal(name) if name == "bin" || name == "sbin" || name == "libexec")
    });
    let executable = fs::metadata(path).map_or(false, |metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0);
    in_program_dir || (executable && !is_library(path))
}

fn is_library(path: &Path) -> bool {
    let name = path.file_name().map(|name| name.to_string_lossy().to_string()).unwrap_or_default();
    name.ends_with(".so") || name.contains(".so.")
}

/// The paths an audit log names that the jail still lacks. Findings are
/// paths the host has, each with the jail builder option that copies it.
/// Notes are paths the host lacks too (a 404, a DirectoryIndex probe such
/// as index.php), which copying cannot fix.
pub struct AuditReport {
    pub findings: Vec<Finding>,
    pub notes: Vec<Finding>,
}

/// Reads `log` and reports each path still missing from `jail` once.
pub fn read(log: &Path, jail: &Path) -> Result<AuditReport> {
    let text = fs::read(log).or_else(|error| failed(format!("cannot read --audit-log {}: {}", log.display(), error)))?;
    let text = String::from_utf8_lossy(&text);
    // Path, then (function, errors, count) in the order first seen.
    let mut missing: BTreeMap<String, (String, String, usize)> = BTreeMap::new();
    let mut order = Vec::new();
    let jail_text = jail.display().to_string();
    for (audit, number) in text.lines().zip(1..).filter_map(|(line, number)| parse_line(line).map(|audit| (audit, number))) {
        // Lines of other jails, and paths that the jail contains by now, need nothing.
        if audit.jail.trim_end_matches('/') != jail_text.trim_end_matches('/') || resolve_in_jail(jail, Path::new(&audit.path)).is_some() {
            continue;
        }
        let entry = missing.entry(audit.path.clone()).or_insert_with(|| {
            order.push((audit.path.clone(), number));
            (audit.function.clone(), audit.error.clone(), 0)
        });
        entry.2 += 1;
    }

    let programs: Vec<PathBuf> =
        order.iter().map(|(path, _)| PathBuf::from(path)).filter(|path| is_program(path) && path.exists()).collect();
    let mut report = AuditReport { findings: Vec::new(), notes: Vec::new() };
    for (path, number) in order {
        let (function, error, count) = &missing[&path];
        let host = PathBuf::from(&path);
        let proposal = propose(&host, &programs);
        let advice = match &proposal {
            Some(option) => format!("; copy it with the jail option `{}`", option),
            None => "; it does not exist on the host either, so there is nothing to copy".to_string(),
        };
        let entry = Finding {
            kind: "audit",
            path: path.clone(),
            message: format!("{}({}) found nothing in the jail ({}, {} time(s)){}", function, path, error, count, advice),
            source: Some(format!("{}:{}", log.display(), number)),
            proposal: proposal.clone(),
        };
        if proposal.is_some() {
            report.findings.push(entry);
        } else {
            report.notes.push(entry);
        }
    }
    Ok(report)
}

/// Returns the jail builder option that copies `path` into the jail, or
/// None when the host lacks `path` too: copying a module tree that does
/// not contain the path would not add it.
fn propose(path: &Path, programs: &[PathBuf]) -> Option<String> {
    if !path.exists() {
        return None;
    }
    if let Some(tree) = module_tree(path) {
        if tree.is_dir() {
            return Some(format!("--with-tree {}", tree.display()));
        }
    }
    if path.is_dir() {
        return Some(format!("--with-tree {}", path.display()));
    }
    if is_library(path) {
        // The program that needs the library copies it along with the rest.
        let canonical = fs::canonicalize(path).ok();
        for program in programs {
            let needed = libraries(program)
                .iter()
                .any(|library| library == path || fs::canonicalize(library).ok() == canonical);
            if needed {
                return Some(format!("--with {}", program.display()));
            }
        }
    }
    Some(format!("--with {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_line() {
        let line = "[Fri Dec 04 21:30:36.212139 2026] [httpd-chroot:warn] [pid 354:tid 354] audit: execve(/usr/bin/perl) \
                    found nothing in jail /srv/jail: ENOENT (No such file or directory)";
        let audit = parse_line(line).unwrap();
        assert_eq!(audit.function, "execve");
        assert_eq!(audit.path, "/usr/bin/perl");
        assert_eq!(audit.jail, "/srv/jail");
        assert_eq!(audit.error, "ENOENT (No such file or directory)");
        assert!(parse_line("[...] [core:error] AH00001: something else").is_none());
    }

    #[test]
    fn unescapes_escape_ascii() {
        assert_eq!(unescape("/a\\x01b\\\\c\\n\\'"), "/a\u{1}b\\c\n'");
        assert_eq!(unescape("/odd\\x"), "/odd\\x");
    }

    #[test]
    fn finds_module_trees() {
        assert_eq!(module_tree(Path::new("/usr/share/perl/5.36/POSIX.pm")), Some(PathBuf::from("/usr/share/perl/5.36")));
        assert_eq!(
            module_tree(Path::new("/usr/lib/x86_64-linux-gnu/perl-base/strict.pm")),
            Some(PathBuf::from("/usr/lib/x86_64-linux-gnu/perl-base"))
        );
        assert_eq!(module_tree(Path::new("/etc/resolv.conf")), None);
    }

    #[test]
    fn proposes_nothing_for_paths_the_host_lacks() {
        // The module tree exists, but copying it would not add the file.
        let tree = std::env::temp_dir().join(format!("httpd-chroot-admin-audit-{}/perl", std::process::id()));
        fs::create_dir_all(&tree).unwrap();
        assert_eq!(propose(&tree.join("NoSuchModule.pm"), &[]), None);
        assert_eq!(propose(&tree, &[]), Some(format!("--with-tree {}", tree.display())));
        assert_eq!(propose(Path::new("/nonexistent/www/index.php"), &[]), None);
        fs::remove_dir_all(tree.parent().unwrap()).unwrap();
    }
}

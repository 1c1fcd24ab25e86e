//! `install` and `uninstall`: the library in a stable place, and a marked
//! block of variables in apachectl's environment file that uninstall
//! removes again, restoring the file byte for byte.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::actions::{set_root_mode, Actions};
use crate::args::{self, failed, flag, value, Error, Result};
use crate::layout::{self, Flavor};

pub const INSTALL_HELP: &str = "\
usage: httpd-chroot-admin install --jail DIR [OPTIONS]

Copies the library to a stable place and adds LD_PRELOAD and the library's
variables to apachectl's environment file, between `# BEGIN httpd-chroot`
and `# END httpd-chroot` lines, and copies this program next to the
installed library. Running it again changes nothing, or only the values
that differ.

The running server keeps its old environment through `apachectl restart`
and `graceful`. Stop it and start a new one: `apache2ctl stop` then
`apache2ctl start`, or `systemctl restart apache2`. On RHEL, run
`apachectl stop` then `apachectl start`, or `systemctl restart httpd`.

Options:
  --jail DIR        HTTPD_CHROOT_DIR: the jail, an existing absolute directory
  --mode MODE       HTTPD_CHROOT_MODE: server or children (default: not set, server)
  --log LEVEL       HTTPD_CHROOT_LOG: error, warn, info, debug or trace
  --audit           HTTPD_CHROOT_AUDIT=1: log each path the jail lacks
  --library FILE    the built library; default: libhttpd_chroot.so next to
                    this program (target/release after cargo build --release)
  --dest FILE       where to install it; default
                    /usr/local/lib/httpd-chroot/libhttpd_chroot.so
  --layout NAME     debian (/etc/apache2/envvars, `export` lines) or rhel
                    (/etc/sysconfig/httpd, KEY=value lines); default: detected
  --env-file FILE   the environment file to change; default: the layout's
  --dry-run         print what would change and change nothing
  -h, --help        show this help

Before it changes the environment file the first time, it saves the file
as FILE.httpd-chroot-backup. An existing backup is kept, so it holds the
file as it was before the first install.
";

pub const UNINSTALL_HELP: &str = "\
usage: httpd-chroot-admin uninstall [OPTIONS]

Removes the block that install added to apachectl's environment file, which
restores the file as it was before install, deletes FILE.httpd-chroot-backup
when it is equal to the restored file (and keeps it and says why
otherwise), and deletes the installed library and the copy of this program
next to it.

The running server stays jailed through `apachectl restart` and `graceful`.
Stop it and start a new one: `apache2ctl stop` then `apache2ctl start`, or
`systemctl restart apache2`. On RHEL, run `apachectl stop` then
`apachectl start`, or `systemctl restart httpd`. Remove the jail only after
the jailed server has stopped.

Options:
  --dest FILE       the installed library; default
                    /usr/local/lib/httpd-chroot/libhttpd_chroot.so
  --keep-library    leave the installed library and the copy of this program
                    in place
  --layout NAME     debian or rhel; default: detected
  --env-file FILE   the environment file to change; default: the layout's
  --dry-run         print what would change and change nothing
  -h, --help        show this help
";

pub const DEFAULT_DEST: &str = "/usr/local/lib/httpd-chroot/libhttpd_chroot.so";
const BEGIN: &str = "# BEGIN httpd-chroot: added by httpd-chroot-admin install; remove it with httpd-chroot-admin uninstall";
/// The BEGIN line when install had to end the file's last line first.
const BEGIN_AFTER_NEWLINE: &str = "# BEGIN httpd-chroot (install added the newline before this line): remove it with httpd-chroot-admin uninstall";
const END: &str = "# END httpd-chroot";
/// The name of the copy of this program that install puts next to the library.
const PROGRAM_NAME: &str = "httpd-chroot-admin";

pub fn install(arguments: &[String]) -> Result<i32> {
    let specs = [
        value("jail"),
        value("mode"),
        value("log"),
        flag("audit"),
        value("library"),
        value("dest"),
        value("layout"),
        value("env-file"),
        flag("dry-run"),
        flag("help"),
    ];
    let parsed = args::parse("install", arguments, &specs)?;
    if parsed.has("help") {
        print!("{}", INSTALL_HELP);
        return Ok(0);
    }
    if let Some(extra) = parsed.positional.first() {
        return Err(Error::Usage(format!("unexpected argument {}: install takes options only; give the jail with --jail", extra)));
    }
    let jail = parsed.get("jail").ok_or_else(|| Error::Usage("missing --jail DIR: the jail directory httpd runs in".to_string()))?;
    check_value("--mode", parsed.get("mode"), &["server", "children"])?;
    check_value("--log", parsed.get("log"), &["error", "warn", "info", "debug", "trace"])?;
    if !jail.starts_with('/') || !Path::new(jail).is_dir() || Path::new(jail) == Path::new("/") {
        return failed(format!(
            "--jail {}: not an existing absolute directory other than /. Build it first with \
             `{} jail --user USER {}`; the library stops httpd from starting without it",
            jail,
            args::program_path(),
            jail
        ));
    }
    let layout = layout::resolve(parsed.get("layout"), parsed.get("env-file"), None)?;
    let dest = PathBuf::from(parsed.get("dest").unwrap_or(DEFAULT_DEST));
    let library = match parsed.get("library") {
        Some(path) => PathBuf::from(path),
        None => default_library()?,
    };

    let mut actions = Actions::new(parsed.has("dry-run"));
    install_library(&mut actions, &library, &dest)?;

    let mut variables = vec![("LD_PRELOAD", dest.display().to_string()), ("HTTPD_CHROOT_DIR", jail.to_string())];
    if let Some(mode) = parsed.get("mode") {
        variables.push(("HTTPD_CHROOT_MODE", mode.to_string()));
    }
    if let Some(level) = parsed.get("log") {
        variables.push(("HTTPD_CHROOT_LOG", level.to_string()));
    }
    if parsed.has("audit") {
        variables.push(("HTTPD_CHROOT_AUDIT", "1".to_string()));
    }

    let original = read_env_file(&layout.env_file)?;
    let (base, _) = remove_block(&original);
    warn_overrides(&base, &layout.env_file, &variables);
    let updated = add_block(&base, &block_lines(layout.flavor, &variables));
    change_env_file(&mut actions, &layout.env_file, &original, &updated, Backup::Save)?;
    finish(&actions, &format!("install ({} layout, {})", layout.flavor.name(), layout.env_file.display()));
    if actions.changes > 0 && !actions.dry_run {
        println!("to apply them, start a new server process: {}", layout.flavor.new_process_commands());
        println!("`{0} restart` and `{0} graceful` keep the running server's old environment", layout.flavor.control());
    }
    Ok(0)
}

pub fn uninstall(arguments: &[String]) -> Result<i32> {
    let specs = [value("dest"), flag("keep-library"), value("layout"), value("env-file"), flag("dry-run"), flag("help")];
    let parsed = args::parse("uninstall", arguments, &specs)?;
    if parsed.has("help") {
        print!("{}", UNINSTALL_HELP);
        return Ok(0);
    }
    if let Some(extra) = parsed.positional.first() {
        return Err(Error::Usage(format!("unexpected argument {}: uninstall takes options only", extra)));
    }
    let layout = layout::resolve(parsed.get("layout"), parsed.get("env-file"), None)?;
    let mut actions = Actions::new(parsed.has("dry-run"));

    let original = read_env_file(&layout.env_file)?;
    let (restored, found) = remove_block(&original);
    if !found {
        println!("{} has no httpd-chroot block: nothing to remove there", layout.env_file.display());
    }
    change_env_file(&mut actions, &layout.env_file, &original, &restored, Backup::Keep)?;
    remove_backup(&mut actions, &layout.env_file, &restored)?;

    let dest = PathBuf::from(parsed.get("dest").unwrap_or(DEFAULT_DEST));
    if !parsed.has("keep-library") {
        for file in [dest.clone(), dest.with_file_name(PROGRAM_NAME)] {
            if fs::symlink_metadata(&file).is_err() {
                continue;
            }
            actions.report("delete", "deleted", &file.display().to_string());
            if !actions.dry_run {
                fs::remove_file(&file).or_else(|error| failed(format!("cannot delete {}: {}", file.display(), error)))?;
            }
        }
        // Removes the directory install created, unless something else is in it.
        if let Some(parent) = dest.parent().filter(|parent| parent.ends_with("httpd-chroot")) {
            if !actions.dry_run {
                let _ = fs::remove_dir(parent);
            }
        }
    }
    finish(&actions, &format!("uninstall ({})", layout.env_file.display()));
    if actions.changes > 0 && !actions.dry_run {
        println!(
            "the running server stays jailed until it stops; start a new server process: {}",
            layout.flavor.new_process_commands()
        );
        println!(
            "`{0} restart` and `{0} graceful` keep it jailed; remove the jail only after the jailed server has stopped",
            layout.flavor.control()
        );
    }
    Ok(0)
}

fn check_value(option: &str, given: Option<&str>, allowed: &[&str]) -> Result<()> {
    match given {
        Some(value) if !allowed.contains(&value) => {
            Err(Error::Usage(format!("invalid {} {}: expected one of {}", option, value, allowed.join(", "))))
        }
        _ => Ok(()),
    }
}

fn default_library() -> Result<PathBuf> {
    let exe = std::env::current_exe().or_else(|error| failed(format!("cannot find this program's path: {}", error)))?;
    let library = exe.with_file_name("libhttpd_chroot.so");
    if library.is_file() {
        return Ok(library);
    }
    failed(format!(
        "library {} not found: build it with `cargo build --release`, or give its path with --library",
        library.display()
    ))
}

fn install_library(actions: &mut Actions, library: &Path, dest: &Path) -> Result<()> {
    let content = fs::read(library).or_else(|error| {
        failed(format!("cannot read library {}: {}. Build it with `cargo build --release` or correct --library", library.display(), error))
    })?;
    if let Some(parent) = dest.parent() {
        if !parent.is_dir() {
            actions.report("create", "created", &format!("directory {} (mode 0755)", parent.display()));
            if !actions.dry_run {
                fs::create_dir_all(parent).or_else(|error| failed(format!("cannot create {}: {}", parent.display(), error)))?;
                set_root_mode(parent, 0o755)?;
            }
        }
    }
    // A new file renamed over the old one, so running servers keep the
    // mapping of the old inode.
    actions.file(dest, &content, 0o644, true)?;

    // A copy of this program at a stable path, which uninstall deletes again.
    // When this program is that copy, its content is equal and nothing changes.
    let program = std::env::current_exe().or_else(|error| failed(format!("cannot find this program's path: {}", error)))?;
    let program_content =
        fs::read(&program).or_else(|error| failed(format!("cannot read this program {}: {}", program.display(), error)))?;
    actions.file(&dest.with_file_name(PROGRAM_NAME), &program_content, 0o755, true)
}

fn read_env_file(path: &Path) -> Result<String> {
    fs::read_to_string(path).or_else(|error| {
        failed(format!(
            "cannot read environment file {}: {}. Give the right file with --env-file, or --layout debian|rhel",
            path.display(),
            error
        ))
    })
}

/// Returns the file without the httpd-chroot block, and whether it had one.
pub fn remove_block(text: &str) -> (String, bool) {
    let Some(begin) = text.find("# BEGIN httpd-chroot").filter(|&at| at == 0 || text.as_bytes()[at - 1] == b'\n') else {
        return (text.to_string(), false);
    };
    let end = match text[begin..].find(&format!("\n{}", END)) {
        Some(offset) => {
            let after = begin + offset + 1 + END.len();
            if text[after..].starts_with('\n') {
                after + 1
            } else {
                after
            }
        }
        None => text.len(),
    };
    let mut start = begin;
    if text[begin..].starts_with(BEGIN_AFTER_NEWLINE) && start > 0 {
        start -= 1;
    }
    (format!("{}{}", &text[..start], &text[end..]), true)
}

fn block_lines(flavor: Flavor, variables: &[(&str, String)]) -> String {
    let prefix = if flavor == Flavor::Debian { "export " } else { "" };
    let mut lines = String::new();
    for (name, value) in variables {
        lines.push_str(&format!("{}{}={}\n", prefix, name, quote(value)));
    }
    lines
}

/// Appends the block to `base`, ending its last line first if needed.
pub fn add_block(base: &str, lines: &str) -> String {
    if base.is_empty() || base.ends_with('\n') {
        format!("{}{}\n{}{}\n", base, BEGIN, lines, END)
    } else {
        format!("{}\n{}\n{}{}\n", base, BEGIN_AFTER_NEWLINE, lines, END)
    }
}

/// Quotes a value for both a shell and systemd's EnvironmentFile.
fn quote(value: &str) -> String {
    if value.chars().all(|c| c.is_ascii_alphanumeric() || "/._-:+,@=".contains(c)) {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

fn warn_overrides(base: &str, file: &Path, variables: &[(&str, String)]) {
    for (number, line) in base.lines().enumerate() {
        let line = line.trim_start();
        let assignment = line.strip_prefix("export ").unwrap_or(line);
        for (name, _) in variables {
            if assignment.starts_with(&format!("{}=", name)) {
                println!(
                    "warning: {}:{} already sets {}; the httpd-chroot block comes later and overrides it",
                    file.display(),
                    number + 1,
                    name
                );
            }
        }
    }
}

/// Whether changing the environment file saves a backup first.
#[derive(PartialEq)]
enum Backup {
    /// Install: save the file unless a backup exists, so the backup keeps
    /// the file as it was before the first install.
    Save,
    /// Uninstall: write no backup; remove_backup then deletes an equal one.
    Keep,
}

fn backup_path(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}.httpd-chroot-backup", path.display()))
}

/// Rewrites the environment file. Each change is printed as one unindented
/// line, so the printed changes match the count in the summary. The changed
/// lines of the file follow the rewrite line, indented.
fn change_env_file(actions: &mut Actions, path: &Path, original: &str, updated: &str, backup_mode: Backup) -> Result<()> {
    if original == updated {
        return Ok(());
    }

    let backup = backup_path(path);
    let save_backup = backup_mode == Backup::Save && fs::symlink_metadata(&backup).is_err();
    if save_backup {
        actions.report("save", "saved", &format!("{} as {} (uninstall deletes it again)", path.display(), backup.display()));
    } else if backup_mode == Backup::Save {
        actions.note(&format!(
            "kept the existing backup {}, which contains {} as it was before the first install; delete it to save a new one",
            backup.display(),
            path.display()
        ));
    }

    let lines = diff_lines(original, updated);
    let added = lines.iter().filter(|line| line.starts_with('+')).count();
    actions.report("rewrite", "rewrote", &format!("{}: {} line(s) added, {} removed", path.display(), added, lines.len() - added));
    for line in lines {
        println!("  {}", line);
    }
    if actions.dry_run {
        return Ok(());
    }

    let metadata = fs::metadata(path).or_else(|error| failed(format!("cannot inspect {}: {}", path.display(), error)))?;
    if save_backup {
        write_like(&backup, original, &metadata)?;
    }
    let temporary = PathBuf::from(format!("{}.httpd-chroot-new", path.display()));
    write_like(&temporary, updated, &metadata)?;
    fs::rename(&temporary, path).or_else(|error| failed(format!("cannot replace {}: {}", path.display(), error)))
}

/// Deletes the environment file's backup when it is byte for byte equal to
/// `restored`, the file after uninstall. Otherwise it keeps the backup and
/// prints why.
fn remove_backup(actions: &mut Actions, path: &Path, restored: &str) -> Result<()> {
    let backup = backup_path(path);
    if fs::symlink_metadata(&backup).is_err() {
        return Ok(());
    }
    match fs::read(&backup) {
        Ok(content) if content == restored.as_bytes() => {
            actions.report("delete", "deleted", &format!("backup {} (equal to the restored {})", backup.display(), path.display()));
            if !actions.dry_run {
                fs::remove_file(&backup).or_else(|error| failed(format!("cannot delete {}: {}", backup.display(), error)))?;
            }
        }
        Ok(_) => actions.note(&format!(
            "kept backup {}: it differs from the restored {}, so the file changed outside the httpd-chroot block \
             after the first install. Compare them with `diff {} {}` and delete the backup yourself",
            backup.display(),
            path.display(),
            backup.display(),
            path.display()
        )),
        Err(error) => actions.note(&format!("kept backup {}: cannot read it to compare: {}", backup.display(), error)),
    }
    Ok(())
}

/// Writes `content` to `path` with the owner and mode of `like`.
fn write_like(path: &Path, content: &str, like: &fs::Metadata) -> Result<()> {
    fs::write(path, content).or_else(|error| failed(format!("cannot write {}: {}", path.display(), error)))?;
    std::os::unix::fs::chown(path, Some(like.uid()), Some(like.gid()))
        .or_else(|error| failed(format!("cannot chown {}: {}", path.display(), error)))?;
    fs::set_permissions(path, fs::Permissions::from_mode(like.permissions().mode() & 0o7777))
        .or_else(|error| failed(format!("cannot chmod {}: {}", path.display(), error)))
}

/// Returns the lines only in `old` (with `-`) and only in `new` (with `+`).
fn diff_lines(old: &str, new: &str) -> Vec<String> {
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let mut lines: Vec<String> = old_lines.iter().filter(|line| !new_lines.contains(line)).map(|line| format!("- {}", line)).collect();
    lines.extend(new_lines.iter().filter(|line| !old_lines.contains(line)).map(|line| format!("+ {}", line)));
    lines
}

fn finish(actions: &Actions, what: &str) {
    match (actions.changes, actions.dry_run) {
        (0, _) => println!("{}: nothing to change", what),
        (count, true) => println!("dry run: {}: {} change(s) not made", what, count),
        (count, false) => println!("{}: {} change(s) made", what, count),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(original: &str) {
        let lines = block_lines(Flavor::Rhel, &[("LD_PRELOAD", "/lib/x.so".to_string())]);
        let installed = add_block(original, &lines);
        assert!(installed.contains("LD_PRELOAD=/lib/x.so\n"));
        assert_eq!(remove_block(&installed), (original.to_string(), true));
        // A second install over the first gives the same file.
        assert_eq!(add_block(&remove_block(&installed).0, &lines), installed);
    }

    #[test]
    fn block_round_trips() {
        round_trip("OPTIONS=\n");
        round_trip("OPTIONS=");
        round_trip("");
        round_trip("# only a comment\n\n");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("/srv/jail"), "/srv/jail");
        assert_eq!(quote("/srv/my jail"), "'/srv/my jail'");
        assert_eq!(quote("it's"), "'it'\\''s'");
    }
}

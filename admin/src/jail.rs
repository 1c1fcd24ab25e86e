//! `httpd-chroot-admin jail`: builds or refreshes a jail for one run user.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::actions::Actions;
use crate::args::{self, failed, flag, value, Error, Result};
use crate::copy::{is_elf, Copier};
use crate::users;

pub const HELP: &str = "\
usage: httpd-chroot-admin jail --user USER [OPTIONS] JAIL

Builds the jail directory JAIL for httpd's run user, or brings an existing
one up to date. Running it again changes nothing unless something differs.

Always created, owned by root and not writable by USER:
  JAIL, JAIL/etc, JAIL/dev, JAIL/run (for mod_cgid's ScriptSock)  mode 0755
  JAIL/tmp, JAIL/dev/shm (POSIX semaphores)     mode 1777 (sticky bit)
  JAIL/dev/null, zero, urandom                  device nodes made with mknod
  JAIL/etc/passwd, group                        only USER and its group
  JAIL/etc/nsswitch.conf                        files for users, files dns for hosts
  JAIL/etc/hosts, resolv.conf, localtime        copies of the host's files

Options:
  --user USER        the run user (httpd's User; www-data on Debian, apache on RHEL)
  --group GROUP      the run group (httpd's Group); default: USER's primary group
  --with PROGRAM     copy PROGRAM (a path, or a name found in PATH), the interpreter
                     of a script, every library ldd lists and the dynamic loader,
                     with every symlink on the way. Repeatable. Also copies any
                     single file, such as /etc/mime.types.
                     Examples: --with /usr/bin/perl (Perl CGI scripts),
                     --with /bin/sh (PHP's exec(), system(), popen())
  --with-tree DIR    copy directory DIR recursively, with the libraries of the
                     ELF files in it. Perl modules live in trees, for example
                     --with-tree /usr/lib/x86_64-linux-gnu/perl-base (strict,
                     warnings and the other modules of perl-base)
  --writable DIR     create DIR inside the jail (a host path under JAIL or a
                     path inside it) owned by USER with mode 0700, for uploads
                     or sessions. Repeatable
  --no-shm           do not create JAIL/dev/shm
  --update           replace copied files whose host file changed (after a
                     package upgrade), including every program already in the
                     jail, and add libraries they need now
  --dry-run          print what would change and change nothing
  -h, --help         show this help

Copies lose setuid and setgid bits and write access for group and others.
Needs root (mknod, chown).
";

const SPECS: [args::Spec; 9] = [
    value("user"),
    value("group"),
    value("with"),
    value("with-tree"),
    value("writable"),
    flag("no-shm"),
    flag("update"),
    flag("dry-run"),
    flag("help"),
];

/// The device nodes every jail gets: name, major, minor.
pub const DEVICES: [(&str, u32, u32); 3] = [("null", 1, 3), ("zero", 1, 5), ("urandom", 1, 9)];

/// /etc/nsswitch.conf for the jail: only the sources glibc has built in
/// (files and dns since glibc 2.34), so no NSS module needs to be copied.
const NSSWITCH: &str = "# Written by httpd-chroot-admin jail.\npasswd: files\ngroup: files\nshadow: files\nhosts: files dns\n";

pub fn run(arguments: &[String]) -> Result<i32> {
    let parsed = args::parse("jail", arguments, &SPECS)?;
    if parsed.has("help") {
        print!("{}", HELP);
        return Ok(0);
    }
    let jail = match parsed.positional.as_slice() {
        [jail] => PathBuf::from(jail),
        [] => return Err(Error::Usage("missing JAIL: give the jail directory, for example /srv/httpd-jail".to_string())),
        more => return Err(Error::Usage(format!("expected one JAIL, got {}: {:?}", more.len(), more))),
    };
    if !jail.is_absolute() || jail == Path::new("/") {
        return Err(Error::Usage(format!("invalid JAIL {}: give an absolute path other than /", jail.display())));
    }
    let user_name = parsed.get("user").ok_or_else(|| Error::Usage("missing --user: give httpd's run user, such as www-data".to_string()))?;
    let user = users::user(user_name)?;
    let group = users::group(parsed.get("group").map_or_else(|| user.gid.to_string(), str::to_string).as_str())?;

    let mut actions = Actions::new(parsed.has("dry-run"));
    build_skeleton(&mut actions, &jail, parsed.has("no-shm"))?;
    write_etc(&mut actions, &jail, &user, &group)?;

    for dir in parsed.all("writable") {
        let inside = inside_path(&jail, Path::new(&dir))?;
        actions.directory_owned(&inside, 0o700, user.uid, group.gid)?;
    }

    let mut copier = Copier::new(&jail, &mut actions, parsed.has("update"));
    for program in parsed.all("with") {
        copier.program(&program)?;
    }
    for dir in parsed.all("with-tree") {
        copier.tree(Path::new(&dir))?;
    }
    if parsed.has("update") {
        for program in programs_in(&jail) {
            copier.program(&program.to_string_lossy())?;
        }
    }

    let prefix = if actions.dry_run { "dry run: " } else { "" };
    match actions.changes {
        0 => println!("{}jail {} is up to date: nothing to change", prefix, jail.display()),
        count => println!("{}jail {}: {} change(s){}", prefix, jail.display(), count, if actions.dry_run { " not made" } else { "" }),
    }
    Ok(0)
}

fn build_skeleton(actions: &mut Actions, jail: &Path, no_shm: bool) -> Result<()> {
    match jail.parent() {
        Some(parent) if parent.is_dir() => {}
        _ => return failed(format!("the parent directory of {} does not exist; create it first (mkdir -p)", jail.display())),
    }
    actions.directory(jail, 0o755)?;
    for (dir, mode) in [("etc", 0o755), ("dev", 0o755), ("run", 0o755), ("tmp", 0o1777)] {
        actions.directory(&jail.join(dir), mode)?;
    }
    if !no_shm {
        actions.directory(&jail.join("dev/shm"), 0o1777)?;
    }
    for (name, major, minor) in DEVICES {
        actions.char_device(&jail.join("dev").join(name), major, minor, 0o666)?;
    }
    Ok(())
}

fn write_etc(actions: &mut Actions, jail: &Path, user: &users::RunUser, group: &users::Group) -> Result<()> {
    let etc = jail.join("etc");
    actions.file(&etc.join("passwd"), user.passwd_line().as_bytes(), 0o644, true)?;

    let mut groups = group.group_line(&user.name);
    if group.gid != user.gid {
        groups.push_str(&users::group(&user.gid.to_string())?.group_line(&user.name));
    }
    actions.file(&etc.join("group"), groups.as_bytes(), 0o644, true)?;
    actions.file(&etc.join("nsswitch.conf"), NSSWITCH.as_bytes(), 0o644, true)?;

    // fs::read follows symlinks, so /etc/localtime's zone data and the
    // target of a managed resolv.conf are copied as plain files.
    for name in ["hosts", "resolv.conf", "localtime"] {
        let host = Path::new("/etc").join(name);
        match fs::read(&host) {
            Ok(content) => actions.file(&etc.join(name), &content, 0o644, true)?,
            Err(error) => actions.note(&format!("skipped {}: {} (the jail gets no copy)", host.display(), error)),
        }
    }
    Ok(())
}

/// Returns where `dir` lies in the jail: a host path under the jail stays
/// as it is, any other absolute path is taken as seen from inside.
fn inside_path(jail: &Path, dir: &Path) -> Result<PathBuf> {
    if !dir.is_absolute() || dir.components().any(|component| component == std::path::Component::ParentDir) {
        return failed(format!("--writable {}: give an absolute path without `..`", dir.display()));
    }
    if dir.starts_with(jail) {
        return Ok(dir.to_path_buf());
    }
    Ok(jail.join(dir.strip_prefix("/").unwrap_or(dir)))
}

/// Returns the host paths of the ELF files in the jail that also exist on
/// the host, which --update refreshes. It stays on the jail's filesystem.
fn programs_in(jail: &Path) -> Vec<PathBuf> {
    let device = match fs::symlink_metadata(jail) {
        Ok(metadata) => metadata.dev(),
        Err(_) => return Vec::new(),
    };
    let mut found = Vec::new();
    let mut pending = vec![jail.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let Ok(metadata) = fs::symlink_metadata(&path) else { continue };
            if metadata.is_dir() && metadata.dev() == device {
                pending.push(path);
            } else if metadata.is_file() && is_elf(&path) {
                let host = Path::new("/").join(path.strip_prefix(jail).expect("walk stays under the jail"));
                if host.is_file() {
                    found.push(host);
                }
            }
        }
    }
    found.sort();
    found
}

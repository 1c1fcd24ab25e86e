//! Property test of the path translation over a real directory tree: the
//! host path resolved with stat(2) and the translated path resolved in the
//! jail with openat2(2) and RESOLVE_IN_ROOT must name the same file.

use super::*;

/// A file's (st_dev, st_ino), or the errno of the failed lookup.
type Resolution = Result<(u64, u64), Errno>;

fn resolve_on_host(path: &[u8]) -> Resolution {
    let path = CString::new(path).expect("generated paths contain no NUL byte");
    sys::stat(&path).map(|status| (status.st_dev, status.st_ino))
}

/// The tree's directories and files. The first one is the jail.
const INSIDE: &[&str] = &[
    "jail", "jail/file", "jail/empty", "jail/jail", "jail/jail/file",
    "jail/dir", "jail/dir/file", "jail/dir/sub", "jail/dir/sub/file",
];
const OUTSIDE: &[&str] = &["jail2", "jail2/file", "outside", "outside/file", "file"];
/// First names after the base directory, chosen so that most paths enter the jail.
const TREE_ENTRIES: &[&[u8]] = &[b"jail", b"jail", b"jail", b"alias", b"alias", b"jail2", b"file", b"."];
const TREE_NAMES: &[&[u8]] = &[
    b"jail", b"jail", b"jail", b"alias", b"alias", b"dir", b"dir", b"sub", b"file", b"file",
    b"empty", b"jail2", b"outside", b"missing", b"", b".", b"..", b"..",
];

/// A directory tree in a fresh temporary directory, removed on drop. The
/// only symlink, `alias -> jail`, is a configured jail reached through a
/// symlink, with `jail` as its resolved spelling. It sits next to its
/// target, so `alias/..` is the base directory both for the kernel and for
/// the lexical rule.
struct Tree {
    base: PathBuf,
    jail_fd: libc::c_int,
    /// Identities of the jail and of everything in it, the jail first.
    inside: Vec<(u64, u64)>,
}

impl Tree {
    fn new(name: &str) -> Tree {
        let base = std::env::temp_dir().join(format!("httpd-chroot-props-{}-{}", name, std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir(&base).expect("create the tree's base directory");
        let base = base.canonicalize().expect("canonicalize the tree's base directory");

        for entry in INSIDE.iter().chain(OUTSIDE) {
            let path = base.join(entry);
            let created = if entry.ends_with("file") {
                std::fs::write(&path, entry)
            } else {
                std::fs::create_dir(&path)
            };
            created.unwrap_or_else(|error| panic!("create {}: {}", path.display(), error));
        }
        std::os::unix::fs::symlink("jail", base.join("alias")).expect("create the symlink alias -> jail");

        let jail = CString::new(base.join("jail").into_os_string().into_vec()).expect("jail path without NUL");
        let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC;
        let jail_fd = sys::openat(libc::AT_FDCWD, &jail, flags, 0).expect("open the jail with O_PATH");
        let stat_entry = |entry: &&str| resolve_on_host(base.join(entry).as_os_str().as_bytes());
        let inside = INSIDE.iter().map(stat_entry).collect::<Result<_, _>>().expect("stat the tree");
        Tree { base, jail_fd, inside }
    }

    /// Resolves `path` as a process chrooted to the jail would, with
    /// openat2(2) and RESOLVE_IN_ROOT from the jail's O_PATH descriptor.
    fn resolve_in_jail(&self, path: &CStr) -> Resolution {
        // SAFETY: open_how is plain data, so all-zero is a valid value. It is
        // non_exhaustive, so it cannot be built as a struct literal.
        let mut how: libc::open_how = unsafe { std::mem::zeroed() };
        how.flags = (libc::O_PATH | libc::O_CLOEXEC) as u64;
        how.resolve = libc::RESOLVE_IN_ROOT;
        // SAFETY: the path is NUL-terminated and `how` is an open_how of the
        // size passed, and both outlive the call.
        let fd = unsafe {
            let how_pointer = &how as *const libc::open_how;
            libc::syscall(libc::SYS_openat2, self.jail_fd, path.as_ptr(), how_pointer, std::mem::size_of_val(&how))
        };
        if fd < 0 {
            return Err(Errno::last());
        }
        let status = sys::fstat(fd as libc::c_int);
        sys::close(fd as libc::c_int);
        status.map(|status| (status.st_dev, status.st_ino))
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        sys::close(self.jail_fd);
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// Generates a spelling of `base/alias`, the configured jail, and a path:
/// all, all but one or none of the base's components, a name from
/// TREE_ENTRIES, then names from TREE_NAMES.
fn tree_case(base: &[u8]) -> impl Strategy<Value = (Bytes, Bytes)> {
    let base: Vec<Vec<u8>> = split(base).into_iter().map(<[u8]>::to_vec).collect();
    let mut alias = base.clone();
    alias.push(b"alias".to_vec());
    let configured = (separators(), select(TRAILERS)).prop_map(move |(separators, trailer)| {
        let alias: Vec<&[u8]> = alias.iter().map(Vec::as_slice).collect();
        Bytes(join(&alias, &separators, trailer, true))
    });

    let base_depth = prop_oneof![6 => Just(base.len()), 1 => Just(base.len() - 1), 1 => Just(0)];
    let names = (select(TREE_ENTRIES), prop::collection::vec(select(TREE_NAMES), 0..7));
    let parts = (base_depth, names, separators(), select(TRAILERS), padding(8));
    let path = parts.prop_map(move |(base_depth, (entry, names), separators, trailer, padding)| {
        let base: Vec<&[u8]> = base.iter().map(Vec::as_slice).collect();
        let mut path = join(&[&base[..base_depth], &[entry], &names[..]].concat(), &separators, trailer, true);
        pad(&mut path, padding);
        Bytes(path)
    });
    (configured, path)
}

#[test]
fn translated_path_names_host_file() {
    let tree = Tree::new("kernel");
    let resolved = tree.base.join("jail");
    let second = JailPath::parse(resolved.as_os_str().as_bytes()).expect("parse the resolved jail");
    let jail_id = tree.inside[0];
    let in_jail = |resolution: &Resolution| matches!(resolution, Ok(id) if tree.inside.contains(id));

    check("translated_path_names_host_file", tree_case(tree.base.as_os_str().as_bytes()), |(configured, path)| {
        let configured = JailPath::parse(&configured.0);
        let configured = configured.map_err(|error| TestCaseError::fail(format!("{:?}", error)))?;
        let path = &path.0;
        let jails = [&configured, &second];
        let host = resolve_on_host(path);
        let location = jails.iter().map(|jail| locate(path, jail)).find(|location| *location != Location::Outside);

        let rest = match translate(path, &jails) {
            Translation::Failed(errno) => {
                prop_assert_eq!(host, Err(errno));
                return Ok("too long: same errno");
            }
            Translation::Unchanged(_) => {
                prop_assert!(!in_jail(&host), "an unchanged path names {:?} in the jail", host);
                return Ok("outside");
            }
            Translation::Inside { rest } => rest,
        };
        let mut buffer = PathBuffer::new();
        let stored = buffer.store_inside(path, rest);
        let translated = stored.map_err(|errno| TestCaseError::fail(format!("store_inside failed: {}", errno)))?;
        let jailed = tree.resolve_in_jail(translated);
        let translated = Bytes(translated.to_bytes().to_vec());

        // An ancestor of the jail is rewritten to the jail's root, even where
        // the host path fails (`jail/missing/../..`).
        if location == Some(Location::Ancestor) {
            prop_assert_eq!(translated, Bytes(b"/".to_vec()));
            prop_assert_eq!(jailed, Ok(jail_id));
            prop_assert!(!in_jail(&host), "an ancestor names {:?} in the jail", host);
            return Ok(if host.is_ok() { "ancestor" } else { "ancestor: host fails" });
        }

        // The part before `rest` is dropped. When the kernel resolves it to
        // the jail, the rest must name the same file on both sides. When the
        // kernel fails on it (`missing/..`, `file/..`), the host path fails
        // with that errno, but the lexical rule still rewrites the path.
        let prefix = resolve_on_host(&path[..rest]);
        if prefix.is_err() {
            prop_assert_eq!(host, prefix, "the host path and its part before the jail fail differently");
            return Ok("inside: host fails before the jail");
        }
        prop_assert_eq!(prefix, Ok(jail_id));
        prop_assert_eq!(jailed, host, "{:?} in the jail and the host path differ", translated);
        Ok(if host.is_ok() { "inside: same file" } else { "inside: same errno" })
    });
}

//! The interposed functions, with the reason for each. A test compares this
//! table with the symbols the built library exports.

// Only tests and readers use the table; the hooks themselves do not.
#![allow(dead_code)]

/// The action a hook takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Rewrites host paths under the jail once the process is jailed.
    Path,
    /// Rewrites paths and returns results in host spelling.
    Resolve,
    /// Watches a step of httpd's startup (pidfile, error log).
    Startup,
    /// Enters the jail before the process changes its identity.
    Identity,
    /// Redirects to the host's /dev/shm in the jailed daemon parent.
    SharedMemory,
}

pub struct Hook {
    pub name: &'static str,
    pub action: Action,
    pub reason: &'static str,
}

const fn hook(name: &'static str, action: Action, reason: &'static str) -> Hook {
    Hook { name, action, reason }
}

use Action::*;

pub const HOOKS: &[Hook] = &[
    // Opening by path.
    hook("open", Path, "APR's apr_file_open: files under DocumentRoot and Alias, flock mutex files that children reopen"),
    hook("open64", Path, "open for programs built with 64-bit file offsets on 32-bit ABIs, and nginx"),
    hook("openat", Path, "modules and libraries that open relative to a directory descriptor, with absolute paths"),
    hook("openat64", Path, "openat for programs built with 64-bit file offsets"),
    hook("__open_2", Path, "open as compiled with _FORTIFY_SOURCE when the flags are not a constant"),
    hook("__open64_2", Path, "open64 as compiled with _FORTIFY_SOURCE"),
    hook("__openat_2", Path, "openat as compiled with _FORTIFY_SOURCE"),
    hook("__openat64_2", Path, "openat64 as compiled with _FORTIFY_SOURCE"),
    hook("creat", Path, "old-style file creation"),
    hook("creat64", Path, "creat with 64-bit file offsets"),
    hook("fopen", Path, "stdio opens in modules and libcrypto (glibc opens internally)"),
    hook("fopen64", Path, "libcrypto's certificate and random-seed files"),
    hook("freopen", Path, "httpd and APR reopen standard streams by path"),
    hook("freopen64", Path, "freopen with 64-bit file offsets"),
    hook("opendir", Path, "mod_autoindex and APR's apr_dir_open (glibc opens internally)"),
    hook("truncate", Path, "truncating a file by path"),
    hook("truncate64", Path, "truncate with 64-bit file offsets"),
    // Status and access checks.
    hook("stat", Path, "APR's apr_stat: every request's file lookup, mod_cgid's script check"),
    hook("stat64", Path, "stat with 64-bit file offsets"),
    hook("lstat", Path, "APR's apr_stat without following symlinks (Options -FollowSymLinks)"),
    hook("lstat64", Path, "lstat with 64-bit file offsets"),
    hook("fstatat", Path, "status relative to a directory descriptor, with absolute paths"),
    hook("fstatat64", Path, "fstatat with 64-bit file offsets"),
    hook("__xstat", Path, "stat of programs built against glibc before 2.33"),
    hook("__xstat64", Path, "stat64 of programs built against glibc before 2.33"),
    hook("__lxstat", Path, "lstat of programs built against glibc before 2.33"),
    hook("__lxstat64", Path, "lstat64 of programs built against glibc before 2.33"),
    hook("__fxstatat", Path, "fstatat of programs built against glibc before 2.33"),
    hook("__fxstatat64", Path, "fstatat64 of programs built against glibc before 2.33"),
    hook("statx", Path, "extended status, used by newer libraries"),
    hook("statfs", Path, "file system status by path"),
    hook("statfs64", Path, "statfs with 64-bit counters"),
    hook("statvfs", Path, "POSIX file system status by path"),
    hook("statvfs64", Path, "statvfs with 64-bit counters"),
    hook("access", Path, "httpd's and APR's existence and permission checks"),
    hook("faccessat", Path, "access relative to a directory descriptor, with absolute paths"),
    hook("euidaccess", Path, "access checked with the effective ids"),
    hook("eaccess", Path, "another name of euidaccess"),
    hook("readlink", Path, "reading a symlink by path (its content is returned as stored)"),
    hook("readlinkat", Path, "readlink relative to a directory descriptor, with absolute paths"),
    hook("pathconf", Path, "path limits by path"),
    // Creating, removing and changing.
    hook("mkdir", Path, "APR's apr_dir_make: mod_cache_disk, mod_dav, session directories"),
    hook("mkdirat", Path, "mkdir relative to a directory descriptor, with absolute paths"),
    hook("rmdir", Path, "removing directories by path"),
    hook("unlink", Path, "mod_cgid removes its socket; mutex files; the pidfile at stop, where the jailed parent leaves"),
    hook("unlinkat", Path, "unlink relative to a directory descriptor, with absolute paths"),
    hook("remove", Path, "stdio removal (glibc unlinks internally)"),
    hook("rename", Startup, "publishes httpd's pidfile (2.4.47 and later), the moment the daemon enters the jail; otherwise paths"),
    hook("renameat", Path, "rename relative to directory descriptors, with absolute paths"),
    hook("renameat2", Path, "renameat with flags"),
    hook("link", Path, "APR's apr_file_link"),
    hook("linkat", Path, "link relative to directory descriptors, with absolute paths"),
    hook("symlink", Path, "creating a symlink: the new link's path (the target is stored as written)"),
    hook("symlinkat", Path, "symlink relative to a directory descriptor"),
    hook("chmod", Path, "mod_cgid sets its socket's mode; APR's apr_file_perms_set"),
    hook("fchmodat", Path, "chmod relative to a directory descriptor, with absolute paths"),
    hook("chown", Path, "mod_cgid hands its socket to User; flock mutex files"),
    hook("lchown", Path, "chown without following symlinks"),
    hook("fchownat", Path, "chown relative to a directory descriptor, with absolute paths"),
    hook("mkfifo", Path, "APR's apr_file_namedpipe_create"),
    hook("mkfifoat", Path, "mkfifo relative to a directory descriptor"),
    hook("mknod", Path, "creating special files by path"),
    hook("mknodat", Path, "mknod relative to a directory descriptor"),
    hook("utime", Path, "setting file times by path"),
    hook("utimes", Path, "APR's apr_file_mtime_set"),
    hook("lutimes", Path, "utimes without following symlinks"),
    hook("futimesat", Path, "utimes relative to a directory descriptor"),
    hook("utimensat", Path, "file times with nanoseconds, with absolute paths"),
    hook("chdir", Path, "APR's apr_proc_create enters the CGI's directory; CoreDumpDirectory on a crash"),
    // Results that are paths.
    hook("realpath", Resolve, "canonical paths in modules and PHP (open_basedir), returned in host spelling"),
    hook("__realpath_chk", Resolve, "realpath as compiled with _FORTIFY_SOURCE"),
    hook("canonicalize_file_name", Resolve, "realpath with a new buffer"),
    hook("getcwd", Resolve, "APR's apr_filepath_get, returned in host spelling"),
    // Temporary files.
    hook("mkstemp", Path, "APR's apr_file_mktemp: mod_cache_disk, mod_dav, session stores"),
    hook("mkstemp64", Path, "mkstemp with 64-bit file offsets"),
    hook("mkostemp", Path, "mkstemp with open flags"),
    hook("mkostemp64", Path, "mkostemp with 64-bit file offsets"),
    hook("mkstemps", Path, "mkstemp with a suffix"),
    hook("mkstemps64", Path, "mkstemps with 64-bit file offsets"),
    hook("mkostemps", Path, "mkstemps with open flags"),
    hook("mkostemps64", Path, "mkostemps with 64-bit file offsets"),
    hook("mkdtemp", Path, "temporary directories"),
    // Programs.
    hook("execve", Path, "APR's apr_proc_create: CGI scripts (mod_cgi, mod_cgid's daemon), piped loggers"),
    hook("execv", Path, "APR's apr_proc_create for APR_PROGRAM"),
    hook("execvp", Path, "APR's apr_proc_create for APR_PROGRAM_PATH, when the name holds a slash"),
    hook("execvpe", Path, "execvp with an environment, when the name holds a slash"),
    hook("execveat", Path, "execve relative to a directory descriptor, with absolute paths"),
    hook("posix_spawn", Path, "spawning programs by path (glibc execs internally)"),
    hook("posix_spawnp", Path, "posix_spawn with a PATH search, when the name holds a slash"),
    // Sockets named by path.
    hook("bind", Path, "mod_cgid's daemon binds ScriptSock; warns about AF_UNIX sockets bound outside the jail"),
    hook("connect", Path, "children connect to mod_cgid's ScriptSock for every CGI request"),
    hook("sendto", Path, "AF_UNIX datagrams addressed by path"),
    // Shared memory by name.
    hook("shm_open", SharedMemory, "APR's named shared memory: ScoreBoardFile, created right after the pidfile"),
    hook("shm_unlink", SharedMemory, "removing the named scoreboard at startup and exit"),
    // Identity changes.
    hook("setuid", Identity, "mod_unixd drops root in children and mod_cgid's daemon"),
    hook("setgid", Identity, "mod_unixd's first identity change, before initgroups and setuid"),
    hook("seteuid", Identity, "temporary identity changes"),
    hook("setegid", Identity, "temporary identity changes"),
    hook("setreuid", Identity, "identity changes of other modules"),
    hook("setregid", Identity, "identity changes of other modules"),
    hook("setresuid", Identity, "identity changes of other modules"),
    hook("setresgid", Identity, "identity changes of other modules"),
    hook("setfsuid", Identity, "file system identity changes"),
    hook("setfsgid", Identity, "file system identity changes"),
    hook("setgroups", Identity, "supplementary group changes"),
    hook("initgroups", Identity, "mod_unixd sets User's groups; answered from a list computed outside the jail"),
    // Startup steps.
    hook("close", Startup, "ends the pidfile of httpd before 2.4.47, the moment the daemon enters the jail"),
    hook("dup2", Startup, "httpd opening its error log: where a rejected start is reported and stopped"),
    hook("dup3", Startup, "dup2 with flags, as APR calls it"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_defined_hooks() {
        let mut defined: Vec<&str> = [
            super::super::descriptors::NAMES,
            super::super::exec::NAMES,
            super::super::files::NAMES,
            super::super::identity::NAMES,
            super::super::open::NAMES,
            super::super::resolve::NAMES,
            super::super::shm::NAMES,
            super::super::socket::NAMES,
            super::super::stat::NAMES,
            super::super::temp::NAMES,
        ]
        .concat();
        defined.sort_unstable();
        let mut listed: Vec<&str> = HOOKS.iter().map(|hook| hook.name).collect();
        listed.sort_unstable();
        assert_eq!(listed, defined);
    }

    #[test]
    fn every_hook_has_a_reason() {
        for hook in HOOKS {
            assert!(hook.reason.len() > 10, "hook {} needs a reason", hook.name);
        }
    }
}

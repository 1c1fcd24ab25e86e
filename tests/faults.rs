//! Faults while the server runs: the jail disappears before a graceful
//! restart, server processes are killed, and the disk is full or read-only
//! where httpd writes its pidfile or lock files. The server either goes on
//! in the jail or stops with a clear error; it never serves unjailed.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::apache::{describe, Site};
use common::lifecycle::MODES;
use common::refusal::assert_nothing_runs;
use common::{http, library_lines, procs, wait_for};

/// Rewrites the configuration of a running site so that it stays valid
/// without the jail, and only the library can refuse the next generation:
/// the DocumentRoot moves outside the jail.
fn drop_jail_paths(site: &Site) {
    let text = fs::read_to_string(&site.config).expect("read configuration");
    let root = format!("DocumentRoot {}/www", site.jail.display());
    assert!(text.contains(&root), "configuration has {}", root);
    let text = text.replace(&root, &format!("DocumentRoot {}", site.logs.display()));
    fs::write(&site.config, text).expect("write configuration");
}

#[test]
fn jail_gone_at_graceful_stops_server() {
    if !common::can_run_servers("jail-gone") {
        return;
    }
    for mode in MODES {
        for removal in ["rename", "remove"] {
            let mut site = Site::new(&format!("jail-gone-{}", removal), "event");
            site.set_mode(mode);
            site.modules.retain(|module| module != "cgid");
            let server = site.start();
            server.check_confined("start");
            let parent = server.parent;
            drop_jail_paths(&site);

            match removal {
                "rename" => fs::rename(&site.jail, site.scratch.path.join("jail.old")).expect("rename the jail"),
                _ => fs::remove_dir_all(&site.jail).expect("remove the jail"),
            }
            // SIGUSR1 is what `apache2 -k graceful` sends; the control command
            // itself would first read the configuration, which is still valid.
            procs::signal(parent, libc::SIGUSR1);
            let stopped = procs::wait_gone(parent, 20);
            let log = site.error_log();
            assert!(stopped, "{} {}: the parent still runs\n{}", mode, removal, site.report());

            let errors = library_lines(&log, "error");
            assert_eq!(errors.len(), 1, "{} {}: one library error line\n{}", mode, removal, log);
            for text in ["renamed or removed", "ENOENT", "Restore the jail directory", "generation 2"] {
                assert!(errors[0].contains(text), "{} {}: error line lacks {:?}: {}", mode, removal, text, errors[0]);
            }
            wait_for(|| server.processes().is_empty(), "every server process to exit");
            assert_nothing_runs(&site);
            drop(server);
        }
    }
}

#[test]
fn killed_children_restart_jailed() {
    if !common::can_run_servers("killed-children") {
        return;
    }
    for mpm in ["event", "prefork"] {
        for mode in MODES {
            let mut site = Site::new(&format!("killed-{}", mpm), mpm);
            site.set_mode(mode);
            site.add_cgi();
            let server = site.start();
            server.check_confined("start");

            // Every process but the parent: the MPM's children and mod_cgid's daemon.
            let killed: Vec<i32> =
                server.httpd_processes().iter().map(|info| info.pid).filter(|&pid| pid != server.parent).collect();
            for &pid in &killed {
                procs::signal(pid, libc::SIGKILL);
            }
            let replaced = || {
                let now: Vec<i32> = server.httpd_processes().iter().map(|info| info.pid).collect();
                now.len() > 2 && now.iter().all(|pid| !killed.contains(pid))
            };
            wait_for(replaced, "the parent to start new children and a new mod_cgid daemon");
            wait_for(|| cgi_answers(&site), "the CGI to run again");
            server.check_confined(&format!("{} {} after SIGKILL", mpm, mode));
            let probe = http::get(site.port, "/cgi-bin/probe.cgi").expect("CGI request");
            assert!(probe.body.contains("root=jail"), "{} {}: CGI output {:?}", mpm, mode, probe.body);
            server.stop_with("stop");
        }
    }
}

fn cgi_answers(site: &Site) -> bool {
    http::get(site.port, "/cgi-bin/probe.cgi").map_or(false, |response| response.status == 200)
}

/// A tmpfs or a read-only bind mount for one test, unmounted on drop.
struct Mount(PathBuf);

impl Mount {
    /// Mounts a tmpfs of `kib` KiB at `path` and fills it up.
    fn full_tmpfs(path: &Path, kib: u32) -> Mount {
        fs::create_dir_all(path).expect("create mount point");
        run("mount", &["-t", "tmpfs", "-o", &format!("size={}k,mode=0755", kib), "tmpfs", &shown(path)]);
        let mount = Mount(path.to_path_buf());
        let filler = path.join("filler");
        let _ = Command::new("dd").args(["if=/dev/zero", &format!("of={}", filler.display()), "bs=4k"]).output();
        mount
    }

    /// Makes `path` (and everything under it) read-only in place.
    fn read_only(path: &Path) -> Mount {
        run("mount", &["--bind", &shown(path), &shown(path)]);
        let mount = Mount(path.to_path_buf());
        run("mount", &["-o", "remount,bind,ro", &shown(path)]);
        mount
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let status = Command::new("umount").arg(&self.0).status().expect("run umount");
        assert!(status.success() || std::thread::panicking(), "umount {}", self.0.display());
    }
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

fn run(program: &str, args: &[&str]) {
    let output = Command::new(program).args(args).output().unwrap_or_else(|error| panic!("run {}: {}", program, error));
    assert!(output.status.success(), "{} {:?}: {}", program, args, describe(&output));
}

/// Starts `site`, which must fail to write `path`, and checks that nothing
/// serves and that httpd's error names `path` and `reason`, in the error log
/// or, before httpd has opened it, on the terminal.
fn assert_write_failure_stops(site: &Site, path: &Path, reason: &str) {
    site.write_config();
    let output = site.command(&["-k", "start"]).output().expect("run apache2 -k start");
    let terminal = String::from_utf8_lossy(&output.stderr).to_string();
    let errors = || format!("{}{}", terminal, site.error_log());
    wait_for(|| errors().contains(reason), &format!("{:?} in the error log or on the terminal", reason));

    let config = site.config.display().to_string();
    wait_for(|| !procs::all().iter().any(|info| info.command.contains(&config)), "every server process to exit");
    let text = errors();
    let line = text.lines().find(|line| line.contains(reason)).unwrap_or_default();
    assert!(line.contains(&shown(path)), "the error names {}: {}\n{}", path.display(), line, text);
    assert!(!http::is_listening(site.port), "nothing serves");
    assert!(!site.pidfile.exists(), "no pidfile at {}", site.pidfile.display());
    assert!(library_lines(&text, "error").is_empty(), "httpd's own error explains it:\n{}", text);
}

#[test]
fn full_disk_at_pidfile_stops_server() {
    if !common::can_run_servers("full-disk") {
        return;
    }
    for mode in MODES {
        let mut site = Site::new("full-disk", "event");
        site.set_mode(mode);
        // Stock httpd leaves mod_cgid's daemon running when its pidfile fails.
        site.modules.retain(|module| module != "cgid");
        let run_dir = site.jail.join("run/full");
        let _mount = Mount::full_tmpfs(&run_dir, 64);
        site.pidfile = run_dir.join("httpd.pid");
        assert_write_failure_stops(&site, &site.pidfile, "No space left on device");
    }
}

#[test]
fn read_only_jail_stops_server() {
    if !common::can_run_servers("read-only-jail") {
        return;
    }
    for mode in MODES {
        let mut site = Site::new("read-only-pidfile", "event");
        site.set_mode(mode);
        site.modules.retain(|module| module != "cgid");
        site.pidfile = site.jail.join("run/httpd.pid");
        let _mount = Mount::read_only(&site.jail);
        assert_write_failure_stops(&site, &site.pidfile, "Read-only file system");

        // prefork with two listeners serializes accept() with a mutex, here
        // a lock file in the read-only jail.
        let mut site = Site::new("read-only-lock", "prefork");
        site.set_mode(mode);
        site.modules.retain(|module| module != "cgid");
        let locks = site.jail.join("run/locks");
        fs::create_dir_all(&locks).expect("create lock directory");
        let second = common::free_port();
        site.extra.push(format!("Listen 127.0.0.1:{}", second));
        site.extra.push(format!("Mutex file:{} mpm-accept", locks.display()));
        let _mount = Mount::read_only(&site.jail);
        assert_write_failure_stops(&site, &locks, "Read-only file system");
        assert!(!http::is_listening(second), "nothing serves on the second port");
    }
}

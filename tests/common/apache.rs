//! A generated site for Debian's apache2: jail, configuration, start, stop
//! and a failure report with the configuration, the jail and the error log.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use super::procs::{self, ProcessInfo};
use super::{copy_program, free_port, http, library, listing, token, write_file, Scratch, APACHE2};

/// The user httpd's children run as.
pub const RUN_USER: &str = "www-data";

/// The variables a test's own environment must not pass on to httpd.
const VARIABLES: [&str; 7] = [
    "LD_PRELOAD",
    "HTTPD_CHROOT_DIR",
    "HTTPD_CHROOT_LOG",
    "HTTPD_CHROOT_MODE",
    "HTTPD_CHROOT_AUDIT",
    "HTTPD_CHROOT_ALLOW_WRITABLE",
    "TZ",
];

/// A site with its own jail, logs, pidfile and loopback port.
pub struct Site {
    pub mpm: &'static str,
    pub port: u16,
    pub token: String,
    pub jail: PathBuf,
    pub logs: PathBuf,
    pub pidfile: PathBuf,
    pub config: PathBuf,
    /// A file outside the jail that an Alias names.
    pub outside: PathBuf,
    /// Modules loaded besides the MPM, from Debian's module directory.
    pub modules: Vec<String>,
    /// Configuration lines added after the generated ones.
    pub extra: Vec<String>,
    /// Environment for httpd; the library variables by default.
    pub env: Vec<(String, String)>,
    pub scratch: Scratch,
}

impl Site {
    pub fn new(test: &str, mpm: &'static str) -> Site {
        let scratch = Scratch::new(test);
        let jail = scratch.dir("jail", 0o755);
        let logs = scratch.dir("logs", 0o755);
        let run = scratch.dir("run", 0o755);
        let token = token();

        write_file(&jail.join("www/index.html"), &format!("index {}\n", token), 0o644);
        write_file(&jail.join(format!("marker-{}.txt", token)), &format!("jailed {}\n", token), 0o644);
        scratch.dir("jail/run", 0o755);
        let outside = scratch.path.join("outside.txt");
        write_file(&outside, &format!("outside {}\n", token), 0o644);

        let env = vec![
            ("LD_PRELOAD".to_string(), library().display().to_string()),
            ("HTTPD_CHROOT_DIR".to_string(), jail.display().to_string()),
            ("HTTPD_CHROOT_LOG".to_string(), "debug".to_string()),
        ];
        Site {
            mpm,
            port: free_port(),
            token,
            pidfile: run.join("httpd.pid"),
            config: scratch.path.join("httpd.conf"),
            jail,
            logs,
            outside,
            modules: ["authz_core", "mime", "alias", "dir", "cgid"].iter().map(|name| name.to_string()).collect(),
            extra: Vec::new(),
            env,
            scratch,
        }
    }

    /// Sets or replaces one environment variable for httpd.
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.env.retain(|(existing, _)| existing != name);
        self.env.push((name.to_string(), value.to_string()));
    }

    /// Adds a shell CGI script (with /bin/sh copied into the jail) that
    /// reports whether the jail's marker is at its root and writes a
    /// file into the jail's /tmp.
    pub fn add_cgi(&self) {
        copy_program(&self.jail, "/bin/sh");
        self.scratch.dir("jail/tmp", 0o1777);
        let script = format!(
            "#!/bin/sh\n\
             echo 'Content-Type: text/plain'\n\
             echo\n\
             if [ -f /marker-{token}.txt ]; then echo 'root=jail'; else echo 'root=host'; fi\n\
             echo \"cwd=$PWD\"\n\
             : > /tmp/cgi-ran-{token}\n",
            token = self.token
        );
        write_file(&self.jail.join("www/cgi-bin/probe.cgi"), &script, 0o755);
    }

    /// Writes the configuration: host paths throughout, as an admin writes it.
    pub fn write_config(&self) {
        self.write_config_with(&[]);
    }

    /// Writes the configuration with `more` lines at its end, which a test
    /// adds while the server runs to change it before a restart.
    pub fn write_config_with(&self, more: &[String]) {
        let mut text = self.config_text();
        for line in more {
            text.push_str(line);
            text.push('\n');
        }
        write_file(&self.config, &text, 0o644);
    }

    /// Returns the generated configuration.
    pub fn config_text(&self) -> String {
        let modules = "/usr/lib/apache2/modules";
        let mut lines = vec![
            format!("ServerRoot {}", self.scratch.path.display()),
            "ServerName test.invalid".to_string(),
            format!("Listen 127.0.0.1:{}", self.port),
            format!("PidFile {}", self.pidfile.display()),
            format!("ErrorLog {}/error.log", self.logs.display()),
            "LogLevel info".to_string(),
            format!("User {}", RUN_USER),
            format!("Group {}", RUN_USER),
            format!("LoadModule mpm_{0}_module {1}/mod_mpm_{0}.so", self.mpm, modules),
        ];
        for module in &self.modules {
            lines.push(format!("LoadModule {0}_module {1}/mod_{0}.so", module, modules));
        }
        lines.extend(mpm_limits(self.mpm).iter().map(|line| line.to_string()));
        lines.extend([
            "TypesConfig /etc/mime.types".to_string(),
            format!("DocumentRoot {}/www", self.jail.display()),
        ]);
        // ScriptSock is a mod_cgid directive, unknown when a site loads mod_cgi instead.
        if self.modules.iter().any(|module| module == "cgid") {
            lines.push(format!("ScriptSock {}/run/cgisock", self.jail.display()));
        }
        lines.extend([
            format!("ScriptAlias /cgi-bin/ {}/www/cgi-bin/", self.jail.display()),
            format!("Alias /marker.txt /marker-{}.txt", self.token),
            format!("Alias /outside.txt {}", self.outside.display()),
        ]);
        lines.extend(self.extra.iter().cloned());
        lines.join("\n") + "\n"
    }

    /// Returns an apache2 command for this site's configuration and environment.
    pub fn command(&self, args: &[&str]) -> Command {
        self.wrapped_command(&[], args)
    }

    /// Returns an apache2 command run through `wrapper` (such as setpriv or
    /// unshare with their options), with this site's environment.
    pub fn wrapped_command(&self, wrapper: &[&str], args: &[&str]) -> Command {
        let mut command = match wrapper.split_first() {
            Some((program, options)) => {
                let mut command = Command::new(program);
                command.args(options).arg(APACHE2);
                command
            }
            None => Command::new(APACHE2),
        };
        command.arg("-f").arg(&self.config).args(args);
        for name in VARIABLES {
            command.env_remove(name);
        }
        command.envs(self.env.iter().map(|(name, value)| (name.as_str(), value.as_str())));
        command
    }

    /// Runs `apache2 -k start` and waits until the server responds.
    pub fn start(&self) -> Running<'_> {
        self.write_config();
        let output = self.command(&["-k", "start"]).output().expect("run apache2 -k start");
        assert!(output.status.success(), "apache2 -k start failed: {}\n{}", describe(&output), self.report());
        self.wait_ready()
    }

    /// Waits until the pidfile exists and a child responds to a request, which
    /// happens only after the parent has entered the jail.
    pub fn wait_ready(&self) -> Running<'_> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let parent = fs::read_to_string(&self.pidfile).ok().and_then(|text| text.trim().parse().ok());
            if let Some(parent) = parent {
                if http::get(self.port, "/").is_ok() {
                    return Running { site: self, parent, stopped: false };
                }
            }
            assert!(Instant::now() < deadline, "server did not come up within 20 s\n{}", self.report());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn error_log(&self) -> String {
        fs::read_to_string(self.logs.join("error.log")).unwrap_or_default()
    }

    /// Everything needed to understand a failure.
    pub fn report(&self) -> String {
        format!(
            "--- environment\n{:?}\n--- {}\n{}--- jail listing\n{}\n--- error log\n{}",
            self.env,
            self.config.display(),
            fs::read_to_string(&self.config).unwrap_or_default(),
            listing(&self.jail),
            self.error_log()
        )
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.report());
        }
    }
}

fn mpm_limits(mpm: &str) -> &'static [&'static str] {
    match mpm {
        "prefork" => &["StartServers 2", "MinSpareServers 1", "MaxSpareServers 4", "MaxRequestWorkers 8"],
        _ => &[
            "StartServers 2",
            "ServerLimit 4",
            "ThreadsPerChild 4",
            "MinSpareThreads 4",
            "MaxSpareThreads 16",
            "MaxRequestWorkers 16",
        ],
    }
}

/// Shows a finished command's status and output.
pub fn describe(output: &Output) -> String {
    format!(
        "status {}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A started server, stopped on drop.
pub struct Running<'a> {
    pub site: &'a Site,
    pub parent: i32,
    stopped: bool,
}

impl Running<'_> {
    /// Returns the daemon parent and every process it started.
    pub fn processes(&self) -> Vec<ProcessInfo> {
        procs::tree(self.parent)
    }

    /// Returns the server's own processes: the parent and the httpd
    /// processes forked from it (MPM children, mod_cgid's daemon).
    pub fn httpd_processes(&self) -> Vec<ProcessInfo> {
        self.processes().into_iter().filter(|info| info.exe.as_os_str() == APACHE2).collect()
    }

    /// Records that the server was stopped by other means.
    pub(crate) fn mark_stopped(&mut self) {
        self.stopped = true;
    }

    /// Stops the server with SIGTERM and checks that every process exits.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let processes = self.processes();
        procs::signal(self.parent, libc::SIGTERM);
        let exited = procs::wait_gone(self.parent, 20);
        let mut left = Vec::new();
        for info in &processes {
            if !procs::wait_gone(info.pid, 5) {
                left.push(info.clone());
                procs::signal(info.pid, libc::SIGKILL);
            }
        }
        if !std::thread::panicking() {
            assert!(exited, "parent {} still runs 20 s after SIGTERM\n{}", self.parent, self.site.report());
            assert!(left.is_empty(), "processes left after SIGTERM: {:?}\n{}", left, self.site.report());
        }
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// Returns the uid of `user` from /etc/passwd.
pub fn uid_of(user: &str) -> u32 {
    let passwd = fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.first() == Some(&user) {
                fields.get(2).and_then(|uid| uid.parse().ok())
            } else {
                None
            }
        })
        .unwrap_or_else(|| panic!("user {} not found in /etc/passwd", user))
}

//! httpd-chroot-admin: installs the httpd-chroot library into apachectl's
//! environment, builds a jail for httpd's run user, and checks a jail
//! against the httpd configuration.

mod actions;
mod args;
mod audit;
mod check;
mod config;
mod copy;
mod install;
mod jail;
mod layout;
mod report;
mod scan;
mod users;

use args::Error;

const HELP: &str = "\
usage: httpd-chroot-admin COMMAND [OPTIONS]

Commands:
  install     copy the library to a stable place and add LD_PRELOAD and
              HTTPD_CHROOT_* to apachectl's environment file
  uninstall   remove what install added, restoring the file byte for byte
  jail        build or refresh a jail for httpd's run user
  check       compare a jail with the httpd configuration (exit 0 clean,
              1 findings, 2 usage errors)

Every command takes --help, and install, uninstall and jail take --dry-run,
which prints what would change and changes nothing.
Layouts: Debian (/etc/apache2, envvars, apache2ctl) and RHEL (/etc/httpd,
/etc/sysconfig/httpd, apachectl), detected or chosen with --layout.
";

fn main() {
    // Rust ignores SIGPIPE, so printing to a closed pipe (`... | head -1`)
    // would panic. The default action ends the program quietly instead, as
    // it does other command-line tools.
    // SAFETY: called before any other thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = arguments.split_first() else {
        eprint!("{}", HELP);
        std::process::exit(2);
    };
    let result = match command.as_str() {
        "install" => install::install(rest),
        "uninstall" => install::uninstall(rest),
        "jail" => jail::run(rest),
        "check" => check::run(rest),
        "-h" | "--help" | "help" => {
            print!("{}", HELP);
            Ok(0)
        }
        other => Err(Error::Usage(format!("unknown command {}: expected install, uninstall, jail or check (see --help)", other))),
    };
    let status = match result {
        Ok(status) => status,
        Err(Error::Usage(message)) => {
            eprintln!("httpd-chroot-admin: usage error: {}", message);
            2
        }
        Err(Error::Failed(message)) => {
            eprintln!("httpd-chroot-admin {}: error: {}", command, message);
            // The check command reserves 1 for findings.
            if command == "check" {
                2
            } else {
                1
            }
        }
    };
    std::process::exit(status);
}

//! Library setup in every process that loads it.
//!
//! Every program started with the library in `LD_PRELOAD` runs this:
//! apachectl's helpers, httpd itself, its control commands, piped loggers.
//! It becomes active only in an httpd process (one that exports
//! `ap_state_query`) that may start a server, with `HTTPD_CHROOT_DIR` set.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

use log::LevelFilter;

use crate::audit;
use crate::config::{self, SettingsError};
use crate::httpd::Httpd;
use crate::lifecycle;
use crate::logging::{self, LineBuffer};
use crate::role::{self, Invocation};
use crate::state::{self, Process, Rejection, Setup};

/// glibc calls the functions in `.init_array` with the program's argc,
/// argv and envp before main(). In the unit-test binary it finds no httpd
/// and returns at once.
#[used]
#[link_section = ".init_array"]
static ON_LOAD: unsafe extern "C" fn(c_int, *const *const c_char, *const *const c_char) = on_load;

/// Sets the library up for this process.
///
/// # Safety
///
/// Called only by the dynamic loader, with `argv` holding `argc` valid
/// C strings.
unsafe extern "C" fn on_load(argc: c_int, argv: *const *const c_char, _envp: *const *const c_char) {
    let httpd = match Httpd::detect() {
        Some(httpd) => httpd,
        None => return,
    };
    let variables = config::Variables::read();
    if matches!(variables.dir.as_deref(), None | Some([])) {
        return;
    }

    let mut args = Vec::new();
    for index in 1..argc.max(0) as usize {
        // SAFETY: the loader passes argc valid, NUL-terminated strings.
        args.push(CStr::from_ptr(*argv.add(index)).to_bytes());
    }
    let invocation = role::classify(args);
    if invocation == Invocation::Control {
        return;
    }

    if invocation == Invocation::Server {
        state::keep_terminal();
    }
    let level = variables.log.as_deref().and_then(logging::parse_level).unwrap_or(LevelFilter::Info);
    logging::init(level);

    match checked_settings(&variables, invocation) {
        Ok(settings) => {
            log::debug!(
                "loaded as {:?} for jail {} in {:?} mode",
                invocation,
                settings.resolved.as_bytes().escape_ascii(),
                settings.mode
            );
            if settings.audit && invocation == Invocation::Server {
                audit::start();
            }
            state::install(Setup::Active(Process { settings, invocation, httpd }));
        }
        Err(error) if invocation == Invocation::ConfigTest => {
            write_error_line(&format!("{}", error));
            libc::_exit(1);
        }
        Err(error) => {
            state::install(Setup::Rejected(rejection(error, httpd)));
        }
    }

    crate::hooks::resolve_all();
    libc::pthread_atfork(None, None, Some(lifecycle::after_fork_in_child));
}

fn checked_settings(variables: &config::Variables, invocation: Invocation) -> Result<config::Settings, SettingsError> {
    let settings = config::parse(variables)?.expect("the caller checked that the jail is set");
    if invocation == Invocation::Server {
        config::check_privilege(&settings)?;
    }
    Ok(settings)
}

/// Builds the rejection of a server process. The terminal kept at load
/// receives the error after httpd has redirected stderr.
fn rejection(error: SettingsError, httpd: Httpd) -> Rejection {
    Rejection { message: format!("{}. The server was not started", error), errno: error.errno(), httpd }
}

fn write_error_line(message: &str) {
    let mut line = LineBuffer::new();
    logging::format_line(&mut line, log::Level::Error, &format_args!("{}", message));
    logging::write_all(libc::STDERR_FILENO, line.finish());
}

//! Stopping a server whose jail settings are unusable, with one error line
//! in the error log and one on the terminal that started it.

use log::Level;

use crate::logging::{self, LineBuffer};
use crate::state::{self, Rejection};
use crate::sys;

/// Writes the rejection to stderr (the error log once httpd has opened it) and,
/// in the process that read the settings, to the saved terminal.
pub fn report(rejection: &Rejection) {
    report_line(Level::Error, &rejection.message);
}

/// Writes one line to stderr and, in the process that started the server,
/// to the saved terminal unless stderr is that terminal still.
pub fn report_line(level: Level, message: &str) {
    let mut line = LineBuffer::new();
    logging::format_line(&mut line, level, &format_args!("{}", message));
    let line = line.finish();
    logging::write_all(libc::STDERR_FILENO, line);

    let terminal = state::terminal();
    if terminal >= 0 && !same_file(terminal, libc::STDERR_FILENO) {
        logging::write_all(terminal, line);
    }
}

/// Returns whether two descriptors refer to the same open file, so that a
/// line is not written twice when stderr is still the terminal.
fn same_file(first: libc::c_int, second: libc::c_int) -> bool {
    match (sys::fstat(first), sys::fstat(second)) {
        (Ok(a), Ok(b)) => a.st_dev == b.st_dev && a.st_ino == b.st_ino,
        _ => false,
    }
}

/// Called after a dup2(2) or dup3(2) onto stderr: the first one in the
/// starting process is httpd opening its error log, the earliest point at
/// which the rejection reaches both the error log and the terminal.
pub fn on_stderr_replaced() {
    let rejection = match state::rejection() {
        Some(rejection) => rejection,
        None => return,
    };
    if !state::is_origin() {
        return;
    }
    report(rejection);
    // SAFETY: _exit ends the process at once. Nothing is served yet, and
    // piped loggers see their input close and exit.
    unsafe { libc::_exit(1) };
}

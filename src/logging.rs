//! Log lines in the shape of httpd's error log, written to stderr with one
//! write(2) call each.
//!
//! In the daemon, stderr is httpd's error log. stdio's stderr would be fully
//! buffered there and its pending bytes copied into every forked child, so
//! lines are formatted into a stack buffer and written directly. Nothing here
//! allocates or locks beyond what localtime_r does, so logging is safe in
//! forked children. Lines never go to stdout, which is a CGI's response.

use std::fmt::{self, Write};
use std::os::raw::c_int;

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::errno::ErrnoGuard;

/// Maximum length of a log line in bytes. Longer messages end in `...`.
const LINE_MAX: usize = 1024;

/// The tag that replaces httpd's module name in `[module:level]`.
const TAG: &str = "httpd-chroot";

/// A fixed-size line buffer that truncates instead of allocating.
pub struct LineBuffer {
    bytes: [u8; LINE_MAX],
    length: usize,
    truncated: bool,
}

impl Default for LineBuffer {
    fn default() -> LineBuffer {
        LineBuffer::new()
    }
}

impl LineBuffer {
    pub fn new() -> LineBuffer {
        LineBuffer { bytes: [0; LINE_MAX], length: 0, truncated: false }
    }

    /// Returns the line, ending in a newline.
    pub fn finish(&mut self) -> &[u8] {
        const ELLIPSIS: &[u8] = b"...\n";
        if self.truncated {
            self.length = LINE_MAX - ELLIPSIS.len();
            self.bytes[self.length..].copy_from_slice(ELLIPSIS);
            self.length = LINE_MAX;
        } else if self.length == LINE_MAX {
            self.bytes[LINE_MAX - 1] = b'\n';
        } else {
            self.bytes[self.length] = b'\n';
            self.length += 1;
        }
        &self.bytes[..self.length]
    }
}

impl Write for LineBuffer {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        // One byte stays free for the newline.
        let room = LINE_MAX - 1 - self.length;
        if text.len() > room {
            self.truncated = true;
        }
        let count = text.len().min(room);
        self.bytes[self.length..self.length + count].copy_from_slice(&text.as_bytes()[..count]);
        self.length += count;
        Ok(())
    }
}

/// Parses a `HTTPD_CHROOT_LOG` value.
pub fn parse_level(value: &[u8]) -> Option<LevelFilter> {
    let level = match value {
        b"error" => LevelFilter::Error,
        b"warn" => LevelFilter::Warn,
        b"info" => LevelFilter::Info,
        b"debug" => LevelFilter::Debug,
        b"trace" => LevelFilter::Trace,
        _ => return None,
    };
    Some(level)
}

/// httpd's name for a level, as shown in `[module:level]`.
fn level_name(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warn => "warn",
        Level::Info => "info",
        Level::Debug => "debug",
        Level::Trace => "trace1",
    }
}

/// Formats a complete error-log line for `message`.
pub fn format_line(line: &mut LineBuffer, level: Level, message: &fmt::Arguments<'_>) {
    write_timestamp(line);

    // SAFETY: getpid(2) and gettid(2) have no preconditions and always succeed.
    let (pid, tid) = unsafe { (libc::getpid(), libc::syscall(libc::SYS_gettid)) };
    let _ = write!(line, " [{}:{}] [pid {}:tid {}] ", TAG, level_name(level), pid, tid);
    let _ = line.write_fmt(*message);
}

/// Writes httpd's timestamp, `[Fri Dec 04 20:34:40.310905 2026]`, in local time.
fn write_timestamp(line: &mut LineBuffer) {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: tm is plain data, so all-zero is a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers refer to live stack values of the right types.
    let converted = unsafe {
        libc::clock_gettime(libc::CLOCK_REALTIME, &mut now);
        !libc::localtime_r(&now.tv_sec, &mut tm).is_null()
    };
    if !converted {
        let _ = write!(line, "[{}.{:06}]", now.tv_sec, now.tv_nsec / 1000);
        return;
    }

    let _ = write!(
        line,
        "[{} {} {:02} {:02}:{:02}:{:02}.{:06} {}]",
        DAYS[tm.tm_wday.rem_euclid(7) as usize],
        MONTHS[tm.tm_mon.rem_euclid(12) as usize],
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        now.tv_nsec / 1000,
        tm.tm_year + 1900
    );
}

/// Writes `bytes` to `fd` in one call, retrying on EINTR, and keeps errno.
pub fn write_all(fd: c_int, bytes: &[u8]) {
    let _errno = ErrnoGuard::save();
    let mut written = 0;
    while written < bytes.len() {
        let rest = &bytes[written..];
        // SAFETY: the pointer and length describe the live `rest` slice.
        let count = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        if count > 0 {
            written += count as usize;
        } else if count < 0 && crate::errno::Errno::last().0 == libc::EINTR {
            continue;
        } else {
            return;
        }
    }
}

/// The `log` backend: every record becomes one line on stderr.
struct ErrorLog;

impl Log for ErrorLog {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut line = LineBuffer::new();
        format_line(&mut line, record.level(), record.args());
        write_all(libc::STDERR_FILENO, line.finish());
    }

    fn flush(&self) {}
}

static LOGGER: ErrorLog = ErrorLog;

/// Installs the backend with `level`. A second call keeps the first backend
/// and only changes the level.
pub fn init(level: LevelFilter) {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(args: fmt::Arguments<'_>) -> String {
        let mut line = LineBuffer::new();
        format_line(&mut line, Level::Info, &args);
        String::from_utf8(line.finish().to_vec()).expect("log line is UTF-8")
    }

    #[test]
    fn line_has_httpd_shape() {
        let line = render(format_args!("changed root to {}", "/srv/jail"));
        assert!(line.starts_with('['), "line {:?}", line);
        assert!(line.contains("] [httpd-chroot:info] [pid "), "line {:?}", line);
        assert!(line.ends_with("] changed root to /srv/jail\n"), "line {:?}", line);
    }

    #[test]
    fn long_message_is_cut_with_ellipsis() {
        let long = "x".repeat(3 * LINE_MAX);
        let line = render(format_args!("{}", long));
        assert_eq!(line.len(), LINE_MAX);
        assert!(line.ends_with("...\n"));
    }

    #[test]
    fn parse_level_accepts_documented_names() {
        assert_eq!(parse_level(b"error"), Some(LevelFilter::Error));
        assert_eq!(parse_level(b"warn"), Some(LevelFilter::Warn));
        assert_eq!(parse_level(b"info"), Some(LevelFilter::Info));
        assert_eq!(parse_level(b"debug"), Some(LevelFilter::Debug));
        assert_eq!(parse_level(b"trace"), Some(LevelFilter::Trace));
    }

    #[test]
    fn parse_level_rejects_other_values() {
        for value in [&b"verbose"[..], b"INFO", b"", b"info "] {
            assert_eq!(parse_level(value), None, "value {:?}", value);
        }
    }
}

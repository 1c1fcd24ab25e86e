//! Process-wide state, written during setup and read by the hooks.
//!
//! Setup runs before httpd forks its children: while the library loads, and
//! at the moment a process enters the jail. Afterwards the hooks only read,
//! through atomics and initialized `OnceCell`s, which neither lock nor
//! allocate.

use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use once_cell::sync::OnceCell;

use crate::config::Settings;
use crate::errno::Errno;
use crate::httpd::Httpd;
use crate::role::Invocation;

/// A process asked to run httpd in a jail, with usable settings.
pub struct Process {
    pub settings: Settings,
    pub invocation: Invocation,
    pub httpd: Httpd,
}

/// A server process asked to run in a jail whose settings are unusable. It
/// must never serve: the first point at which it would publish its pidfile or
/// drop privileges stops it instead.
pub struct Rejection {
    /// The complete error message, without the log-line prefix.
    pub message: String,
    pub errno: Errno,
    pub httpd: Httpd,
}

pub enum Setup {
    Active(Process),
    Rejected(Rejection),
}

static SETUP: OnceCell<Setup> = OnceCell::new();
static JAILED: AtomicBool = AtomicBool::new(false);

/// Set in the daemon parent from its first pidfile on; every child clears
/// it right after fork().
static DAEMON_PARENT: AtomicBool = AtomicBool::new(false);

/// Directory descriptors that only the daemon parent keeps open while it
/// works in the jail (server mode), each -1 when closed: the host's root and
/// the working directory it had outside, to leave the jail through, and
/// the host's /dev/shm, for named shared memory.
pub static HOST_ROOT: AtomicI32 = AtomicI32::new(-1);
pub static HOST_CWD: AtomicI32 = AtomicI32::new(-1);
pub static HOST_SHM_DIR: AtomicI32 = AtomicI32::new(-1);

/// The server process that loaded the library first (`apache2 -k start`
/// before it detaches), and a close-on-exec copy of the stderr it had
/// then (the terminal), or -1. Only that process reports to the terminal,
/// and only until it has checked the configuration it read.
static ORIGIN_PID: AtomicI32 = AtomicI32::new(0);
static TERMINAL: AtomicI32 = AtomicI32::new(-1);

/// Keeps a copy of stderr, the terminal that started this server process.
pub fn keep_terminal() {
    // SAFETY: getpid(2) has no preconditions and always succeeds.
    ORIGIN_PID.store(unsafe { libc::getpid() }, Ordering::Release);
    // SAFETY: F_DUPFD_CLOEXEC only creates a new descriptor.
    let terminal = unsafe { libc::fcntl(libc::STDERR_FILENO, libc::F_DUPFD_CLOEXEC, 3) };
    TERMINAL.store(terminal, Ordering::Release);
}

/// Returns the terminal's descriptor in the process that kept it, else -1.
pub fn terminal() -> c_int {
    if !is_origin() {
        return -1;
    }
    TERMINAL.load(Ordering::Acquire)
}

/// Closes the terminal's copy, which a detached daemon parent may have
/// inherited too: the process has nothing more to report there.
pub fn release_terminal() {
    let terminal = TERMINAL.swap(-1, Ordering::AcqRel);
    if terminal >= 0 {
        // SAFETY: the descriptor came from keep_terminal, and the swap above
        // makes this the only close of it in this process.
        unsafe { libc::close(terminal) };
    }
}

/// Returns whether this is the process that loaded the library first.
pub fn is_origin() -> bool {
    // SAFETY: getpid(2) has no preconditions and always succeeds.
    ORIGIN_PID.load(Ordering::Acquire) == unsafe { libc::getpid() }
}

/// Records the setup; only the first call has an effect.
pub fn install(setup: Setup) {
    let _ = SETUP.set(setup);
}

/// Returns the process state when a usable jail is configured.
pub fn active() -> Option<&'static Process> {
    match SETUP.get() {
        Some(Setup::Active(process)) => Some(process),
        _ => None,
    }
}

/// Returns the rejection when a jail is configured but unusable.
pub fn rejection() -> Option<&'static Rejection> {
    match SETUP.get() {
        Some(Setup::Rejected(rejection)) => Some(rejection),
        _ => None,
    }
}

/// Returns whether this process has entered the jail.
pub fn is_jailed() -> bool {
    JAILED.load(Ordering::Acquire)
}

pub fn mark_jailed() {
    JAILED.store(true, Ordering::Release);
}

/// Records that the daemon parent has left the jail.
pub fn mark_left() {
    JAILED.store(false, Ordering::Release);
}

/// Returns whether this process is httpd's daemon parent.
pub fn is_daemon_parent() -> bool {
    DAEMON_PARENT.load(Ordering::Acquire)
}

/// Marks this process as the daemon parent (true) or as its child (false).
pub fn set_daemon_parent(value: bool) {
    DAEMON_PARENT.store(value, Ordering::Release);
}

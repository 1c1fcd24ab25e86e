//! httpd-chroot: an `LD_PRELOAD` library that jails a stock Apache httpd in
//! a chroot(2) directory when the server enters its MPM phase.
//!
//! In server mode (the default) the daemon parent enters the jail right
//! after it publishes its pidfile: all modules are loaded, all logs are
//! open, and no child exists yet. It leaves again when httpd stops running
//! its MPM, to read its configuration at a restart or to clean up at a stop,
//! and enters again at the next pidfile (`lifecycle`). In children mode only
//! the processes that drop root privileges enter the jail, just before they
//! do. In jailed processes, host paths under the jail that reach interposed
//! libc calls are rewritten to the same files seen from inside the jail, so
//! the admin's configuration keeps its ordinary host paths. See README.md.

pub mod audit;
pub mod config;
pub mod errno;
pub mod groups;
mod hooks;
pub mod httpd;
pub mod jail;
pub mod lifecycle;
pub mod lockfiles;
pub mod logging;
pub mod paths;
pub mod pidfile;
pub mod preflight;
pub mod rejection;
pub mod role;
pub mod startup;
pub mod state;
pub mod sys;

//! Interposed `stat()` and `open()`+`close()` against the real libc calls,
//! in a process that the library treats as a jailed httpd daemon.
//!
//! bench/run starts this program without arguments, with LD_PRELOAD set to
//! the library and HTTPD_CHROOT_DIR and HTTPD_CHROOT_BENCH_PIDFILE set
//! (HTTPD_CHROOT_BENCH_QUICK for short measurements). The program exports
//! `ap_state_query` and reports the MPM phase, so the library recognizes it
//! as httpd. It then publishes a pidfile the way httpd does, which makes the
//! library enter the jail, forks a child as httpd's MPM does, and measures
//! in that child:
//!
//! - `hooked/inside`: a host path under the jail, which the hook translates;
//! - `real/inside`: libc's own function with the translated path;
//! - `hooked/outside` and `real/outside`: a path outside the jail, which the
//!   hook passes on unchanged (the file exists at that path inside the jail).

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int};
use std::time::Duration;

use criterion::{black_box, Criterion};

/// httpd's `ap_state_query`: always in the MPM phase.
#[no_mangle]
pub extern "C" fn ap_state_query(query: c_int) -> c_int {
    const AP_SQ_MAIN_STATE: c_int = 0;
    const AP_SQ_MS_RUN_MPM: c_int = 5;
    if query == AP_SQ_MAIN_STATE {
        AP_SQ_MS_RUN_MPM
    } else {
        -1
    }
}

type StatFn = unsafe extern "C" fn(*const c_char, *mut libc::stat) -> c_int;
type OpenFn = unsafe extern "C" fn(*const c_char, c_int, ...) -> c_int;
type CloseFn = unsafe extern "C" fn(c_int) -> c_int;

/// libc's own functions, found in libc.so.6 itself rather than through the
/// global lookup that the preloaded library wins.
struct Real {
    stat: StatFn,
    open: OpenFn,
    close: CloseFn,
}

impl Real {
    fn find() -> Real {
        // SAFETY: dlopen with RTLD_NOLOAD only returns the already loaded
        // libc; the symbols have the C types declared above.
        unsafe {
            let libc_handle = libc::dlopen(c"libc.so.6".as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD);
            assert!(!libc_handle.is_null(), "libc.so.6 is not loaded");
            let symbol = |name: &CStr| {
                let address = libc::dlsym(libc_handle, name.as_ptr());
                assert!(!address.is_null(), "libc.so.6 lacks {:?}", name);
                address
            };
            Real {
                stat: std::mem::transmute::<*mut libc::c_void, StatFn>(symbol(c"stat")),
                open: std::mem::transmute::<*mut libc::c_void, OpenFn>(symbol(c"open")),
                close: std::mem::transmute::<*mut libc::c_void, CloseFn>(symbol(c"close")),
            }
        }
    }
}

/// Publishes `pidfile` as httpd 2.4.47 and later do: a temporary file with
/// the pid, renamed onto the pidfile. The library enters the jail then.
fn publish_pidfile(pidfile: &str) {
    let temporary = CString::new(format!("{}.XXXXXX", pidfile)).expect("no NUL in the pidfile path");
    let mut template = temporary.into_bytes_with_nul();
    // SAFETY: template is a writable NUL-terminated buffer ending in XXXXXX.
    let fd = unsafe { libc::mkstemp(template.as_mut_ptr().cast()) };
    assert!(fd >= 0, "mkstemp for {} failed", pidfile);
    let content = format!("{}\n", std::process::id());
    // SAFETY: the buffer is valid for its length, and fd is open.
    unsafe {
        assert_eq!(libc::write(fd, content.as_ptr().cast(), content.len()), content.len() as isize);
        libc::close(fd);
    }
    let target = CString::new(pidfile).expect("no NUL in the pidfile path");
    // SAFETY: both paths are NUL-terminated.
    let renamed = unsafe { libc::rename(template.as_ptr().cast(), target.as_ptr()) };
    assert_eq!(renamed, 0, "rename onto {} failed: the library did not enter the jail", pidfile);
}

fn stat_with(function: StatFn, path: &CStr) {
    // SAFETY: stat is plain data; the path is NUL-terminated.
    let mut status: libc::stat = unsafe { std::mem::zeroed() };
    let result = unsafe { function(black_box(path.as_ptr()), &mut status) };
    assert_eq!(result, 0, "stat {:?} failed", path);
}

fn open_close_with(open: OpenFn, close: CloseFn, path: &CStr) {
    // SAFETY: the path is NUL-terminated; the descriptor is closed at once.
    unsafe {
        let fd = open(black_box(path.as_ptr()), libc::O_RDONLY | libc::O_CLOEXEC);
        assert!(fd >= 0, "open {:?} failed", path);
        close(fd);
    }
}

fn main() {
    let jail = match std::env::var("HTTPD_CHROOT_DIR") {
        Ok(jail) if std::env::var_os("LD_PRELOAD").is_some() => jail,
        _ => {
            eprintln!("calls: skipped; run it through bench/run, which sets LD_PRELOAD and HTTPD_CHROOT_DIR");
            return;
        }
    };
    let pidfile = std::env::var("HTTPD_CHROOT_BENCH_PIDFILE").expect("HTTPD_CHROOT_BENCH_PIDFILE is set");
    let real = Real::find();
    publish_pidfile(&pidfile);

    // Children of the daemon parent serve the requests, so the calls are
    // measured in a child, where the library takes the same path.
    // SAFETY: the process is single-threaded here; the child only runs
    // this program's own code.
    let child = unsafe { libc::fork() };
    assert!(child >= 0, "fork failed");
    if child > 0 {
        let mut status = 0;
        // SAFETY: waits for the child forked above.
        unsafe { libc::waitpid(child, &mut status, 0) };
        std::process::exit(if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 1 });
    }

    let host_inside = CString::new(format!("{}/www/index.html", jail)).expect("no NUL");
    let jail_inside = c"/www/index.html";
    let outside = c"/etc/bench-outside.conf";
    // Only a jailed process finds the file at its jail-relative path.
    stat_with(real.stat, jail_inside);

    let hooked_stat: StatFn = libc::stat;
    // No command-line options: the library reads argv the way httpd does,
    // and "--noplot" would look like httpd's -l to it.
    let mut criterion = Criterion::default().without_plots();
    if std::env::var_os("HTTPD_CHROOT_BENCH_QUICK").is_some() {
        criterion = criterion.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    }
    let mut group = criterion.benchmark_group("stat");
    group.bench_function("hooked/inside", |b| b.iter(|| stat_with(hooked_stat, &host_inside)));
    group.bench_function("real/inside", |b| b.iter(|| stat_with(real.stat, jail_inside)));
    group.bench_function("hooked/outside", |b| b.iter(|| stat_with(hooked_stat, outside)));
    group.bench_function("real/outside", |b| b.iter(|| stat_with(real.stat, outside)));
    group.finish();

    let hooked_open: OpenFn = libc::open;
    let hooked_close: CloseFn = libc::close;
    let mut group = criterion.benchmark_group("open_close");
    group.bench_function("hooked/inside", |b| b.iter(|| open_close_with(hooked_open, hooked_close, &host_inside)));
    group.bench_function("real/inside", |b| b.iter(|| open_close_with(real.open, real.close, jail_inside)));
    group.bench_function("hooked/outside", |b| b.iter(|| open_close_with(hooked_open, hooked_close, outside)));
    group.bench_function("real/outside", |b| b.iter(|| open_close_with(real.open, real.close, outside)));
    group.finish();

    criterion.final_summary();
}

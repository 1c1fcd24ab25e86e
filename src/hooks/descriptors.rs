//! Descriptor calls that mark steps of httpd's startup: close(2) ends the
//! pidfile of httpd releases before 2.4.47, and dup2(2)/dup3(2) onto stderr
//! is httpd opening its error log, where the configuration it read is
//! checked against the jail.

use std::os::raw::c_int;

use redhook::real;

use super::hooks;
use crate::errno::ErrnoGuard;
use crate::pidfile;
use crate::preflight;
use crate::rejection;
use crate::state;

hooks! {
    unsafe fn close(fd: c_int) -> c_int => hook_close {
        pidfile::intercept_close(fd, || real!(close)(fd))
    }
    unsafe fn dup2(old_fd: c_int, new_fd: c_int) -> c_int => hook_dup2 {
        let result = real!(dup2)(old_fd, new_fd);
        after_dup(result, new_fd);
        result
    }
    unsafe fn dup3(old_fd: c_int, new_fd: c_int, flags: c_int) -> c_int => hook_dup3 {
        let result = real!(dup3)(old_fd, new_fd, flags);
        after_dup(result, new_fd);
        result
    }
}

fn after_dup(result: c_int, new_fd: c_int) {
    if result != libc::STDERR_FILENO || new_fd != libc::STDERR_FILENO {
        return;
    }
    let _errno = ErrnoGuard::save();
    if state::rejection().is_some() {
        rejection::on_stderr_replaced();
    } else {
        preflight::on_error_log_open();
    }
}

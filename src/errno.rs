//! errno values: reading and setting the thread's errno, and showing a value
//! as `ENOENT (No such file or directory)` in messages.

use std::fmt;

/// An errno value as the kernel or libc reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    /// Returns the calling thread's current errno.
    pub fn last() -> Errno {
        // SAFETY: __errno_location returns a valid pointer to this thread's
        // errno for the whole life of the thread.
        Errno(unsafe { *libc::__errno_location() })
    }

    /// Sets the calling thread's errno to this value.
    pub fn set(self) {
        // SAFETY: as in `last`, the pointer is valid and thread-local.
        unsafe { *libc::__errno_location() = self.0 }
    }

    /// Returns the symbolic name, such as `ENOENT`, if it is a common one.
    pub fn name(self) -> Option<&'static str> {
        ERRNO_NAMES
            .iter()
            .find(|(value, _, _)| *value == self.0)
            .map(|(_, name, _)| *name)
    }

    fn text(self) -> Option<&'static str> {
        ERRNO_NAMES
            .iter()
            .find(|(value, _, _)| *value == self.0)
            .map(|(_, _, text)| *text)
    }
}

impl fmt::Display for Errno {
    /// Formats as `ENOENT (No such file or directory)`, or `errno 1234` for
    /// values outside the table.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.name(), self.text()) {
            (Some(name), Some(text)) => write!(f, "{} ({})", name, text),
            _ => write!(f, "errno {}", self.0),
        }
    }
}

/// Saves errno on creation and restores it on drop, so that the library's
/// own work (logging, checks) never changes the errno the caller reads.
pub struct ErrnoGuard(Errno);

impl ErrnoGuard {
    pub fn save() -> ErrnoGuard {
        ErrnoGuard(Errno::last())
    }
}

impl Drop for ErrnoGuard {
    fn drop(&mut self) {
        self.0.set();
    }
}

/// Names and glibc's texts of the errno values that path and process calls
/// return. Kept as a table so that formatting needs neither allocation nor
/// the locale machinery of strerror.
const ERRNO_NAMES: &[(i32, &str, &str)] = &[
    (libc::EPERM, "EPERM", "Operation not permitted"),
    (libc::ENOENT, "ENOENT", "No such file or directory"),
    (libc::ESRCH, "ESRCH", "No such process"),
    (libc::EINTR, "EINTR", "Interrupted system call"),
    (libc::EIO, "EIO", "Input/output error"),
    (libc::E2BIG, "E2BIG", "Argument list too long"),
    (libc::ENOEXEC, "ENOEXEC", "Exec format error"),
    (libc::EBADF, "EBADF", "Bad file descriptor"),
    (libc::EAGAIN, "EAGAIN", "Resource temporarily unavailable"),
    (libc::ENOMEM, "ENOMEM", "Cannot allocate memory"),
    (libc::EACCES, "EACCES", "Permission denied"),
    (libc::EFAULT, "EFAULT", "Bad address"),
    (libc::EBUSY, "EBUSY", "Device or resource busy"),
    (libc::EEXIST, "EEXIST", "File exists"),
    (libc::EXDEV, "EXDEV", "Invalid cross-device link"),
    (libc::ENOTDIR, "ENOTDIR", "Not a directory"),
    (libc::EISDIR, "EISDIR", "Is a directory"),
    (libc::EINVAL, "EINVAL", "Invalid argument"),
    (libc::ENFILE, "ENFILE", "Too many open files in system"),
    (libc::EMFILE, "EMFILE", "Too many open files"),
    (libc::ETXTBSY, "ETXTBSY", "Text file busy"),
    (libc::ENOSPC, "ENOSPC", "No space left on device"),
    (libc::EROFS, "EROFS", "Read-only file system"),
    (libc::EMLINK, "EMLINK", "Too many links"),
    (libc::ENAMETOOLONG, "ENAMETOOLONG", "File name too long"),
    (libc::ENOSYS, "ENOSYS", "Function not implemented"),
    (libc::ENOTEMPTY, "ENOTEMPTY", "Directory not empty"),
    (libc::ELOOP, "ELOOP", "Too many levels of symbolic links"),
    (libc::EADDRINUSE, "EADDRINUSE", "Address already in use"),
    (libc::ECONNREFUSED, "ECONNREFUSED", "Connection rejected"),
    (libc::EDQUOT, "EDQUOT", "Disk quota exceeded"),
    (libc::EILSEQ, "EILSEQ", "Invalid or incomplete multibyte or wide character"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_shows_name_and_text() {
        assert_eq!(Errno(libc::ENOENT).to_string(), "ENOENT (No such file or directory)");
    }

    #[test]
    fn display_falls_back_to_number() {
        assert_eq!(Errno(4095).to_string(), "errno 4095");
    }

    #[test]
    fn guard_restores_errno() {
        Errno(libc::EACCES).set();
        {
            let _guard = ErrnoGuard::save();
            Errno(libc::EBADF).set();
        }
        assert_eq!(Errno::last(), Errno(libc::EACCES));
    }
}

//! Error numbers (Linux numbering). A system call returns `-errno` on failure.

/// An error a system call can return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Errno {
    /// Operation not permitted.
    EPERM = 1,
    /// No such file or directory.
    ENOENT = 2,
    /// No such process.
    ESRCH = 3,
    /// Interrupted (the process was killed while sleeping).
    EINTR = 4,
    /// I/O error.
    EIO = 5,
    /// Argument list too long.
    E2BIG = 7,
    /// Exec format error.
    ENOEXEC = 8,
    /// Bad file descriptor.
    EBADF = 9,
    /// No child processes.
    ECHILD = 10,
    /// Try again (for example: process table full).
    EAGAIN = 11,
    /// Out of memory.
    ENOMEM = 12,
    /// Permission denied (for example: exec of something that is not a regular file).
    EACCES = 13,
    /// Bad address (a pointer outside the caller's memory).
    EFAULT = 14,
    /// Device or resource busy.
    EBUSY = 16,
    /// File exists.
    EEXIST = 17,
    /// Cross-device link.
    EXDEV = 18,
    /// No such device.
    ENODEV = 19,
    /// Not a directory.
    ENOTDIR = 20,
    /// Is a directory.
    EISDIR = 21,
    /// Invalid argument.
    EINVAL = 22,
    /// Too many open files in the system.
    ENFILE = 23,
    /// Too many open files in this process.
    EMFILE = 24,
    /// File too large.
    EFBIG = 27,
    /// No space left on device.
    ENOSPC = 28,
    /// Broken pipe (write with no reader).
    EPIPE = 32,
    /// Result too large.
    ERANGE = 34,
    /// File name too long.
    ENAMETOOLONG = 36,
    /// Function not implemented (unknown system call number).
    ENOSYS = 38,
    /// Directory not empty.
    ENOTEMPTY = 39,
    /// Too many links.
    EMLINK = 31,
}

impl Errno {
    /// The value a system call returns: `-errno`.
    pub const fn as_return(self) -> i64 {
        -(self as i32 as i64)
    }

    /// Short description, like `strerror`.
    pub const fn description(self) -> &'static str {
        match self {
            Errno::EPERM => "operation not permitted",
            Errno::ENOENT => "no such file or directory",
            Errno::ESRCH => "no such process",
            Errno::EINTR => "interrupted",
            Errno::EIO => "i/o error",
            Errno::E2BIG => "argument list too long",
            Errno::ENOEXEC => "exec format error",
            Errno::EBADF => "bad file descriptor",
            Errno::ECHILD => "no child processes",
            Errno::EAGAIN => "resource temporarily unavailable",
            Errno::ENOMEM => "out of memory",
            Errno::EACCES => "permission denied",
            Errno::EFAULT => "bad address",
            Errno::EBUSY => "device or resource busy",
            Errno::EEXIST => "file exists",
            Errno::EXDEV => "cross-device link",
            Errno::ENODEV => "no such device",
            Errno::ENOTDIR => "not a directory",
            Errno::EISDIR => "is a directory",
            Errno::EINVAL => "invalid argument",
            Errno::ENFILE => "too many open files in system",
            Errno::EMFILE => "too many open files",
            Errno::EFBIG => "file too large",
            Errno::ENOSPC => "no space left on device",
            Errno::EPIPE => "broken pipe",
            Errno::ERANGE => "result too large",
            Errno::ENAMETOOLONG => "file name too long",
            Errno::ENOSYS => "function not implemented",
            Errno::ENOTEMPTY => "directory not empty",
            Errno::EMLINK => "too many links",
        }
    }

    /// Decodes a negative system-call return value.
    pub fn from_return(ret: i64) -> Option<Errno> {
        if !(-4095..0).contains(&ret) {
            return None;
        }
        ALL.iter().copied().find(|e| *e as i32 as i64 == -ret)
    }
}

/// Every errno value, for decoding.
pub const ALL: [Errno; 30] = [
    Errno::EPERM,
    Errno::ENOENT,
    Errno::ESRCH,
    Errno::EINTR,
    Errno::EIO,
    Errno::E2BIG,
    Errno::ENOEXEC,
    Errno::EBADF,
    Errno::ECHILD,
    Errno::EAGAIN,
    Errno::ENOMEM,
    Errno::EACCES,
    Errno::EFAULT,
    Errno::EBUSY,
    Errno::EEXIST,
    Errno::EXDEV,
    Errno::ENODEV,
    Errno::ENOTDIR,
    Errno::EISDIR,
    Errno::EINVAL,
    Errno::ENFILE,
    Errno::EMFILE,
    Errno::EFBIG,
    Errno::ENOSPC,
    Errno::EPIPE,
    Errno::ERANGE,
    Errno::ENAMETOOLONG,
    Errno::ENOSYS,
    Errno::ENOTEMPTY,
    Errno::EMLINK,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_round_trip() {
        for e in ALL {
            assert_eq!(Errno::from_return(e.as_return()), Some(e));
        }
        assert_eq!(Errno::EFAULT.as_return(), -14);
        assert_eq!(Errno::from_return(0), None);
        assert_eq!(Errno::from_return(5), None);
    }
}

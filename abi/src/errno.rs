//! Error numbers. A failing system call returns `-errno` in `rax`.

macro_rules! errnos {
    ($($(#[$doc:meta])* $name:ident = $value:literal,)*) => {
        $($(#[$doc])* pub const $name: Errno = Errno($value);)*

        #[cfg(test)]
        pub(crate) const ALL: &[(&str, Errno)] = &[$((stringify!($name), $name),)*];
    };
}

/// A Linux error number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

/// A kernel operation's result: a value or a Linux error number.
pub type KResult<T> = Result<T, Errno>;

impl Errno {
    /// The value a failing system call leaves in `rax`: `-errno`.
    pub fn to_return(self) -> u64 {
        (-(self.0 as i64)) as u64
    }
}

errnos! {
    /// Operation not permitted.
    EPERM = 1,
    /// No such file or directory.
    ENOENT = 2,
    /// No such process.
    ESRCH = 3,
    /// Interrupted system call.
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
    /// Try again (would block).
    EAGAIN = 11,
    /// Out of memory.
    ENOMEM = 12,
    /// Permission denied.
    EACCES = 13,
    /// Bad address.
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
    /// Too many open files.
    EMFILE = 24,
    /// Not a terminal.
    ENOTTY = 25,
    /// File too large.
    EFBIG = 27,
    /// No space left on device.
    ENOSPC = 28,
    /// Illegal seek.
    ESPIPE = 29,
    /// Read-only file system.
    EROFS = 30,
    /// Broken pipe.
    EPIPE = 32,
    /// Result out of range.
    ERANGE = 34,
    /// File name too long.
    ENAMETOOLONG = 36,
    /// Function not implemented.
    ENOSYS = 38,
    /// Directory not empty.
    ENOTEMPTY = 39,
    /// Too many symbolic links.
    ELOOP = 40,
    /// No such device or address.
    ENXIO = 6,
    /// Value too large for the type.
    EOVERFLOW = 75,
    /// Address family not supported.
    EAFNOSUPPORT = 97,
    /// Timed out.
    ETIMEDOUT = 110,
}

#[cfg(test)]
mod tests {
    use super::Errno;

    #[test]
    fn values_match_linux() {
        let reference = [
            libc::EPERM,
            libc::ENOENT,
            libc::ESRCH,
            libc::EINTR,
            libc::EIO,
            libc::E2BIG,
            libc::ENOEXEC,
            libc::EBADF,
            libc::ECHILD,
            libc::EAGAIN,
            libc::ENOMEM,
            libc::EACCES,
            libc::EFAULT,
            libc::EBUSY,
            libc::EEXIST,
            libc::EXDEV,
            libc::ENODEV,
            libc::ENOTDIR,
            libc::EISDIR,
            libc::EINVAL,
            libc::ENFILE,
            libc::EMFILE,
            libc::ENOTTY,
            libc::EFBIG,
            libc::ENOSPC,
            libc::ESPIPE,
            libc::EROFS,
            libc::EPIPE,
            libc::ERANGE,
            libc::ENAMETOOLONG,
            libc::ENOSYS,
            libc::ENOTEMPTY,
            libc::ELOOP,
            libc::ENXIO,
            libc::EOVERFLOW,
            libc::EAFNOSUPPORT,
            libc::ETIMEDOUT,
        ];
        assert_eq!(super::ALL.len(), reference.len(), "every value is checked");
        for (&(name, ours), linux) in super::ALL.iter().zip(reference) {
            assert_eq!(ours, Errno(linux), "{name}");
        }
    }

    #[test]
    fn failing_calls_return_minus_errno() {
        assert_eq!(super::EFAULT.to_return(), (-14i64) as u64);
        assert_eq!(super::ENOSYS.to_return() as i64, -38);
    }
}

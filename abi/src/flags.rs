//! Flag and constant values of the system calls Hardtack implements.

/// `open`/`openat` flags.
pub mod open {
    /// Read only.
    pub const O_RDONLY: u32 = 0;
    /// Write only.
    pub const O_WRONLY: u32 = 0o1;
    /// Read and write.
    pub const O_RDWR: u32 = 0o2;
    /// Mask of the access mode.
    pub const O_ACCMODE: u32 = 0o3;
    /// Create if missing.
    pub const O_CREAT: u32 = 0o100;
    /// With `O_CREAT`: fail if it exists.
    pub const O_EXCL: u32 = 0o200;
    /// Do not make it the controlling terminal.
    pub const O_NOCTTY: u32 = 0o400;
    /// Truncate to 0 bytes.
    pub const O_TRUNC: u32 = 0o1000;
    /// Writes go to the end.
    pub const O_APPEND: u32 = 0o2000;
    /// Non-blocking I/O.
    pub const O_NONBLOCK: u32 = 0o4000;
    /// Must be a directory.
    pub const O_DIRECTORY: u32 = 0o200000;
    /// Do not follow a final symbolic link.
    pub const O_NOFOLLOW: u32 = 0o400000;
    /// Close on `execve`.
    pub const O_CLOEXEC: u32 = 0o2000000;
}

/// `*at` calls.
pub mod at {
    /// The `dirfd` meaning "the current directory".
    pub const AT_FDCWD: i32 = -100;
    /// Do not follow a final symbolic link.
    pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
    /// `unlinkat`: remove a directory.
    pub const AT_REMOVEDIR: u32 = 0x200;
    /// An empty path names `dirfd` itself.
    pub const AT_EMPTY_PATH: u32 = 0x1000;
}

/// `lseek` whence.
pub mod seek {
    /// From the start.
    pub const SEEK_SET: u32 = 0;
    /// From the current offset.
    pub const SEEK_CUR: u32 = 1;
    /// From the end.
    pub const SEEK_END: u32 = 2;
}

/// `fcntl` commands and descriptor flags.
pub mod fcntl {
    /// Duplicate to the lowest free descriptor at or above `arg`.
    pub const F_DUPFD: u32 = 0;
    /// Get descriptor flags.
    pub const F_GETFD: u32 = 1;
    /// Set descriptor flags.
    pub const F_SETFD: u32 = 2;
    /// Get file status flags.
    pub const F_GETFL: u32 = 3;
    /// Set file status flags.
    pub const F_SETFL: u32 = 4;
    /// `F_DUPFD` with close-on-exec.
    pub const F_DUPFD_CLOEXEC: u32 = 1030;
    /// Descriptor flag: close on `execve`.
    pub const FD_CLOEXEC: u32 = 1;
}

/// `mmap`/`mprotect`.
pub mod mman {
    /// Readable.
    pub const PROT_READ: u32 = 1;
    /// Writable.
    pub const PROT_WRITE: u32 = 2;
    /// Executable.
    pub const PROT_EXEC: u32 = 4;
    /// Shared mapping.
    pub const MAP_SHARED: u32 = 0x01;
    /// Private (copy-on-write) mapping.
    pub const MAP_PRIVATE: u32 = 0x02;
    /// At exactly `addr`.
    pub const MAP_FIXED: u32 = 0x10;
    /// Not backed by a file.
    pub const MAP_ANONYMOUS: u32 = 0x20;
}

/// File types and permission bits of `st_mode`.
pub mod mode {
    /// Mask of the file type.
    pub const S_IFMT: u32 = 0o170000;
    /// Directory.
    pub const S_IFDIR: u32 = 0o040000;
    /// Character device.
    pub const S_IFCHR: u32 = 0o020000;
    /// Regular file.
    pub const S_IFREG: u32 = 0o100000;
    /// FIFO (pipe).
    pub const S_IFIFO: u32 = 0o010000;
    /// Symbolic link.
    pub const S_IFLNK: u32 = 0o120000;
}

/// Signal numbers.
pub mod signal {
    /// Hang-up.
    pub const SIGHUP: u32 = 1;
    /// Interrupt (^C).
    pub const SIGINT: u32 = 2;
    /// Quit (^\).
    pub const SIGQUIT: u32 = 3;
    /// Illegal instruction.
    pub const SIGILL: u32 = 4;
    /// Abort.
    pub const SIGABRT: u32 = 6;
    /// Bus error.
    pub const SIGBUS: u32 = 7;
    /// Arithmetic error.
    pub const SIGFPE: u32 = 8;
    /// Kill (cannot be caught).
    pub const SIGKILL: u32 = 9;
    /// Invalid memory reference.
    pub const SIGSEGV: u32 = 11;
    /// Write to a pipe nobody reads.
    pub const SIGPIPE: u32 = 13;
    /// Termination request.
    pub const SIGTERM: u32 = 15;
    /// A child stopped or exited.
    pub const SIGCHLD: u32 = 17;
    /// Continue if stopped.
    pub const SIGCONT: u32 = 18;
    /// Stop (cannot be caught).
    pub const SIGSTOP: u32 = 19;
    /// Terminal stop (^Z).
    pub const SIGTSTP: u32 = 20;
    /// Background read from the terminal.
    pub const SIGTTIN: u32 = 21;
    /// Background write to the terminal.
    pub const SIGTTOU: u32 = 22;
    /// Window size change.
    pub const SIGWINCH: u32 = 28;
    /// `rt_sigprocmask` how: add to the mask.
    pub const SIG_BLOCK: u32 = 0;
    /// `rt_sigprocmask` how: remove from the mask.
    pub const SIG_UNBLOCK: u32 = 1;
    /// `rt_sigprocmask` how: replace the mask.
    pub const SIG_SETMASK: u32 = 2;
}

/// `wait4` options.
pub mod wait {
    /// Return at once if no child has exited.
    pub const WNOHANG: u32 = 1;
    /// Also report stopped children.
    pub const WUNTRACED: u32 = 2;
}

/// Auxiliary vector keys (the initial stack's `auxv`).
pub mod auxv {
    /// End of the vector.
    pub const AT_NULL: u64 = 0;
    /// Address of the program headers.
    pub const AT_PHDR: u64 = 3;
    /// Size of one program header.
    pub const AT_PHENT: u64 = 4;
    /// Number of program headers.
    pub const AT_PHNUM: u64 = 5;
    /// Page size.
    pub const AT_PAGESZ: u64 = 6;
    /// Program entry point.
    pub const AT_ENTRY: u64 = 9;
    /// Real user id.
    pub const AT_UID: u64 = 11;
    /// Effective user id.
    pub const AT_EUID: u64 = 12;
    /// Real group id.
    pub const AT_GID: u64 = 13;
    /// Effective group id.
    pub const AT_EGID: u64 = 14;
    /// Clock ticks per second (`times`).
    pub const AT_CLKTCK: u64 = 17;
    /// Secure mode (setuid).
    pub const AT_SECURE: u64 = 23;
    /// Address of 16 random bytes.
    pub const AT_RANDOM: u64 = 25;
    /// File name of the program.
    pub const AT_EXECFN: u64 = 31;
}

/// Terminal `ioctl` requests.
pub mod ioctl {
    /// Get the terminal attributes (`termios`).
    pub const TCGETS: u64 = 0x5401;
    /// Set them now.
    pub const TCSETS: u64 = 0x5402;
    /// Set them after output drains.
    pub const TCSETSW: u64 = 0x5403;
    /// Set them after output drains, discarding input.
    pub const TCSETSF: u64 = 0x5404;
    /// Get the foreground process group.
    pub const TIOCGPGRP: u64 = 0x540f;
    /// Set the foreground process group.
    pub const TIOCSPGRP: u64 = 0x5410;
    /// Get the window size.
    pub const TIOCGWINSZ: u64 = 0x5413;
    /// Set the window size.
    pub const TIOCSWINSZ: u64 = 0x5414;
}

/// `arch_prctl` codes (from `asm/prctl.h`; not in the `libc` crate).
pub mod arch_prctl {
    /// Set the FS base.
    pub const ARCH_SET_FS: u64 = 0x1002;
    /// Get the FS base.
    pub const ARCH_GET_FS: u64 = 0x1003;
}

/// Clocks.
pub mod clock {
    /// Wall-clock time.
    pub const CLOCK_REALTIME: u32 = 0;
    /// Time since boot, never set back.
    pub const CLOCK_MONOTONIC: u32 = 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! same {
        ($($ours:expr => $linux:expr),* $(,)?) => {
            $(assert_eq!($ours as i64, $linux as i64, stringify!($ours));)*
        };
    }

    #[test]
    fn values_match_linux() {
        same! {
            open::O_RDONLY => libc::O_RDONLY, open::O_WRONLY => libc::O_WRONLY, open::O_RDWR => libc::O_RDWR,
            open::O_ACCMODE => libc::O_ACCMODE, open::O_CREAT => libc::O_CREAT, open::O_EXCL => libc::O_EXCL,
            open::O_NOCTTY => libc::O_NOCTTY, open::O_TRUNC => libc::O_TRUNC, open::O_APPEND => libc::O_APPEND,
            open::O_NONBLOCK => libc::O_NONBLOCK, open::O_DIRECTORY => libc::O_DIRECTORY,
            open::O_NOFOLLOW => libc::O_NOFOLLOW, open::O_CLOEXEC => libc::O_CLOEXEC,
            at::AT_FDCWD => libc::AT_FDCWD, at::AT_SYMLINK_NOFOLLOW => libc::AT_SYMLINK_NOFOLLOW,
            at::AT_REMOVEDIR => libc::AT_REMOVEDIR, at::AT_EMPTY_PATH => libc::AT_EMPTY_PATH,
            seek::SEEK_SET => libc::SEEK_SET, seek::SEEK_CUR => libc::SEEK_CUR, seek::SEEK_END => libc::SEEK_END,
            fcntl::F_DUPFD => libc::F_DUPFD, fcntl::F_GETFD => libc::F_GETFD, fcntl::F_SETFD => libc::F_SETFD,
            fcntl::F_GETFL => libc::F_GETFL, fcntl::F_SETFL => libc::F_SETFL,
            fcntl::F_DUPFD_CLOEXEC => libc::F_DUPFD_CLOEXEC, fcntl::FD_CLOEXEC => libc::FD_CLOEXEC,
            mman::PROT_READ => libc::PROT_READ, mman::PROT_WRITE => libc::PROT_WRITE,
            mman::PROT_EXEC => libc::PROT_EXEC, mman::MAP_SHARED => libc::MAP_SHARED,
            mman::MAP_PRIVATE => libc::MAP_PRIVATE, mman::MAP_FIXED => libc::MAP_FIXED,
            mman::MAP_ANONYMOUS => libc::MAP_ANONYMOUS,
            mode::S_IFMT => libc::S_IFMT, mode::S_IFDIR => libc::S_IFDIR, mode::S_IFCHR => libc::S_IFCHR,
            mode::S_IFREG => libc::S_IFREG, mode::S_IFIFO => libc::S_IFIFO, mode::S_IFLNK => libc::S_IFLNK,
            signal::SIGHUP => libc::SIGHUP, signal::SIGINT => libc::SIGINT, signal::SIGQUIT => libc::SIGQUIT,
            signal::SIGILL => libc::SIGILL, signal::SIGABRT => libc::SIGABRT, signal::SIGBUS => libc::SIGBUS,
            signal::SIGFPE => libc::SIGFPE, signal::SIGKILL => libc::SIGKILL, signal::SIGSEGV => libc::SIGSEGV,
            signal::SIGPIPE => libc::SIGPIPE, signal::SIGTERM => libc::SIGTERM, signal::SIGCHLD => libc::SIGCHLD,
            signal::SIGCONT => libc::SIGCONT, signal::SIGSTOP => libc::SIGSTOP, signal::SIGTSTP => libc::SIGTSTP,
            signal::SIGTTIN => libc::SIGTTIN, signal::SIGTTOU => libc::SIGTTOU,
            signal::SIGWINCH => libc::SIGWINCH, signal::SIG_BLOCK => libc::SIG_BLOCK,
            signal::SIG_UNBLOCK => libc::SIG_UNBLOCK, signal::SIG_SETMASK => libc::SIG_SETMASK,
            wait::WNOHANG => libc::WNOHANG, wait::WUNTRACED => libc::WUNTRACED,
            auxv::AT_NULL => libc::AT_NULL, auxv::AT_PHDR => libc::AT_PHDR, auxv::AT_PHENT => libc::AT_PHENT,
            auxv::AT_PHNUM => libc::AT_PHNUM, auxv::AT_PAGESZ => libc::AT_PAGESZ,
            auxv::AT_ENTRY => libc::AT_ENTRY, auxv::AT_UID => libc::AT_UID, auxv::AT_EUID => libc::AT_EUID,
            auxv::AT_GID => libc::AT_GID, auxv::AT_EGID => libc::AT_EGID, auxv::AT_CLKTCK => libc::AT_CLKTCK,
            auxv::AT_SECURE => libc::AT_SECURE, auxv::AT_RANDOM => libc::AT_RANDOM,
            auxv::AT_EXECFN => libc::AT_EXECFN,
            ioctl::TCGETS => libc::TCGETS, ioctl::TCSETS => libc::TCSETS, ioctl::TCSETSW => libc::TCSETSW,
            ioctl::TCSETSF => libc::TCSETSF, ioctl::TIOCGPGRP => libc::TIOCGPGRP,
            ioctl::TIOCSPGRP => libc::TIOCSPGRP, ioctl::TIOCGWINSZ => libc::TIOCGWINSZ,
            ioctl::TIOCSWINSZ => libc::TIOCSWINSZ,
            clock::CLOCK_REALTIME => libc::CLOCK_REALTIME, clock::CLOCK_MONOTONIC => libc::CLOCK_MONOTONIC,
        }
    }
}

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
    /// `faccessat2`: check with the effective ids, not the real ones.
    pub const AT_EACCESS: u32 = 0x200;
}

/// `utimensat`'s special `tv_nsec` values.
pub mod utime {
    /// Set the time to now.
    pub const UTIME_NOW: i64 = (1 << 30) - 1;
    /// Leave the time unchanged.
    pub const UTIME_OMIT: i64 = (1 << 30) - 2;
}

/// Credentials.
pub mod cred {
    /// Most supplementary groups a process may have (`setgroups`; Linux's
    /// `NGROUPS_MAX` in `linux/limits.h`, not in the `libc` crate).
    pub const NGROUPS_MAX: u32 = 65536;
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
    /// At exactly `addr`, failing if that overlaps a mapping.
    pub const MAP_FIXED_NOREPLACE: u32 = 0x10_0000;
    /// Hint: a stack that grows down (ignored by Linux for new mappings).
    pub const MAP_GROWSDOWN: u32 = 0x100;
    /// Obsolete, ignored.
    pub const MAP_DENYWRITE: u32 = 0x800;
    /// Obsolete, ignored.
    pub const MAP_EXECUTABLE: u32 = 0x1000;
    /// Hint: do not reserve swap.
    pub const MAP_NORESERVE: u32 = 0x4000;
    /// Hint: populate the pages now.
    pub const MAP_POPULATE: u32 = 0x8000;
    /// Hint: the mapping is a thread stack.
    pub const MAP_STACK: u32 = 0x2_0000;
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
    /// Set-user-id on execution.
    pub const S_ISUID: u32 = 0o4000;
    /// Set-group-id on execution (on a directory: new entries take its group).
    pub const S_ISGID: u32 = 0o2000;
    /// Sticky: in a directory, only an entry's owner, the directory's owner or root may remove or rename it.
    pub const S_ISVTX: u32 = 0o1000;
    /// Execute permission for the group.
    pub const S_IXGRP: u32 = 0o010;
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
    /// Breakpoint or single step.
    pub const SIGTRAP: u32 = 5;
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
    /// Urgent data on a socket.
    pub const SIGURG: u32 = 23;
    /// CPU time limit exceeded.
    pub const SIGXCPU: u32 = 24;
    /// File size limit exceeded.
    pub const SIGXFSZ: u32 = 25;
    /// Window size change.
    pub const SIGWINCH: u32 = 28;
    /// Bad system call.
    pub const SIGSYS: u32 = 31;
    /// Highest signal number (the kernel's `_NSIG`; `SIGRTMAX`).
    pub const NSIG: u32 = 64;
    /// `rt_sigprocmask` how: add to the mask.
    pub const SIG_BLOCK: u32 = 0;
    /// `rt_sigprocmask` how: remove from the mask.
    pub const SIG_UNBLOCK: u32 = 1;
    /// `rt_sigprocmask` how: replace the mask.
    pub const SIG_SETMASK: u32 = 2;
    /// `sa_handler`: the default action.
    pub const SIG_DFL: u64 = 0;
    /// `sa_handler`: ignore the signal.
    pub const SIG_IGN: u64 = 1;
    /// `sa_flags`: interrupted system calls restart.
    pub const SA_RESTART: u64 = 0x1000_0000;
    /// `sa_flags`: the signal is not blocked in its own handler.
    pub const SA_NODEFER: u64 = 0x4000_0000;
    /// `sa_flags`: the action resets to default on delivery.
    pub const SA_RESETHAND: u64 = 0x8000_0000;
}

/// `clone` flags (the 64-bit first argument).
pub mod clone {
    /// Mask of the low byte: the signal sent to the parent at exit.
    pub const CSIGNAL: u64 = 0xff;
    /// Share the address space.
    pub const CLONE_VM: u64 = 0x100;
    /// Share the working directory, root and umask.
    pub const CLONE_FS: u64 = 0x200;
    /// Share the descriptor table.
    pub const CLONE_FILES: u64 = 0x400;
    /// Share the signal actions.
    pub const CLONE_SIGHAND: u64 = 0x800;
    /// The parent sleeps until the child execs or exits.
    pub const CLONE_VFORK: u64 = 0x4000;
    /// A thread of the caller's process.
    pub const CLONE_THREAD: u64 = 0x1_0000;
    /// Share System V semaphore undo lists.
    pub const CLONE_SYSVSEM: u64 = 0x4_0000;
    /// Set the child's thread pointer (`tls` argument).
    pub const CLONE_SETTLS: u64 = 0x8_0000;
    /// Store the child's tid at `parent_tid` in the parent.
    pub const CLONE_PARENT_SETTID: u64 = 0x10_0000;
    /// Clear the child's tid at `child_tid` (and futex-wake) at its exit.
    pub const CLONE_CHILD_CLEARTID: u64 = 0x20_0000;
    /// Obsolete, ignored by Linux (musl still passes it).
    pub const CLONE_DETACHED: u64 = 0x40_0000;
    /// Store the child's tid at `child_tid` in the child.
    pub const CLONE_CHILD_SETTID: u64 = 0x100_0000;
}

/// `futex` operations and flags.
pub mod futex {
    /// Sleep while the word holds the expected value.
    pub const FUTEX_WAIT: u32 = 0;
    /// Wake waiters.
    pub const FUTEX_WAKE: u32 = 1;
    /// Wake some waiters, move the others to a second word.
    pub const FUTEX_REQUEUE: u32 = 3;
    /// `FUTEX_REQUEUE` if the word still holds the expected value.
    pub const FUTEX_CMP_REQUEUE: u32 = 4;
    /// Change a second word atomically and wake on both by a comparison.
    pub const FUTEX_WAKE_OP: u32 = 5;
    /// `FUTEX_WAIT` with an absolute timeout and a wake bitset.
    pub const FUTEX_WAIT_BITSET: u32 = 9;
    /// `FUTEX_WAKE` of waiters whose bitset meets this one.
    pub const FUTEX_WAKE_BITSET: u32 = 10;
    /// `FUTEX_WAKE_OP`'s flag: the operand is a shift count (`1 << oparg`).
    pub const FUTEX_OP_OPARG_SHIFT: u32 = 8;
    /// Flag: the futex is private to the process.
    pub const FUTEX_PRIVATE_FLAG: u32 = 128;
    /// Flag: the timeout is on `CLOCK_REALTIME`.
    pub const FUTEX_CLOCK_REALTIME: u32 = 256;
}

/// `poll` events (`struct pollfd`'s `events`/`revents`).
pub mod poll {
    /// Data to read.
    pub const POLLIN: u16 = 0x1;
    /// Writing will not block.
    pub const POLLOUT: u16 = 0x4;
    /// Error (a write end whose readers are gone).
    pub const POLLERR: u16 = 0x8;
    /// Hung up (a read end whose writers are gone).
    pub const POLLHUP: u16 = 0x10;
    /// The descriptor is not open.
    pub const POLLNVAL: u16 = 0x20;
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
    /// `tcsendbreak`/`tcdrain`.
    pub const TCSBRK: u64 = 0x5409;
    /// `tcflush`.
    pub const TCFLSH: u64 = 0x540b;
    /// Make this the controlling terminal.
    pub const TIOCSCTTY: u64 = 0x540e;
    /// Bytes waiting to be read (`TIOCINQ`).
    pub const FIONREAD: u64 = 0x541b;
    /// Give up the controlling terminal.
    pub const TIOCNOTTY: u64 = 0x5422;
    /// `TCFLSH` argument: discard input.
    pub const TCIFLUSH: u64 = 0;
    /// `TCFLSH` argument: discard output.
    pub const TCOFLUSH: u64 = 1;
    /// `TCFLSH` argument: discard both.
    pub const TCIOFLUSH: u64 = 2;
}

/// `struct termios` flag bits and `c_cc` slots.
pub mod termios {
    /// `c_iflag`: strip input to 7 bits.
    pub const ISTRIP: u32 = 0o40;
    /// `c_iflag`: translate NL to CR on input.
    pub const INLCR: u32 = 0o100;
    /// `c_iflag`: ignore CR on input.
    pub const IGNCR: u32 = 0o200;
    /// `c_iflag`: translate CR to NL on input.
    pub const ICRNL: u32 = 0o400;
    /// `c_iflag`: input is UTF-8 (erase removes a whole character).
    pub const IUTF8: u32 = 0o40000;

    /// `c_oflag`: post-process output.
    pub const OPOST: u32 = 0o1;
    /// `c_oflag`: translate NL to CR NL on output.
    pub const ONLCR: u32 = 0o4;
    /// `c_oflag`: translate CR to NL on output.
    pub const OCRNL: u32 = 0o10;

    /// `c_cflag`: 115200 baud.
    pub const B115200: u32 = 0o10002;
    /// `c_cflag`: 8 data bits.
    pub const CS8: u32 = 0o60;
    /// `c_cflag`: receiver on.
    pub const CREAD: u32 = 0o200;
    /// `c_cflag`: hang up on last close.
    pub const HUPCL: u32 = 0o2000;

    /// `c_lflag`: generate signals for INTR, QUIT and SUSP.
    pub const ISIG: u32 = 0o1;
    /// `c_lflag`: canonical (line-at-a-time) input.
    pub const ICANON: u32 = 0o2;
    /// `c_lflag`: echo input.
    pub const ECHO: u32 = 0o10;
    /// `c_lflag`: erase echoes as backspace-space-backspace.
    pub const ECHOE: u32 = 0o20;
    /// `c_lflag`: echo NL after KILL.
    pub const ECHOK: u32 = 0o40;
    /// `c_lflag`: echo NL even without ECHO.
    pub const ECHONL: u32 = 0o100;
    /// `c_lflag`: do not flush input on a signal character.
    pub const NOFLSH: u32 = 0o200;
    /// `c_lflag`: echo control characters as `^X`.
    pub const ECHOCTL: u32 = 0o1000;
    /// `c_lflag`: KILL erases the line character by character.
    pub const ECHOKE: u32 = 0o4000;
    /// `c_lflag`: extensions (WERASE, EOL2).
    pub const IEXTEN: u32 = 0o100000;

    /// `c_cc` slot: interrupt (SIGINT).
    pub const VINTR: usize = 0;
    /// `c_cc` slot: quit (SIGQUIT).
    pub const VQUIT: usize = 1;
    /// `c_cc` slot: erase a character.
    pub const VERASE: usize = 2;
    /// `c_cc` slot: erase the line.
    pub const VKILL: usize = 3;
    /// `c_cc` slot: end of file.
    pub const VEOF: usize = 4;
    /// `c_cc` slot: non-canonical read timeout (deciseconds).
    pub const VTIME: usize = 5;
    /// `c_cc` slot: non-canonical read minimum.
    pub const VMIN: usize = 6;
    /// `c_cc` slot: resume output.
    pub const VSTART: usize = 8;
    /// `c_cc` slot: stop output.
    pub const VSTOP: usize = 9;
    /// `c_cc` slot: suspend (SIGTSTP).
    pub const VSUSP: usize = 10;
    /// `c_cc` slot: extra end of line.
    pub const VEOL: usize = 11;
    /// `c_cc` slot: reprint the line.
    pub const VREPRINT: usize = 12;
    /// `c_cc` slot: discard output.
    pub const VDISCARD: usize = 13;
    /// `c_cc` slot: erase a word.
    pub const VWERASE: usize = 14;
    /// `c_cc` slot: take the next character literally.
    pub const VLNEXT: usize = 15;
    /// `c_cc` slot: second extra end of line.
    pub const VEOL2: usize = 16;
    /// A `c_cc` value that disables its slot.
    pub const _POSIX_VDISABLE: u8 = 0;
}

/// `d_type` values of `getdents64` records.
pub mod dirent {
    /// Character device.
    pub const DT_CHR: u8 = 2;
    /// Directory.
    pub const DT_DIR: u8 = 4;
    /// Regular file.
    pub const DT_REG: u8 = 8;
    /// Symbolic link.
    pub const DT_LNK: u8 = 10;
}

/// `prlimit64`/`getrlimit` resources and values.
pub mod rlimit {
    /// Largest file a process may write.
    pub const RLIMIT_FSIZE: u32 = 1;
    /// Stack size.
    pub const RLIMIT_STACK: u32 = 3;
    /// Core file size.
    pub const RLIMIT_CORE: u32 = 4;
    /// Processes (threads included) of the real user.
    pub const RLIMIT_NPROC: u32 = 6;
    /// Number of open descriptors.
    pub const RLIMIT_NOFILE: u32 = 7;
    /// Locked memory.
    pub const RLIMIT_MEMLOCK: u32 = 8;
    /// Address-space size.
    pub const RLIMIT_AS: u32 = 9;
    /// Pending signals.
    pub const RLIMIT_SIGPENDING: u32 = 11;
    /// Bytes in POSIX message queues.
    pub const RLIMIT_MSGQUEUE: u32 = 12;
    /// Number of resources (valid ones are below it).
    pub const RLIM_NLIMITS: u32 = 16;
    /// No limit.
    pub const RLIM_INFINITY: u64 = u64::MAX;
}

/// `reboot` magic numbers and commands.
pub mod reboot {
    /// The first magic argument.
    pub const LINUX_REBOOT_MAGIC1: u32 = 0xfee1_dead;
    /// Power the machine off.
    pub const LINUX_REBOOT_CMD_POWER_OFF: u32 = 0x4321_fedc;
    /// Halt the machine.
    pub const LINUX_REBOOT_CMD_HALT: u32 = 0xcdef_0123;
    /// Restart the machine.
    pub const LINUX_REBOOT_CMD_RESTART: u32 = 0x0123_4567;
    /// Ctrl-Alt-Del reboots at once.
    pub const LINUX_REBOOT_CMD_CAD_ON: u32 = 0x89ab_cdef;
    /// Ctrl-Alt-Del sends `SIGINT` to init.
    pub const LINUX_REBOOT_CMD_CAD_OFF: u32 = 0;
}

/// Limits fixed by the Linux ABI.
pub mod limits {
    /// Longest path, including its NUL.
    pub const PATH_MAX: usize = 4096;
    /// Most `iovec` entries in one call (`UIO_MAXIOV`).
    pub const IOV_MAX: usize = 1024;
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
            at::AT_EACCESS => libc::AT_EACCESS,
            utime::UTIME_NOW => libc::UTIME_NOW, utime::UTIME_OMIT => libc::UTIME_OMIT,
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
            mode::S_ISUID => libc::S_ISUID, mode::S_ISGID => libc::S_ISGID, mode::S_ISVTX => libc::S_ISVTX,
            mode::S_IXGRP => libc::S_IXGRP,
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

    #[test]
    fn more_values_match_linux() {
        same! {
            mman::MAP_FIXED_NOREPLACE => libc::MAP_FIXED_NOREPLACE, mman::MAP_GROWSDOWN => libc::MAP_GROWSDOWN,
            mman::MAP_DENYWRITE => libc::MAP_DENYWRITE, mman::MAP_EXECUTABLE => libc::MAP_EXECUTABLE,
            mman::MAP_NORESERVE => libc::MAP_NORESERVE, mman::MAP_POPULATE => libc::MAP_POPULATE,
            mman::MAP_STACK => libc::MAP_STACK,
            signal::SIGTRAP => libc::SIGTRAP, signal::SIGURG => libc::SIGURG, signal::SIGXCPU => libc::SIGXCPU,
            signal::SIGXFSZ => libc::SIGXFSZ, signal::SIGSYS => libc::SIGSYS, signal::NSIG => libc::SIGRTMAX(),
            signal::SIG_DFL => libc::SIG_DFL, signal::SIG_IGN => libc::SIG_IGN,
            signal::SA_RESTART => libc::SA_RESTART, signal::SA_NODEFER => libc::SA_NODEFER,
            // libc's `c_int` is negative here; compare the bits.
            signal::SA_RESETHAND => libc::SA_RESETHAND as u32,
            clone::CSIGNAL => libc::CSIGNAL, clone::CLONE_VM => libc::CLONE_VM, clone::CLONE_FS => libc::CLONE_FS,
            clone::CLONE_FILES => libc::CLONE_FILES, clone::CLONE_SIGHAND => libc::CLONE_SIGHAND,
            clone::CLONE_VFORK => libc::CLONE_VFORK, clone::CLONE_THREAD => libc::CLONE_THREAD,
            clone::CLONE_SYSVSEM => libc::CLONE_SYSVSEM, clone::CLONE_SETTLS => libc::CLONE_SETTLS,
            clone::CLONE_PARENT_SETTID => libc::CLONE_PARENT_SETTID,
            clone::CLONE_CHILD_CLEARTID => libc::CLONE_CHILD_CLEARTID,
            clone::CLONE_DETACHED => libc::CLONE_DETACHED, clone::CLONE_CHILD_SETTID => libc::CLONE_CHILD_SETTID,
            futex::FUTEX_WAIT => libc::FUTEX_WAIT, futex::FUTEX_WAKE => libc::FUTEX_WAKE,
            futex::FUTEX_REQUEUE => libc::FUTEX_REQUEUE, futex::FUTEX_CMP_REQUEUE => libc::FUTEX_CMP_REQUEUE,
            futex::FUTEX_PRIVATE_FLAG => libc::FUTEX_PRIVATE_FLAG,
            futex::FUTEX_WAKE_OP => libc::FUTEX_WAKE_OP, futex::FUTEX_WAIT_BITSET => libc::FUTEX_WAIT_BITSET,
            futex::FUTEX_WAKE_BITSET => libc::FUTEX_WAKE_BITSET,
            futex::FUTEX_OP_OPARG_SHIFT => libc::FUTEX_OP_OPARG_SHIFT,
            futex::FUTEX_CLOCK_REALTIME => libc::FUTEX_CLOCK_REALTIME,
            poll::POLLIN => libc::POLLIN, poll::POLLOUT => libc::POLLOUT, poll::POLLERR => libc::POLLERR,
            poll::POLLHUP => libc::POLLHUP, poll::POLLNVAL => libc::POLLNVAL,
            ioctl::TCSBRK => libc::TCSBRK, ioctl::TCFLSH => libc::TCFLSH, ioctl::TIOCSCTTY => libc::TIOCSCTTY,
            ioctl::FIONREAD => libc::FIONREAD, ioctl::TIOCNOTTY => libc::TIOCNOTTY,
            ioctl::TCIFLUSH => libc::TCIFLUSH, ioctl::TCOFLUSH => libc::TCOFLUSH, ioctl::TCIOFLUSH => libc::TCIOFLUSH,
            termios::ISTRIP => libc::ISTRIP, termios::INLCR => libc::INLCR, termios::IGNCR => libc::IGNCR,
            termios::ICRNL => libc::ICRNL, termios::IUTF8 => libc::IUTF8, termios::OPOST => libc::OPOST,
            termios::ONLCR => libc::ONLCR, termios::OCRNL => libc::OCRNL, termios::B115200 => libc::B115200,
            termios::CS8 => libc::CS8, termios::CREAD => libc::CREAD, termios::HUPCL => libc::HUPCL,
            termios::ISIG => libc::ISIG, termios::ICANON => libc::ICANON, termios::ECHO => libc::ECHO,
            termios::ECHOE => libc::ECHOE, termios::ECHOK => libc::ECHOK, termios::ECHONL => libc::ECHONL,
            termios::NOFLSH => libc::NOFLSH, termios::ECHOCTL => libc::ECHOCTL, termios::ECHOKE => libc::ECHOKE,
            termios::IEXTEN => libc::IEXTEN, termios::VINTR => libc::VINTR, termios::VQUIT => libc::VQUIT,
            termios::VERASE => libc::VERASE, termios::VKILL => libc::VKILL, termios::VEOF => libc::VEOF,
            termios::VTIME => libc::VTIME, termios::VMIN => libc::VMIN, termios::VSTART => libc::VSTART,
            termios::VSTOP => libc::VSTOP, termios::VSUSP => libc::VSUSP, termios::VEOL => libc::VEOL,
            termios::VREPRINT => libc::VREPRINT, termios::VDISCARD => libc::VDISCARD,
            termios::VWERASE => libc::VWERASE, termios::VLNEXT => libc::VLNEXT, termios::VEOL2 => libc::VEOL2,
            termios::_POSIX_VDISABLE => libc::_POSIX_VDISABLE,
            dirent::DT_CHR => libc::DT_CHR, dirent::DT_DIR => libc::DT_DIR, dirent::DT_REG => libc::DT_REG,
            dirent::DT_LNK => libc::DT_LNK,
            rlimit::RLIMIT_STACK => libc::RLIMIT_STACK, rlimit::RLIMIT_NOFILE => libc::RLIMIT_NOFILE,
            rlimit::RLIMIT_FSIZE => libc::RLIMIT_FSIZE, rlimit::RLIMIT_CORE => libc::RLIMIT_CORE,
            rlimit::RLIMIT_NPROC => libc::RLIMIT_NPROC, rlimit::RLIMIT_MEMLOCK => libc::RLIMIT_MEMLOCK,
            rlimit::RLIMIT_AS => libc::RLIMIT_AS, rlimit::RLIMIT_SIGPENDING => libc::RLIMIT_SIGPENDING,
            rlimit::RLIMIT_MSGQUEUE => libc::RLIMIT_MSGQUEUE,
            // libc's RLIM_NLIMITS is deprecated; the last resource is RLIMIT_RTTIME.
            rlimit::RLIM_NLIMITS => libc::RLIMIT_RTTIME + 1,
            rlimit::RLIM_INFINITY => libc::RLIM_INFINITY,
            // libc's values that do not fit a `c_int` are negative there; compare the bits.
            reboot::LINUX_REBOOT_MAGIC1 => libc::LINUX_REBOOT_MAGIC1 as u32,
            reboot::LINUX_REBOOT_CMD_POWER_OFF => libc::LINUX_REBOOT_CMD_POWER_OFF as u32,
            reboot::LINUX_REBOOT_CMD_HALT => libc::LINUX_REBOOT_CMD_HALT as u32,
            reboot::LINUX_REBOOT_CMD_RESTART => libc::LINUX_REBOOT_CMD_RESTART as u32,
            reboot::LINUX_REBOOT_CMD_CAD_ON => libc::LINUX_REBOOT_CMD_CAD_ON as u32,
            reboot::LINUX_REBOOT_CMD_CAD_OFF => libc::LINUX_REBOOT_CMD_CAD_OFF as u32,
            limits::PATH_MAX => libc::PATH_MAX, limits::IOV_MAX => libc::UIO_MAXIOV,
        }
    }
}

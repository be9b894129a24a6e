//! System call numbers (`rax` at `syscall`), x86_64.

macro_rules! numbers {
    ($($(#[$doc:meta])* $name:ident = $value:literal,)*) => {
        $($(#[$doc])* pub const $name: u64 = $value;)*

        /// The name of system call `nr`, if this crate knows it (for logs).
        pub fn name(nr: u64) -> Option<&'static str> {
            match nr {
                $($value => Some(stringify!($name)),)*
                _ => None,
            }
        }

        #[cfg(test)]
        pub(crate) const ALL: &[(&str, u64)] = &[$((stringify!($name), $value),)*];
    };
}

numbers! {
    /// `read(fd, buf, count)`.
    READ = 0,
    /// `write(fd, buf, count)`.
    WRITE = 1,
    /// `open(path, flags, mode)`.
    OPEN = 2,
    /// `close(fd)`.
    CLOSE = 3,
    /// `stat(path, statbuf)`.
    STAT = 4,
    /// `fstat(fd, statbuf)`.
    FSTAT = 5,
    /// `lstat(path, statbuf)`.
    LSTAT = 6,
    /// `poll(fds, nfds, timeout)`.
    POLL = 7,
    /// `lseek(fd, offset, whence)`.
    LSEEK = 8,
    /// `mmap(addr, len, prot, flags, fd, off)`.
    MMAP = 9,
    /// `mprotect(addr, len, prot)`.
    MPROTECT = 10,
    /// `munmap(addr, len)`.
    MUNMAP = 11,
    /// `brk(addr)`.
    BRK = 12,
    /// `rt_sigaction(sig, act, oact, sigsetsize)`.
    RT_SIGACTION = 13,
    /// `rt_sigprocmask(how, set, oset, sigsetsize)`.
    RT_SIGPROCMASK = 14,
    /// `rt_sigreturn()`.
    RT_SIGRETURN = 15,
    /// `ioctl(fd, request, arg)`.
    IOCTL = 16,
    /// `pread64(fd, buf, count, offset)`.
    PREAD64 = 17,
    /// `pwrite64(fd, buf, count, offset)`.
    PWRITE64 = 18,
    /// `readv(fd, iov, iovcnt)`.
    READV = 19,
    /// `writev(fd, iov, iovcnt)`.
    WRITEV = 20,
    /// `access(path, mode)`.
    ACCESS = 21,
    /// `pipe(fds)`.
    PIPE = 22,
    /// `sched_yield()`.
    SCHED_YIELD = 24,
    /// `madvise(addr, len, advice)`.
    MADVISE = 28,
    /// `dup(fd)`.
    DUP = 32,
    /// `dup2(old, new)`.
    DUP2 = 33,
    /// `nanosleep(req, rem)`.
    NANOSLEEP = 35,
    /// `getpid()`.
    GETPID = 39,
    /// `clone(flags, stack, ptid, ctid, tls)`.
    CLONE = 56,
    /// `fork()`.
    FORK = 57,
    /// `vfork()`.
    VFORK = 58,
    /// `execve(path, argv, envp)`.
    EXECVE = 59,
    /// `exit(status)`.
    EXIT = 60,
    /// `wait4(pid, status, options, rusage)`.
    WAIT4 = 61,
    /// `kill(pid, sig)`.
    KILL = 62,
    /// `uname(buf)`.
    UNAME = 63,
    /// `fcntl(fd, cmd, arg)`.
    FCNTL = 72,
    /// `getdents(fd, dirp, count)` (the old record format).
    GETDENTS = 78,
    /// `getcwd(buf, size)`.
    GETCWD = 79,
    /// `chdir(path)`.
    CHDIR = 80,
    /// `fchdir(fd)`.
    FCHDIR = 81,
    /// `rename(old, new)`.
    RENAME = 82,
    /// `mkdir(path, mode)`.
    MKDIR = 83,
    /// `rmdir(path)`.
    RMDIR = 84,
    /// `unlink(path)`.
    UNLINK = 87,
    /// `readlink(path, buf, size)`.
    READLINK = 89,
    /// `umask(mask)`.
    UMASK = 95,
    /// `gettimeofday(tv, tz)`.
    GETTIMEOFDAY = 96,
    /// `getuid()`.
    GETUID = 102,
    /// `getgid()`.
    GETGID = 104,
    /// `geteuid()`.
    GETEUID = 107,
    /// `getegid()`.
    GETEGID = 108,
    /// `setpgid(pid, pgid)`.
    SETPGID = 109,
    /// `getppid()`.
    GETPPID = 110,
    /// `getpgrp()`.
    GETPGRP = 111,
    /// `setsid()`.
    SETSID = 112,
    /// `getpgid(pid)`.
    GETPGID = 121,
    /// `getsid(pid)`.
    GETSID = 124,
    /// `sigaltstack(ss, oss)`.
    SIGALTSTACK = 131,
    /// `arch_prctl(code, addr)`.
    ARCH_PRCTL = 158,
    /// `reboot(magic, magic2, cmd, arg)`.
    REBOOT = 169,
    /// `gettid()`.
    GETTID = 186,
    /// `futex(uaddr, op, val, ...)`.
    FUTEX = 202,
    /// `getdents64(fd, dirp, count)`.
    GETDENTS64 = 217,
    /// `set_tid_address(tidptr)`.
    SET_TID_ADDRESS = 218,
    /// `clock_gettime(clock, tp)`.
    CLOCK_GETTIME = 228,
    /// `clock_nanosleep(clock, flags, req, rem)`.
    CLOCK_NANOSLEEP = 230,
    /// `exit_group(status)`.
    EXIT_GROUP = 231,
    /// `tgkill(tgid, tid, sig)`.
    TGKILL = 234,
    /// `openat(dirfd, path, flags, mode)`.
    OPENAT = 257,
    /// `mkdirat(dirfd, path, mode)`.
    MKDIRAT = 258,
    /// `newfstatat(dirfd, path, statbuf, flags)`.
    NEWFSTATAT = 262,
    /// `unlinkat(dirfd, path, flags)`.
    UNLINKAT = 263,
    /// `renameat(olddirfd, old, newdirfd, new)`.
    RENAMEAT = 264,
    /// `readlinkat(dirfd, path, buf, size)`.
    READLINKAT = 267,
    /// `faccessat(dirfd, path, mode)`.
    FACCESSAT = 269,
    /// `pselect6(...)`.
    PSELECT6 = 270,
    /// `ppoll(fds, nfds, timeout, sigmask, sigsetsize)`.
    PPOLL = 271,
    /// `set_robust_list(head, len)`.
    SET_ROBUST_LIST = 273,
    /// `dup3(old, new, flags)`.
    DUP3 = 292,
    /// `pipe2(fds, flags)`.
    PIPE2 = 293,
    /// `prlimit64(pid, resource, new, old)`.
    PRLIMIT64 = 302,
    /// `getrandom(buf, len, flags)`.
    GETRANDOM = 318,
    /// `statx(dirfd, path, flags, mask, buf)`.
    STATX = 332,
    /// `rseq(...)`.
    RSEQ = 334,
}

#[cfg(test)]
mod tests {
    /// Every number equals the host libc's `SYS_<name>`.
    #[test]
    fn numbers_match_linux() {
        let reference: &[(&str, i64)] = &[
            ("READ", libc::SYS_read),
            ("WRITE", libc::SYS_write),
            ("OPEN", libc::SYS_open),
            ("CLOSE", libc::SYS_close),
            ("STAT", libc::SYS_stat),
            ("FSTAT", libc::SYS_fstat),
            ("LSTAT", libc::SYS_lstat),
            ("POLL", libc::SYS_poll),
            ("LSEEK", libc::SYS_lseek),
            ("MMAP", libc::SYS_mmap),
            ("MPROTECT", libc::SYS_mprotect),
            ("MUNMAP", libc::SYS_munmap),
            ("BRK", libc::SYS_brk),
            ("RT_SIGACTION", libc::SYS_rt_sigaction),
            ("RT_SIGPROCMASK", libc::SYS_rt_sigprocmask),
            ("RT_SIGRETURN", libc::SYS_rt_sigreturn),
            ("IOCTL", libc::SYS_ioctl),
            ("PREAD64", libc::SYS_pread64),
            ("PWRITE64", libc::SYS_pwrite64),
            ("READV", libc::SYS_readv),
            ("WRITEV", libc::SYS_writev),
            ("ACCESS", libc::SYS_access),
            ("PIPE", libc::SYS_pipe),
            ("SCHED_YIELD", libc::SYS_sched_yield),
            ("MADVISE", libc::SYS_madvise),
            ("DUP", libc::SYS_dup),
            ("DUP2", libc::SYS_dup2),
            ("NANOSLEEP", libc::SYS_nanosleep),
            ("GETPID", libc::SYS_getpid),
            ("CLONE", libc::SYS_clone),
            ("FORK", libc::SYS_fork),
            ("VFORK", libc::SYS_vfork),
            ("EXECVE", libc::SYS_execve),
            ("EXIT", libc::SYS_exit),
            ("WAIT4", libc::SYS_wait4),
            ("KILL", libc::SYS_kill),
            ("UNAME", libc::SYS_uname),
            ("FCNTL", libc::SYS_fcntl),
            ("GETDENTS", libc::SYS_getdents),
            ("GETCWD", libc::SYS_getcwd),
            ("CHDIR", libc::SYS_chdir),
            ("FCHDIR", libc::SYS_fchdir),
            ("RENAME", libc::SYS_rename),
            ("MKDIR", libc::SYS_mkdir),
            ("RMDIR", libc::SYS_rmdir),
            ("UNLINK", libc::SYS_unlink),
            ("READLINK", libc::SYS_readlink),
            ("UMASK", libc::SYS_umask),
            ("GETTIMEOFDAY", libc::SYS_gettimeofday),
            ("GETUID", libc::SYS_getuid),
            ("GETGID", libc::SYS_getgid),
            ("GETEUID", libc::SYS_geteuid),
            ("GETEGID", libc::SYS_getegid),
            ("SETPGID", libc::SYS_setpgid),
            ("GETPPID", libc::SYS_getppid),
            ("GETPGRP", libc::SYS_getpgrp),
            ("SETSID", libc::SYS_setsid),
            ("GETPGID", libc::SYS_getpgid),
            ("GETSID", libc::SYS_getsid),
            ("SIGALTSTACK", libc::SYS_sigaltstack),
            ("ARCH_PRCTL", libc::SYS_arch_prctl),
            ("REBOOT", libc::SYS_reboot),
            ("GETTID", libc::SYS_gettid),
            ("FUTEX", libc::SYS_futex),
            ("GETDENTS64", libc::SYS_getdents64),
            ("SET_TID_ADDRESS", libc::SYS_set_tid_address),
            ("CLOCK_GETTIME", libc::SYS_clock_gettime),
            ("CLOCK_NANOSLEEP", libc::SYS_clock_nanosleep),
            ("EXIT_GROUP", libc::SYS_exit_group),
            ("TGKILL", libc::SYS_tgkill),
            ("OPENAT", libc::SYS_openat),
            ("MKDIRAT", libc::SYS_mkdirat),
            ("NEWFSTATAT", libc::SYS_newfstatat),
            ("UNLINKAT", libc::SYS_unlinkat),
            ("RENAMEAT", libc::SYS_renameat),
            ("READLINKAT", libc::SYS_readlinkat),
            ("FACCESSAT", libc::SYS_faccessat),
            ("PSELECT6", libc::SYS_pselect6),
            ("PPOLL", libc::SYS_ppoll),
            ("SET_ROBUST_LIST", libc::SYS_set_robust_list),
            ("DUP3", libc::SYS_dup3),
            ("PIPE2", libc::SYS_pipe2),
            ("PRLIMIT64", libc::SYS_prlimit64),
            ("GETRANDOM", libc::SYS_getrandom),
            ("STATX", libc::SYS_statx),
            ("RSEQ", libc::SYS_rseq),
        ];
        assert_eq!(super::ALL.len(), reference.len(), "every number is checked");
        for (&(name, ours), &(ref_name, linux)) in super::ALL.iter().zip(reference) {
            assert_eq!(name, ref_name);
            assert_eq!(ours, linux as u64, "SYS_{name}");
            assert_eq!(super::name(ours), Some(name));
        }
        assert_eq!(super::name(9999), None);
    }
}

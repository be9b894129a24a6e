//! System call numbers (`rax` at `syscall`), x86_64.

macro_rules! numbers {
    ($($(#[$doc:meta])* $name:ident = $value:literal,)*) => {
        $($(#[$doc])* pub const $name: u64 = $value;)*


        #[cfg(test)]
        pub(crate) const ALL: &[(&str, u64)] = &[$((stringify!($name), $value),)*];
    };
}

/// The name of system call `nr` as Linux spells it (`"socket"`), for
/// logs; `None` for a number Linux does not use.
pub fn name(nr: u64) -> Option<&'static str> {
    crate::names::NAMES.get(usize::try_from(nr).ok()?).copied().filter(|name| !name.is_empty())
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
    /// `select(nfds, r, w, e, timeout)`.
    SELECT = 23,
    /// `sched_yield()`.
    SCHED_YIELD = 24,
    /// `madvise(addr, len, advice)`.
    MADVISE = 28,
    /// `dup(fd)`.
    DUP = 32,
    /// `dup2(old, new)`.
    DUP2 = 33,
    /// `pause()`.
    PAUSE = 34,
    /// `nanosleep(req, rem)`.
    NANOSLEEP = 35,
    /// `alarm(seconds)`.
    ALARM = 37,
    /// `getpid()`.
    GETPID = 39,
    /// `sendfile(out_fd, in_fd, offset, count)`.
    SENDFILE = 40,
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
    /// `fsync(fd)`.
    FSYNC = 74,
    /// `fdatasync(fd)`.
    FDATASYNC = 75,
    /// `truncate(path, len)`.
    TRUNCATE = 76,
    /// `ftruncate(fd, len)`.
    FTRUNCATE = 77,
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
    /// `link(old, new)`.
    LINK = 86,
    /// `unlink(path)`.
    UNLINK = 87,
    /// `symlink(target, linkpath)`.
    SYMLINK = 88,
    /// `readlink(path, buf, size)`.
    READLINK = 89,
    /// `chmod(path, mode)`.
    CHMOD = 90,
    /// `fchmod(fd, mode)`.
    FCHMOD = 91,
    /// `chown(path, uid, gid)`.
    CHOWN = 92,
    /// `fchown(fd, uid, gid)`.
    FCHOWN = 93,
    /// `lchown(path, uid, gid)`.
    LCHOWN = 94,
    /// `umask(mask)`.
    UMASK = 95,
    /// `gettimeofday(tv, tz)`.
    GETTIMEOFDAY = 96,
    /// `getrlimit(resource, rlim)`.
    GETRLIMIT = 97,
    /// `getrusage(who, usage)`.
    GETRUSAGE = 98,
    /// `sysinfo(info)`.
    SYSINFO = 99,
    /// `times(buf)`.
    TIMES = 100,
    /// `getuid()`.
    GETUID = 102,
    /// `getgid()`.
    GETGID = 104,
    /// `setuid(uid)`.
    SETUID = 105,
    /// `setgid(gid)`.
    SETGID = 106,
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
    /// `setreuid(ruid, euid)`.
    SETREUID = 113,
    /// `setregid(rgid, egid)`.
    SETREGID = 114,
    /// `getgroups(size, list)`.
    GETGROUPS = 115,
    /// `setgroups(size, list)`.
    SETGROUPS = 116,
    /// `setresuid(ruid, euid, suid)`.
    SETRESUID = 117,
    /// `getresuid(r, e, s)`.
    GETRESUID = 118,
    /// `setresgid(rgid, egid, sgid)`.
    SETRESGID = 119,
    /// `getresgid(r, e, s)`.
    GETRESGID = 120,
    /// `getpgid(pid)`.
    GETPGID = 121,
    /// `setfsuid(fsuid)`.
    SETFSUID = 122,
    /// `setfsgid(fsgid)`.
    SETFSGID = 123,
    /// `getsid(pid)`.
    GETSID = 124,
    /// `rt_sigpending(set, size)`.
    RT_SIGPENDING = 127,
    /// `rt_sigtimedwait(set, info, timeout, size)`.
    RT_SIGTIMEDWAIT = 128,
    /// `rt_sigsuspend(mask, size)`.
    RT_SIGSUSPEND = 130,
    /// `sigaltstack(ss, oss)`.
    SIGALTSTACK = 131,
    /// `statfs(path, buf)`.
    STATFS = 137,
    /// `fstatfs(fd, buf)`.
    FSTATFS = 138,
    /// `getpriority(which, who)`.
    GETPRIORITY = 140,
    /// `setpriority(which, who, prio)`.
    SETPRIORITY = 141,
    /// `prctl(option, ...)`.
    PRCTL = 157,
    /// `arch_prctl(code, addr)`.
    ARCH_PRCTL = 158,
    /// `setrlimit(resource, rlim)`.
    SETRLIMIT = 160,
    /// `sync()`.
    SYNC = 162,
    /// `mount(source, target, type, flags, data)`.
    MOUNT = 165,
    /// `umount2(target, flags)`.
    UMOUNT2 = 166,
    /// `reboot(magic, magic2, cmd, arg)`.
    REBOOT = 169,
    /// `sethostname(name, len)`.
    SETHOSTNAME = 170,
    /// `gettid()`.
    GETTID = 186,
    /// `tkill(tid, sig)`.
    TKILL = 200,
    /// `time(t)`.
    TIME = 201,
    /// `futex(uaddr, op, val, ...)`.
    FUTEX = 202,
    /// `sched_getaffinity(pid, size, mask)`.
    SCHED_GETAFFINITY = 204,
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
    /// `waitid(which, id, info, options)`.
    WAITID = 247,
    /// `openat(dirfd, path, flags, mode)`.
    OPENAT = 257,
    /// `mkdirat(dirfd, path, mode)`.
    MKDIRAT = 258,
    /// `fchownat(dirfd, path, uid, gid, flags)`.
    FCHOWNAT = 260,
    /// `newfstatat(dirfd, path, statbuf, flags)`.
    NEWFSTATAT = 262,
    /// `unlinkat(dirfd, path, flags)`.
    UNLINKAT = 263,
    /// `renameat(olddirfd, old, newdirfd, new)`.
    RENAMEAT = 264,
    /// `linkat(olddirfd, old, newdirfd, new, flags)`.
    LINKAT = 265,
    /// `symlinkat(target, dirfd, linkpath)`.
    SYMLINKAT = 266,
    /// `readlinkat(dirfd, path, buf, size)`.
    READLINKAT = 267,
    /// `fchmodat(dirfd, path, mode)`.
    FCHMODAT = 268,
    /// `faccessat(dirfd, path, mode)`.
    FACCESSAT = 269,
    /// `pselect6(...)`.
    PSELECT6 = 270,
    /// `ppoll(fds, nfds, timeout, sigmask, sigsetsize)`.
    PPOLL = 271,
    /// `set_robust_list(head, len)`.
    SET_ROBUST_LIST = 273,
    /// `utimensat(dirfd, path, times, flags)`.
    UTIMENSAT = 280,
    /// `dup3(old, new, flags)`.
    DUP3 = 292,
    /// `pipe2(fds, flags)`.
    PIPE2 = 293,
    /// `prlimit64(pid, resource, new, old)`.
    PRLIMIT64 = 302,
    /// `renameat2(olddirfd, old, newdirfd, new, flags)`.
    RENAMEAT2 = 316,
    /// `getrandom(buf, len, flags)`.
    GETRANDOM = 318,
    /// `statx(dirfd, path, flags, mask, buf)`.
    STATX = 332,
    /// `rseq(...)`.
    RSEQ = 334,
    /// `faccessat2(dirfd, path, mode, flags)`.
    FACCESSAT2 = 439,
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
            ("SELECT", libc::SYS_select),
            ("SCHED_YIELD", libc::SYS_sched_yield),
            ("MADVISE", libc::SYS_madvise),
            ("DUP", libc::SYS_dup),
            ("DUP2", libc::SYS_dup2),
            ("PAUSE", libc::SYS_pause),
            ("NANOSLEEP", libc::SYS_nanosleep),
            ("ALARM", libc::SYS_alarm),
            ("GETPID", libc::SYS_getpid),
            ("SENDFILE", libc::SYS_sendfile),
            ("CLONE", libc::SYS_clone),
            ("FORK", libc::SYS_fork),
            ("VFORK", libc::SYS_vfork),
            ("EXECVE", libc::SYS_execve),
            ("EXIT", libc::SYS_exit),
            ("WAIT4", libc::SYS_wait4),
            ("KILL", libc::SYS_kill),
            ("UNAME", libc::SYS_uname),
            ("FCNTL", libc::SYS_fcntl),
            ("FSYNC", libc::SYS_fsync),
            ("FDATASYNC", libc::SYS_fdatasync),
            ("TRUNCATE", libc::SYS_truncate),
            ("FTRUNCATE", libc::SYS_ftruncate),
            ("GETDENTS", libc::SYS_getdents),
            ("GETCWD", libc::SYS_getcwd),
            ("CHDIR", libc::SYS_chdir),
            ("FCHDIR", libc::SYS_fchdir),
            ("RENAME", libc::SYS_rename),
            ("MKDIR", libc::SYS_mkdir),
            ("RMDIR", libc::SYS_rmdir),
            ("LINK", libc::SYS_link),
            ("UNLINK", libc::SYS_unlink),
            ("SYMLINK", libc::SYS_symlink),
            ("READLINK", libc::SYS_readlink),
            ("CHMOD", libc::SYS_chmod),
            ("FCHMOD", libc::SYS_fchmod),
            ("CHOWN", libc::SYS_chown),
            ("FCHOWN", libc::SYS_fchown),
            ("LCHOWN", libc::SYS_lchown),
            ("UMASK", libc::SYS_umask),
            ("GETTIMEOFDAY", libc::SYS_gettimeofday),
            ("GETRLIMIT", libc::SYS_getrlimit),
            ("GETRUSAGE", libc::SYS_getrusage),
            ("SYSINFO", libc::SYS_sysinfo),
            ("TIMES", libc::SYS_times),
            ("GETUID", libc::SYS_getuid),
            ("GETGID", libc::SYS_getgid),
            ("SETUID", libc::SYS_setuid),
            ("SETGID", libc::SYS_setgid),
            ("GETEUID", libc::SYS_geteuid),
            ("GETEGID", libc::SYS_getegid),
            ("SETPGID", libc::SYS_setpgid),
            ("GETPPID", libc::SYS_getppid),
            ("GETPGRP", libc::SYS_getpgrp),
            ("SETSID", libc::SYS_setsid),
            ("SETREUID", libc::SYS_setreuid),
            ("SETREGID", libc::SYS_setregid),
            ("GETGROUPS", libc::SYS_getgroups),
            ("SETGROUPS", libc::SYS_setgroups),
            ("SETRESUID", libc::SYS_setresuid),
            ("GETRESUID", libc::SYS_getresuid),
            ("SETRESGID", libc::SYS_setresgid),
            ("GETRESGID", libc::SYS_getresgid),
            ("GETPGID", libc::SYS_getpgid),
            ("SETFSUID", libc::SYS_setfsuid),
            ("SETFSGID", libc::SYS_setfsgid),
            ("GETSID", libc::SYS_getsid),
            ("RT_SIGPENDING", libc::SYS_rt_sigpending),
            ("RT_SIGTIMEDWAIT", libc::SYS_rt_sigtimedwait),
            ("RT_SIGSUSPEND", libc::SYS_rt_sigsuspend),
            ("SIGALTSTACK", libc::SYS_sigaltstack),
            ("STATFS", libc::SYS_statfs),
            ("FSTATFS", libc::SYS_fstatfs),
            ("GETPRIORITY", libc::SYS_getpriority),
            ("SETPRIORITY", libc::SYS_setpriority),
            ("PRCTL", libc::SYS_prctl),
            ("ARCH_PRCTL", libc::SYS_arch_prctl),
            ("SETRLIMIT", libc::SYS_setrlimit),
            ("SYNC", libc::SYS_sync),
            ("MOUNT", libc::SYS_mount),
            ("UMOUNT2", libc::SYS_umount2),
            ("REBOOT", libc::SYS_reboot),
            ("SETHOSTNAME", libc::SYS_sethostname),
            ("GETTID", libc::SYS_gettid),
            ("TKILL", libc::SYS_tkill),
            ("TIME", libc::SYS_time),
            ("FUTEX", libc::SYS_futex),
            ("SCHED_GETAFFINITY", libc::SYS_sched_getaffinity),
            ("GETDENTS64", libc::SYS_getdents64),
            ("SET_TID_ADDRESS", libc::SYS_set_tid_address),
            ("CLOCK_GETTIME", libc::SYS_clock_gettime),
            ("CLOCK_NANOSLEEP", libc::SYS_clock_nanosleep),
            ("EXIT_GROUP", libc::SYS_exit_group),
            ("TGKILL", libc::SYS_tgkill),
            ("WAITID", libc::SYS_waitid),
            ("OPENAT", libc::SYS_openat),
            ("MKDIRAT", libc::SYS_mkdirat),
            ("FCHOWNAT", libc::SYS_fchownat),
            ("NEWFSTATAT", libc::SYS_newfstatat),
            ("UNLINKAT", libc::SYS_unlinkat),
            ("RENAMEAT", libc::SYS_renameat),
            ("LINKAT", libc::SYS_linkat),
            ("SYMLINKAT", libc::SYS_symlinkat),
            ("READLINKAT", libc::SYS_readlinkat),
            ("FCHMODAT", libc::SYS_fchmodat),
            ("FACCESSAT", libc::SYS_faccessat),
            ("PSELECT6", libc::SYS_pselect6),
            ("PPOLL", libc::SYS_ppoll),
            ("SET_ROBUST_LIST", libc::SYS_set_robust_list),
            ("UTIMENSAT", libc::SYS_utimensat),
            ("DUP3", libc::SYS_dup3),
            ("PIPE2", libc::SYS_pipe2),
            ("PRLIMIT64", libc::SYS_prlimit64),
            ("RENAMEAT2", libc::SYS_renameat2),
            ("GETRANDOM", libc::SYS_getrandom),
            ("STATX", libc::SYS_statx),
            ("RSEQ", libc::SYS_rseq),
            ("FACCESSAT2", libc::SYS_faccessat2),
        ];
        assert_eq!(super::ALL.len(), reference.len(), "every number is checked");
        for (&(name, ours), &(ref_name, linux)) in super::ALL.iter().zip(reference) {
            assert_eq!(name, ref_name);
            assert_eq!(ours, linux as u64, "SYS_{name}");
            assert_eq!(super::name(ours).map(str::to_uppercase).as_deref(), Some(name));
        }
        assert_eq!(super::name(9999), None);
    }

    /// The name table agrees with libc for calls this crate does not define.
    #[test]
    fn names_cover_every_linux_call() {
        let unhandled: &[(&str, i64)] = &[
            ("socket", libc::SYS_socket),
            ("epoll_create1", libc::SYS_epoll_create1),
            ("io_uring_setup", libc::SYS_io_uring_setup),
            ("futex_waitv", libc::SYS_futex_waitv),
            ("pidfd_open", libc::SYS_pidfd_open),
            ("clone3", libc::SYS_clone3),
        ];
        for &(name, linux) in unhandled {
            assert_eq!(super::name(linux as u64), Some(name));
        }
        assert_eq!(super::name(400), None, "Linux leaves 335..424 unused");
        assert_eq!(super::name(462), Some("mseal"));
    }
}

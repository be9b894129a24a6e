//! Structures that cross the user/kernel boundary, laid out as the x86_64
//! kernel lays them out (which is not always libc's: see [`Termios`]).

/// `struct timespec`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timespec {
    /// Seconds.
    pub tv_sec: i64,
    /// Nanoseconds, 0..1e9.
    pub tv_nsec: i64,
}

/// `struct iovec`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Iovec {
    /// User address of the buffer.
    pub iov_base: u64,
    /// Its length.
    pub iov_len: u64,
}

/// `struct stat` (x86_64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Stat {
    pub st_dev: u64,
    pub st_ino: u64,
    pub st_nlink: u64,
    pub st_mode: u32,
    pub st_uid: u32,
    pub st_gid: u32,
    pub __pad0: u32,
    pub st_rdev: u64,
    pub st_size: i64,
    pub st_blksize: i64,
    pub st_blocks: i64,
    pub st_atime: i64,
    pub st_atime_nsec: i64,
    pub st_mtime: i64,
    pub st_mtime_nsec: i64,
    pub st_ctime: i64,
    pub st_ctime_nsec: i64,
    pub __unused: [i64; 3],
}

/// The fixed head of a `struct linux_dirent64` record; the NUL-terminated
/// name follows, and the record is padded to 8 bytes (`d_reclen`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dirent64Head {
    /// Inode number.
    pub d_ino: u64,
    /// Offset of the next record (opaque cookie).
    pub d_off: i64,
    /// Length of this record.
    pub d_reclen: u16,
    /// File type (`DT_*`).
    pub d_type: u8,
}

/// Bytes of a dirent64 record before its name.
pub const DIRENT64_NAME_OFFSET: usize = 19;

/// The kernel's `struct termios` (what `TCGETS` copies: 36 bytes; glibc's
/// user-side struct adds two speed fields after these).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Termios {
    /// Input modes.
    pub c_iflag: u32,
    /// Output modes.
    pub c_oflag: u32,
    /// Control modes.
    pub c_cflag: u32,
    /// Local modes (`ICANON`, `ECHO`, `ISIG`, ...).
    pub c_lflag: u32,
    /// Line discipline.
    pub c_line: u8,
    /// Control characters.
    pub c_cc: [u8; 19],
}

/// `struct winsize`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Winsize {
    /// Rows.
    pub ws_row: u16,
    /// Columns.
    pub ws_col: u16,
    /// Width in pixels.
    pub ws_xpixel: u16,
    /// Height in pixels.
    pub ws_ypixel: u16,
}

/// Length of each `utsname` field.
pub const UTSNAME_LEN: usize = 65;

/// `struct utsname`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utsname {
    /// Operating system name.
    pub sysname: [u8; UTSNAME_LEN],
    /// Host name.
    pub nodename: [u8; UTSNAME_LEN],
    /// Release.
    pub release: [u8; UTSNAME_LEN],
    /// Version.
    pub version: [u8; UTSNAME_LEN],
    /// Hardware.
    pub machine: [u8; UTSNAME_LEN],
    /// NIS domain name.
    pub domainname: [u8; UTSNAME_LEN],
}

impl Default for Utsname {
    /// All fields empty.
    fn default() -> Self {
        let empty = [0; UTSNAME_LEN];
        Utsname { sysname: empty, nodename: empty, release: empty, version: empty, machine: empty, domainname: empty }
    }
}

#[cfg(test)]
mod tests {
    use core::mem::{offset_of, size_of};

    use super::*;

    #[test]
    fn layouts_match_linux() {
        assert_eq!(size_of::<Timespec>(), size_of::<libc::timespec>());
        assert_eq!(offset_of!(Timespec, tv_nsec), offset_of!(libc::timespec, tv_nsec));
        assert_eq!(size_of::<Iovec>(), size_of::<libc::iovec>());
        assert_eq!(offset_of!(Iovec, iov_len), offset_of!(libc::iovec, iov_len));
        assert_eq!(size_of::<Stat>(), size_of::<libc::stat>());
        assert_eq!(offset_of!(Stat, st_mode), offset_of!(libc::stat, st_mode));
        assert_eq!(offset_of!(Stat, st_rdev), offset_of!(libc::stat, st_rdev));
        assert_eq!(offset_of!(Stat, st_size), offset_of!(libc::stat, st_size));
        assert_eq!(offset_of!(Stat, st_blocks), offset_of!(libc::stat, st_blocks));
        assert_eq!(offset_of!(Stat, st_mtime), offset_of!(libc::stat, st_mtime));
        assert_eq!(offset_of!(Stat, st_ctime_nsec), offset_of!(libc::stat, st_ctime_nsec));
        assert_eq!(offset_of!(Dirent64Head, d_reclen), offset_of!(libc::dirent64, d_reclen));
        assert_eq!(offset_of!(Dirent64Head, d_type), offset_of!(libc::dirent64, d_type));
        assert_eq!(DIRENT64_NAME_OFFSET, offset_of!(libc::dirent64, d_name));
        // The kernel termios is libc's without the trailing speeds.
        assert_eq!(size_of::<Termios>(), 36);
        assert_eq!(offset_of!(Termios, c_line), offset_of!(libc::termios, c_line));
        assert_eq!(offset_of!(Termios, c_cc), offset_of!(libc::termios, c_cc));
        assert_eq!(size_of::<Winsize>(), size_of::<libc::winsize>());
        assert_eq!(size_of::<Utsname>(), size_of::<libc::utsname>());
        assert_eq!(offset_of!(Utsname, machine), offset_of!(libc::utsname, machine));
    }
}

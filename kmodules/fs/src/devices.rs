//! Character devices: device numbers, the registry of openers that device
//! modules fill, and the two devices of this crate, `/dev/null` and
//! `/dev/zero`.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;

use abi::errno::{EBADF, Errno};
use abi::flags::mode::S_IFCHR;
use abi::types::Stat;

use runtime::sync::SpinLock;

use crate::status::StatusFlags;
use crate::{File, KResult};

/// "No such device or address": no driver for a device node's number (not
/// in `abi::errno`).
const ENXIO: Errno = Errno(6);

/// `/dev/null`'s number.
pub(crate) const NULL: u64 = makedev(1, 3);
/// `/dev/zero`'s number.
pub(crate) const ZERO: u64 = makedev(1, 5);

/// What opens a character device, given the `open` flags.
type Opener = fn(flags: u32) -> KResult<Arc<dyn File>>;

/// Openers by device number.
static OPENERS: SpinLock<BTreeMap<u64, Opener>> = SpinLock::new(BTreeMap::new());

/// A device number in Linux's encoding (glibc's `makedev`).
pub const fn makedev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    ((major & 0xffff_f000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffff_ff00) << 12) | (minor & 0xff)
}

/// Registers the opener of a character device number (`rdev`, in
/// [`makedev`]'s encoding): `open` of a node with that number calls it
/// with the open flags. A later registration replaces an earlier one.
pub fn register_char_device(rdev: u64, open: fn(flags: u32) -> KResult<Arc<dyn File>>) {
    OPENERS.lock().insert(rdev, open);
}

/// Opens the device `rdev`; `ENXIO` if no module registered it.
pub(crate) fn open(rdev: u64, flags: u32) -> KResult<Arc<dyn File>> {
    let opener = OPENERS.lock().get(&rdev).copied().ok_or(ENXIO)?;
    opener(flags)
}

/// `/dev/null` or `/dev/zero`.
struct Memory {
    rdev: u64,
    flags: StatusFlags,
}

/// Opens `/dev/null`.
pub(crate) fn open_null(flags: u32) -> KResult<Arc<dyn File>> {
    Ok(Arc::new(Memory { rdev: NULL, flags: StatusFlags::new(flags) }))
}

/// Opens `/dev/zero`.
pub(crate) fn open_zero(flags: u32) -> KResult<Arc<dyn File>> {
    Ok(Arc::new(Memory { rdev: ZERO, flags: StatusFlags::new(flags) }))
}

impl File for Memory {
    /// `/dev/null`: end of file at once; `/dev/zero`: as many zeros as asked.
    fn read(&self, buf: &mut [u8]) -> KResult<usize> {
        if !self.flags.readable() {
            return Err(EBADF);
        }
        if self.rdev == NULL {
            return Ok(0);
        }
        buf.fill(0);
        Ok(buf.len())
    }

    /// Swallows everything.
    fn write(&self, buf: &[u8]) -> KResult<usize> {
        if !self.flags.writable() {
            return Err(EBADF);
        }
        Ok(buf.len())
    }

    /// Always at offset 0, as on Linux.
    fn seek(&self, _offset: i64, _whence: u32) -> KResult<u64> {
        Ok(0)
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(Stat { st_mode: S_IFCHR | 0o666, st_nlink: 1, st_rdev: self.rdev, st_blksize: 4096, ..Stat::default() })
    }

    fn status_flags(&self) -> u32 {
        self.flags.get()
    }

    fn set_status_flags(&self, flags: u32) {
        self.flags.set(flags);
    }
}

#[cfg(test)]
mod tests {
    use abi::flags::open::{O_RDONLY, O_RDWR};

    use super::*;

    #[test]
    fn makedev_matches_linux() {
        assert_eq!(makedev(1, 3), 0x103);
        assert_eq!(makedev(5, 1), 0x501);
        assert_eq!(makedev(0x1234, 0x56789), 0x1000_5672_3489);
        assert_eq!(makedev(0xfff, 0xff), 0xfffff);
        assert_eq!(makedev(0x1000, 0x100), (1 << 44) | (1 << 20));
    }

    #[test]
    fn null_and_zero() {
        let null = open_null(O_RDWR).unwrap();
        let mut buf = [7u8; 16];
        assert_eq!(null.read(&mut buf), Ok(0));
        assert_eq!(null.write(&buf), Ok(16));
        let zero = open_zero(O_RDONLY).unwrap();
        assert_eq!(zero.read(&mut buf), Ok(16));
        assert_eq!(buf, [0; 16]);
        assert_eq!(zero.write(&buf), Err(EBADF));
        assert_eq!(zero.stat().unwrap().st_rdev, ZERO);
    }
}

//! The status flags an open file description keeps (`fcntl(F_GETFL)`).

use core::sync::atomic::{AtomicU32, Ordering};

use abi::flags::open::{O_ACCMODE, O_APPEND, O_NONBLOCK, O_RDONLY, O_WRONLY};

/// Flags `fcntl(F_SETFL)` may change.
const CHANGEABLE: u32 = O_APPEND | O_NONBLOCK;

/// An open file's access mode and changeable status flags.
pub(crate) struct StatusFlags(AtomicU32);

impl StatusFlags {
    /// The status flags of an `open` with `flags`.
    pub fn new(flags: u32) -> Self {
        Self(AtomicU32::new(flags & (O_ACCMODE | CHANGEABLE)))
    }

    pub fn get(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }

    /// Replaces the changeable flags; the access mode stays.
    pub fn set(&self, flags: u32) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| Some((old & !CHANGEABLE) | (flags & CHANGEABLE)));
    }

    pub fn readable(&self) -> bool {
        self.get() & O_ACCMODE != O_WRONLY
    }

    pub fn writable(&self) -> bool {
        self.get() & O_ACCMODE != O_RDONLY
    }

    pub fn append(&self) -> bool {
        self.get() & O_APPEND != 0
    }
}

#[cfg(test)]
mod tests {
    use abi::flags::open::{O_CREAT, O_RDWR};

    use super::*;

    #[test]
    fn access_mode_is_fixed_and_append_changes() {
        let flags = StatusFlags::new(O_WRONLY | O_CREAT | O_APPEND);
        assert_eq!(flags.get(), O_WRONLY | O_APPEND);
        assert!(flags.writable() && !flags.readable() && flags.append());
        flags.set(O_RDWR | O_NONBLOCK);
        assert_eq!(flags.get(), O_WRONLY | O_NONBLOCK);
        assert!(!flags.append());
    }
}

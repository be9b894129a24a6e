//! A process's file descriptor table: small integers naming open file
//! descriptions, each with its close-on-exec flag.

use alloc::vec::Vec;

use abi::errno::{EBADF, EMFILE};
use fs::{KResult, OpenFile};

/// One descriptor.
#[derive(Clone)]
pub struct Fd {
    /// The open file description (shared with `dup`s and forks).
    pub file: OpenFile,
    /// `FD_CLOEXEC`.
    pub cloexec: bool,
}

/// The table.
#[derive(Clone)]
pub struct FdTable {
    slots: Vec<Option<Fd>>,
    /// Descriptors are below this (`RLIMIT_NOFILE`'s soft limit).
    limit: usize,
}

impl FdTable {
    /// An empty table whose descriptors stay below `limit`.
    pub fn new(limit: u64) -> FdTable {
        FdTable { slots: Vec::new(), limit: 0 }.with_limit(limit)
    }

    /// Sets the limit (`RLIMIT_NOFILE`); descriptors already above it stay.
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = limit.min(crate::rlimit::NR_OPEN) as usize;
    }

    fn with_limit(mut self, limit: u64) -> FdTable {
        self.set_limit(limit);
        self
    }

    /// Descriptors are below this.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The descriptor `fd`, or `EBADF`.
    pub fn get(&self, fd: i32) -> KResult<&Fd> {
        usize::try_from(fd).ok().and_then(|i| self.slots.get(i)).and_then(Option::as_ref).ok_or(EBADF)
    }

    /// The file of descriptor `fd`.
    pub fn file(&self, fd: i32) -> KResult<OpenFile> {
        Ok(self.get(fd)?.file.clone())
    }

    /// Sets the close-on-exec flag of `fd`.
    pub fn set_cloexec(&mut self, fd: i32, cloexec: bool) -> KResult<()> {
        let slot = usize::try_from(fd).ok().and_then(|i| self.slots.get_mut(i)).and_then(Option::as_mut);
        slot.ok_or(EBADF)?.cloexec = cloexec;
        Ok(())
    }

    /// Installs a copy of `fd` in the lowest free slot at or above `min`.
    /// (The table takes copies, so a refused insertion never closes a
    /// file where the caller cannot: inside a heap scope.)
    pub fn insert_from(&mut self, min: usize, fd: &Fd) -> KResult<i32> {
        let free = (min..self.limit).find(|&i| self.slots.get(i).is_none_or(Option::is_none)).ok_or(EMFILE)?;
        self.put(free, fd);
        Ok(free as i32)
    }

    /// Installs a copy of `fd` in the lowest free slot.
    pub fn insert(&mut self, fd: &Fd) -> KResult<i32> {
        self.insert_from(0, fd)
    }

    /// Installs a copy of `fd` at `number`, returning what was there (to
    /// be closed by the caller, outside any lock or scope).
    pub fn replace(&mut self, number: i32, fd: &Fd) -> KResult<Option<Fd>> {
        let index = usize::try_from(number).ok().filter(|&i| i < self.limit).ok_or(EBADF)?;
        let old = self.slots.get_mut(index).and_then(Option::take);
        self.put(index, fd);
        Ok(old)
    }

    fn put(&mut self, index: usize, fd: &Fd) {
        if self.slots.len() <= index {
            self.slots.resize(index + 1, None);
        }
        self.slots[index] = Some(fd.clone());
    }

    /// Removes `fd` (the caller drops it outside any lock).
    pub fn remove(&mut self, fd: i32) -> KResult<Fd> {
        let slot = usize::try_from(fd).ok().and_then(|i| self.slots.get_mut(i)).and_then(Option::take);
        slot.ok_or(EBADF)
    }

    /// Removes the close-on-exec descriptors (at `execve`).
    pub fn take_cloexec(&mut self) -> Vec<Fd> {
        self.slots.iter_mut().filter(|s| s.as_ref().is_some_and(|fd| fd.cloexec)).filter_map(Option::take).collect()
    }

    /// Removes every descriptor (at exit).
    pub fn take_all(&mut self) -> Vec<Fd> {
        self.slots.drain(..).flatten().collect()
    }
}

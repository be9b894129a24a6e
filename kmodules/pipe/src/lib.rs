//! Pipes (`pipe(2)`): a bounded byte buffer shared by a read end and a
//! write end, with blocking, end of file and `EPIPE`.
//!
//! [`pipe`] returns the two ends as open file descriptions
//! ([`fs::File`]). Both point at one shared pipe object that holds a
//! handle on the pipe's state in a GC heap — a ring buffer of up to
//! [`PIPE_CAPACITY`] bytes, whose memory is allocated as data arrives (a
//! page first, as Linux's pipe buffers), and the count of open read and
//! write ends — and two wait queues
//! (readers wait for data, writers for space). The state is a managed
//! object in a heap for shared objects (`runtime::heap::layout`): once
//! both ends are closed, the collector reclaims it, ring included. The
//! semantics are Linux's:
//!
//! - a read returns what is buffered (up to the buffer's length) and blocks
//!   only while the pipe is empty and a write end is open; with no write end
//!   left it returns `Ok(0)` (end of file);
//! - a write of at most [`PIPE_BUF`] bytes is atomic: it goes in whole or
//!   waits for room; a longer write may be split across waits (and
//!   interleave with other writers);
//! - a write with no read end open fails with `EPIPE` (the caller raises
//!   `SIGPIPE`); if part of it was written, the count is returned instead;
//! - with `O_NONBLOCK` a read or write that would block fails with
//!   `EAGAIN`; an interrupted wait fails with `EINTR` (or returns the bytes
//!   already moved).
//!
//! An end lives as long as some file descriptor refers to it (`dup` and
//! `fork` share the `Arc`); dropping the last reference closes it, which
//! updates the counts and wakes the other side.
//!
//! Locking: the buffer and counts are reached only in a scope of their
//! heap (the heap lock, held with preemption disabled) for one copy of at
//! most 64 KiB; nobody blocks in a scope.
//! Waits go through [`runtime::sync::WaitQueue`] with the check done under
//! the lock, so a wake-up between the check and the sleep is not lost.
#![cfg_attr(target_os = "none", no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod ends;
mod ring;
mod shared;

#[cfg(feature = "ktest")]
mod ktests;

use alloc::sync::Arc;

use fs::{File, KResult, OpenFile};

pub use ring::{PIPE_BUF, PIPE_CAPACITY};

/// Creates a pipe and returns its (read end, write end), or `ENOMEM`.
/// `flags` may carry `O_NONBLOCK`, which becomes a status flag of both
/// ends; `O_CLOEXEC` is a descriptor flag and the caller's business (other
/// bits are ignored).
pub fn pipe(flags: u32) -> KResult<(OpenFile, OpenFile)> {
    let (read, write) = ends::open(flags)?;
    let (read, write): (Arc<dyn File>, Arc<dyn File>) = (Arc::new(read), Arc::new(write));
    Ok((read.into(), write.into()))
}

//! Open file descriptions: what `open` makes and descriptors share (through
//! `dup` and `fork`). A tmpfs file's or directory's description is an
//! object of the file system's heap, beside its node; [`OpenFile`] is what
//! a descriptor holds.
//!
//! A transfer moves at most [`CHUNK`] bytes per heap scope, reading and
//! advancing the offset in the same scope, so each chunk is atomic with
//! respect to the offset (the system-call layer hands files at most one
//! chunk per call: a `write` of more than 64 KiB to a description that
//! another process writes too may interleave with its writes at chunk
//! boundaries, where Linux's `f_pos_lock` would keep it whole).

use alloc::sync::Arc;
use core::cell::RefCell;
use core::ops::Deref;

use abi::errno::{EBADF, EINVAL, EISDIR, ENOMEM, ENOSPC, ENOTDIR};
use abi::flags::open::{O_ACCMODE, O_RDONLY, O_WRONLY};
use abi::flags::seek::SEEK_END;
use abi::types::Stat;
use gc_arena::Collect;
use runtime::heap::{Handle, Rootable, Scope};

use crate::attr::{Attr, apply};
use crate::cred::Cred;
use crate::directory::{Cursor, list};
use crate::node::{Kind, NodePtr, NodeRef, TmpfsRef, heap};
use crate::regular::{CHUNK, seek_target, set_len, write_chunk};
use crate::status::StatusFlags;
use crate::{File, KResult};

/// An open file description.
#[derive(Clone)]
pub enum OpenFile {
    /// A tmpfs file or directory: an object of the file system's heap.
    Tmpfs(TmpfsFile),
    /// Any other file — a device, a pipe end, the TTY, a synthetic file —
    /// as a plain object (docs/gc.md lists them).
    Other(Arc<dyn File>),
}

impl Deref for OpenFile {
    type Target = dyn File;

    fn deref(&self) -> &(dyn File + 'static) {
        match self {
            OpenFile::Tmpfs(file) => file,
            OpenFile::Other(file) => &**file,
        }
    }
}

impl OpenFile {
    /// `fchmod`, `fchown`, `futimens`: changes the attributes of a tmpfs
    /// file's node (see [`Attr`]); other files keep none, and accept the
    /// change without effect.
    pub fn set_attr(&self, cred: &Cred, attr: Attr) -> KResult<()> {
        match self {
            OpenFile::Tmpfs(file) => file.update(|s, node, _| apply(s, cred, node, attr)),
            OpenFile::Other(_) => Ok(()),
        }
    }
}

impl From<Arc<dyn File>> for OpenFile {
    fn from(file: Arc<dyn File>) -> Self {
        OpenFile::Other(file)
    }
}

/// A tmpfs description in the heap.
#[derive(Collect)]
#[collect(no_drop)]
pub(crate) struct Description<'gc> {
    node: NodePtr<'gc>,
    #[collect(require_static)]
    state: RefCell<State>,
}

/// The rootable form of a description, for handles.
type DescriptionRoot = Rootable![Description<'_>];

/// What transfers, seeks and `fcntl` change.
struct State {
    flags: StatusFlags,
    /// A file's offset.
    offset: u64,
    /// A directory's listing position.
    cursor: Cursor,
}

/// A tmpfs file's or directory's description, held outside scopes.
#[derive(Clone)]
pub struct TmpfsFile {
    description: Handle<DescriptionRoot>,
    is_dir: bool,
    /// The access mode, which never changes (so checks need no scope).
    access_mode: u32,
}

impl TmpfsFile {
    /// Opens `node` with status `flags`, in a scope of its heap.
    pub(crate) fn new<'gc>(s: &Scope<'_, 'gc>, node: NodePtr<'gc>, flags: u32) -> KResult<Self> {
        let state = State { flags: StatusFlags::new(flags), offset: 0, cursor: Cursor::default() };
        let is_dir = node.borrow().is_dir();
        let description = s.alloc(Description { node, state: RefCell::new(state) }).map_err(|_| ENOMEM)?;
        Ok(Self { description: s.stash::<DescriptionRoot>(description), is_dir, access_mode: flags & O_ACCMODE })
    }

    /// Runs `f` on the description in a scope.
    fn update<T>(&self, f: impl for<'a, 'gc> FnOnce(&Scope<'a, 'gc>, NodePtr<'gc>, &mut State) -> T) -> T {
        self.description.with(|s, d| f(s, d.node, &mut d.state.borrow_mut()))
    }

    /// Moves up to `len` bytes at the offset, `chunk(s, node, state, done)`
    /// moving at most [`CHUNK`] of them per scope and returning how many
    /// (fewer: the transfer is over). An error after some bytes ends the
    /// transfer short instead; `ENOMEM` (after which the heap collected)
    /// is retried once.
    fn transfer(
        &self,
        len: usize,
        mut chunk: impl for<'a, 'gc> FnMut(&Scope<'a, 'gc>, NodePtr<'gc>, &mut State, usize) -> KResult<usize>,
    ) -> KResult<usize> {
        let mut done = 0;
        let mut retried = false;
        loop {
            match self.update(|s, node, state| chunk(s, node, state, done)) {
                Ok(moved) => {
                    done += moved;
                    if moved < CHUNK || done >= len {
                        return Ok(done);
                    }
                }
                Err(ENOMEM) if !retried => retried = true,
                // Unlinked files hold their blocks until they are
                // collected: collect now, then try once more.
                Err(ENOSPC) if !retried => {
                    retried = true;
                    heap().collect();
                }
                Err(error) if done == 0 => return Err(error),
                Err(_) => return Ok(done),
            }
        }
    }
}

impl File for TmpfsFile {
    fn read(&self, buf: &mut [u8]) -> KResult<usize> {
        if self.is_dir {
            return Err(EISDIR);
        }
        if self.access_mode == O_WRONLY {
            return Err(EBADF);
        }
        let len = buf.len();
        self.transfer(len, |_, node, state, done| {
            let n = node.borrow();
            let Kind::File(contents) = &n.kind else { return Ok(0) };
            let count = contents.each_piece(state.offset, (len - done).min(CHUNK), |at, bytes| {
                buf[done + at..done + at + bytes.len()].copy_from_slice(bytes);
                Ok(())
            })?;
            state.offset += count as u64;
            Ok(count)
        })
    }

    fn write(&self, buf: &[u8]) -> KResult<usize> {
        if self.is_dir || self.access_mode == O_RDONLY {
            return Err(EBADF);
        }
        self.transfer(buf.len(), |s, node, state, done| {
            let piece = &buf[done..buf.len().min(done + CHUNK)];
            let at = if state.flags.append() { None } else { Some(state.offset) };
            let (end, written) = write_chunk(s, node, at, piece)?;
            state.offset = end;
            Ok(written)
        })
    }

    fn seek(&self, offset: i64, whence: u32) -> KResult<u64> {
        let is_dir = self.is_dir;
        self.update(|_, node, state| {
            if is_dir {
                return state.cursor.seek(offset, whence);
            }
            let end = if whence == SEEK_END { node.borrow().stat().st_size as u64 } else { 0 };
            state.offset = seek_target(state.offset, end, offset, whence)?;
            Ok(state.offset)
        })
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(self.update(|_, node, _| node.borrow().stat()))
    }

    fn truncate(&self, len: u64) -> KResult<()> {
        let attempt = || {
            if self.is_dir || self.access_mode == O_RDONLY {
                return Err(EINVAL);
            }
            self.update(|s, node, _| set_len(s, node, len))
        };
        attempt().or_else(|error| if error == ENOMEM { attempt() } else { Err(error) })
    }

    fn getdents64(&self, buf: &mut [u8]) -> KResult<usize> {
        if !self.is_dir {
            return Err(ENOTDIR);
        }
        let len = buf.len().min(CHUNK);
        let buf = &mut buf[..len];
        let (written, full) = self.update(|_, node, state| list(node, &mut state.cursor, buf));
        // Not even one record fitted.
        if written == 0 && full {
            return Err(EINVAL);
        }
        Ok(written)
    }

    fn status_flags(&self) -> u32 {
        self.update(|_, _, state| state.flags.get())
    }

    fn access_mode(&self) -> u32 {
        self.access_mode
    }

    fn set_status_flags(&self, flags: u32) {
        self.update(|_, _, state| state.flags.set(flags));
    }

    fn as_dir(&self) -> Option<NodeRef> {
        self.is_dir.then(|| self.description.with(|s, d| TmpfsRef::new(s, d.node).into()))
    }
}

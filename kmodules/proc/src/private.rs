//! A process's private state as a managed object: its descriptor table,
//! signal actions, working directory, command line and credentials, in a
//! GC heap of the
//! process's own (`runtime::heap::layout::process`: under the per-process
//! layout a new heap per process, released whole, without tracing, when
//! the process is gone; under the global layout the kernel's one heap).
//!
//! Code reaches it only through [`PrivateState::with`], a scope of that
//! heap: the closure must not block, must not open another heap scope
//! (a path walk, a pipe's state) and must not drop an open file (the last
//! reference to a pipe end updates the pipe, in its heap): descriptors
//! that leave the table are returned out of the closure and dropped after
//! it.

use alloc::vec::Vec;
use core::cell::RefCell;

use abi::errno::ENOMEM;
use abi::flags::rlimit::RLIMIT_NOFILE;
use abi::flags::signal::NSIG;
use fs::{KResult, NodeRef};
use gc_arena::Collect;
use runtime::heap::{AllocError, Handle, Heap, Rootable, Static, layout};

use crate::creds::Creds;
use crate::fdtable::{Fd, FdTable};
use crate::rlimit::Limits;
use crate::sigstate::Action;

/// What a process keeps for itself.
#[derive(Collect)]
#[collect(require_static)]
pub struct Private {
    /// Open files.
    pub files: FdTable,
    /// Signal actions (shared by the threads).
    pub actions: [Action; NSIG as usize],
    /// Working directory.
    pub cwd: NodeRef,
    /// The command line, NUL-separated (for `ps`).
    pub cmdline: Vec<u8>,
    /// Resource limits.
    pub limits: Limits,
    /// User and group ids and supplementary groups (shared by the
    /// threads, copied at `fork`, changed by `execve` of a set-id file).
    pub creds: Creds,
}

impl Private {
    /// A first process's state: default actions, root's credentials,
    /// `limits`, and a descriptor table that follows them.
    pub fn new(mut files: FdTable, cwd: NodeRef, cmdline: Vec<u8>, limits: Limits) -> Private {
        files.set_limit(limits.cur(RLIMIT_NOFILE));
        Private { files, actions: [Action::default(); NSIG as usize], cwd, cmdline, limits, creds: Creds::root() }
    }

    /// A copy for a forked child: the same open files (shared), actions,
    /// directory, command line and credentials.
    fn copy(&self) -> Private {
        Private {
            files: self.files.clone(),
            actions: self.actions,
            cwd: self.cwd.clone(),
            cmdline: self.cmdline.clone(),
            limits: self.limits,
            creds: self.creds.clone(),
        }
    }
}

/// Plain data in a cell, not a `RefLock`: the state holds no `Gc`, so a
/// change needs no write barrier (see docs/gc.md on `Static`).
type PrivateRoot = Rootable![Static<RefCell<Private>>];

/// Room the state's object takes in its heap (its header included).
const OBJECT_BYTES: u64 = (size_of::<Static<RefCell<Private>>>() + 32) as u64;

/// A process's heap and its private state there.
pub struct PrivateState {
    state: Handle<PrivateRoot>,
}

impl PrivateState {
    /// `private` in a new heap for a process (see the module doc).
    pub fn new(private: Private) -> KResult<PrivateState> {
        let heap = layout::process();
        let mut private = Some(private);
        let state = heap.try_mutate(|scope| {
            // Room first: a refused allocation must not drop the state (and
            // its files) inside the scope.
            scope.reserve(OBJECT_BYTES)?;
            let object = scope.alloc(Static(RefCell::new(private.take().ok_or(AllocError)?)))?;
            Ok(scope.stash::<PrivateRoot>(object))
        });
        Ok(PrivateState { state: state.map_err(|AllocError| ENOMEM)? })
    }

    /// A forked child's state: a copy of this one, made in the child's new
    /// heap while both heaps are held.
    pub fn fork(&self) -> KResult<PrivateState> {
        let (parent, child) = (self.state.heap(), layout::process());
        let state = child.mutate_pair(&parent, |child, parent| {
            child.reserve(OBJECT_BYTES)?;
            let copy = parent.fetch(&self.state).0.borrow().copy();
            let object = child.alloc(Static(RefCell::new(copy)))?;
            Ok(child.stash::<PrivateRoot>(object))
        });
        Ok(PrivateState { state: state.map_err(|AllocError| ENOMEM)? })
    }

    /// The process's heap (for its other private objects, such as its
    /// memory areas).
    pub fn heap(&self) -> Heap {
        self.state.heap()
    }

    /// Runs `f` on the state, in a scope of its heap (see the module doc
    /// for what `f` must not do).
    pub fn with<R>(&self, f: impl FnOnce(&mut Private) -> R) -> R {
        self.state.with(|_, state| f(&mut state.0.borrow_mut()))
    }

    /// Takes every descriptor out (at exit, and before the state is
    /// dropped), for the caller to drop outside the scope.
    pub fn take_files(&self) -> Vec<Fd> {
        self.with(|private| private.files.take_all())
    }
}

impl Drop for PrivateState {
    /// The open files are closed here, outside any scope, so that a
    /// collection of the state never closes a file.
    fn drop(&mut self) {
        drop(self.take_files());
    }
}

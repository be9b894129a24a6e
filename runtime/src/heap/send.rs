//! The runtime's one exception to `deny(unsafe_code)`: letting a locked
//! gc-arena move between CPUs.
//!
//! gc-arena's `Arena` and `DynamicRoot` are `!Send` because they hold `Rc`s
//! and `Cell`s that are updated without atomics. That is only unsound if
//! two CPUs touch them at once, or one CPU's writes are not yet visible to
//! the next. In this crate:
//! - a [`SendArena`] lives only inside its heap's `spin::Mutex` (which
//!   orders accesses with acquire/release) and is only used with the lock
//!   held; no `Rc` it owns (its `Metrics`, its root set's slots) is cloned
//!   out of it;
//! - a [`SendRoot`] is never cloned and never dereferenced outside a scope
//!   (so several CPUs may share a reference to it — the clones of a
//!   `Handle` share one through an `Arc` — each reading it only under the
//!   lock);
//!   it is created inside a scope (lock held) and dropped either with the
//!   heap lock held or queued and dropped later with it held (`Handle`'s
//!   `Drop`), which are the only times its `Weak` and the slot counts it
//!   points at change;
//! - `Gc` pointers cannot leave a scope at all (gc-arena's branded `'gc`).
#![allow(unsafe_code)]

use gc_arena::{Arena, DynamicRoot, DynamicRootSet, Rootable};

/// The arena of a heap, rooted at its root set.
pub(super) struct SendArena(pub Arena<Rootable![DynamicRootSet<'_>]>);

// SAFETY: see the module comment: only ever used under its heap's lock.
unsafe impl Send for SendArena {}

/// A root-set handle held outside the lock.
pub(super) struct SendRoot<R: for<'a> Rootable<'a>>(pub DynamicRoot<R>);

// SAFETY: see the module comment: created, read and dropped only under its
// heap's lock, never cloned.
unsafe impl<R: for<'a> Rootable<'a>> Send for SendRoot<R> {}

// SAFETY: a shared reference only lets a holder fetch the object, which
// reads the root inside a scope, under the heap's lock (that lock orders
// concurrent fetches from several CPUs); dropping needs the root by value.
unsafe impl<R: for<'a> Rootable<'a>> Sync for SendRoot<R> {}

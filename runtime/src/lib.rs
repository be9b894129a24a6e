//! Hardtack's managed runtime, on top of the shim's safe API: the
//! tracing-GC kernel heap (on gc-arena), the goroutine scheduler, and the
//! blocking primitives built on it (channels, locks, wait groups).
//!
//! `unsafe` is denied here; the one exception is `heap::send`, a two-line
//! module that lets a locked arena move between CPUs (its SAFETY argument is
//! in the module). See docs/gc.md and docs/scheduler.md.
#![cfg_attr(target_os = "none", no_std)]
#![deny(unsafe_code)]

extern crate alloc;

pub mod heap;
pub mod sched;
pub mod sync;

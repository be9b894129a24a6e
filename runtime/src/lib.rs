//! Hardtack's managed runtime: the tracing-GC kernel heap (on gc-arena), and
//! next the goroutine scheduler, on top of the shim's safe API.
//!
//! `unsafe` is denied here; the one exception is `heap::send`, a two-line
//! module that lets a locked arena move between CPUs (its SAFETY argument is
//! in the module). See docs/gc.md.
#![cfg_attr(target_os = "none", no_std)]
#![deny(unsafe_code)]

extern crate alloc;

pub mod heap;

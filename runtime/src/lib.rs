//! Hardtack's managed runtime: the tracing-GC kernel heap (gc-arena) and the
//! goroutine scheduler live here, on top of the shim's safe API.
//!
//! Empty for now: the heap and the scheduler are the next milestones (see
//! docs/architecture.md). It already builds for the kernel target and the
//! host, so the layering and `deny(unsafe_code)` are in force from day one.
#![no_std]
#![deny(unsafe_code)]

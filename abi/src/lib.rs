//! The Linux x86_64 user ABI that Hardtack implements: system call
//! numbers, error numbers, flag values and the layouts of the structures
//! that cross the user/kernel boundary.
//!
//! One crate for the kernel and the user-space test programs, so both
//! sides agree by construction. Values are Linux's; host tests check each
//! one against the `libc` crate.
#![no_std]
#![forbid(unsafe_code)]

pub mod errno;
pub mod flags;
mod names;
pub mod nr;
pub mod types;

//! The lock an open file keeps its position under (Linux's `f_pos_lock`):
//! held across a whole transfer, which may span several heap scopes, so
//! in the kernel it is the runtime's sleeping mutex. The host has no
//! scheduler (the sleeping mutex masks interrupts), so host tests use a
//! spin lock, which behaves the same when uncontended.

#[cfg(target_os = "none")]
pub(crate) use runtime::sync::Mutex as PositionLock;
#[cfg(not(target_os = "none"))]
pub(crate) use spin::Mutex as PositionLock;

//! Goroutine-local data: one value per goroutine, set and read by the code
//! running in it (the kernel keeps a user thread's process there, instead
//! of in a table keyed by goroutine id). A value still set when the
//! goroutine's body returns is dropped then, in the goroutine.

use alloc::sync::Arc;
use core::any::Any;

use super::engine;
use super::pin::pin;

/// A goroutine-local value.
pub type Local = Arc<dyn Any + Send + Sync>;

/// Sets (or with `None` clears) the calling goroutine's value; returns the
/// previous one. Outside a goroutine it does nothing.
pub fn set_local(value: Option<Local>) -> Option<Local> {
    let g = engine::try_current()?;
    let _pin = pin();
    core::mem::replace(&mut *g.local.lock(), value)
}

/// The calling goroutine's value, if it has one.
pub fn local() -> Option<Local> {
    let g = engine::try_current()?;
    let _pin = pin();
    g.local.lock().clone()
}

/// Takes the calling goroutine's value (at its end).
pub(super) fn take() -> Option<Local> {
    set_local(None)
}

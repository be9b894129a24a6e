//! Pinning: disabling preemption for a section of code.
//!
//! The preemption rule: a goroutine is switched out by an interrupt only
//! when the interrupt arrived with interrupts enabled (so it holds no
//! `IrqMutex` or `IrqGuard`) and its CPU's preemption count is zero. GC
//! heap scopes pin (a scope's `Gc` pointers and the heap lock must not be
//! held across a switch); so does code that holds a plain spin lock another
//! goroutine of the same CPU may want. A pinned goroutine must not block.

use core::marker::PhantomData;

/// Preemption stays disabled on this CPU while this lives (nests).
pub struct Pin {
    /// `!Send`: the count belongs to the CPU (and goroutine) that pinned.
    _here: PhantomData<*const ()>,
}

/// Disables preemption until the returned guard is dropped. If the slice
/// ran out meanwhile, dropping the outermost guard switches right away.
pub fn pin() -> Pin {
    shim::percpu::preempt_disable();
    Pin { _here: PhantomData }
}

impl Drop for Pin {
    fn drop(&mut self) {
        if shim::percpu::preempt_enable() && shim::irq::enabled() {
            let _irq = shim::irq::IrqGuard::new();
            if shim::percpu::take_resched() {
                super::engine::preempt();
            }
        }
    }
}

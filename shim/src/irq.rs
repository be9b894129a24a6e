//! Interrupt-enable control: guards that mask interrupts for a critical
//! section, and a spin lock that interrupt handlers may share with ordinary
//! code because it keeps interrupts off while held.

use core::ops::{Deref, DerefMut};

use x86_64::instructions::interrupts;

/// Enables interrupts on this CPU.
pub(crate) fn enable() {
    interrupts::enable();
}

/// Enables interrupts and halts until one arrives, then masks them again.
/// `sti; hlt` is atomic (an interrupt cannot slip in between the two), so
/// an idle loop that checked for work with interrupts masked cannot miss
/// the wake-up for work that arrived after the check.
pub fn enable_and_halt() {
    interrupts::enable_and_hlt();
    interrupts::disable();
}

/// Whether interrupts are enabled on this CPU.
pub fn enabled() -> bool {
    interrupts::are_enabled()
}

/// Masks interrupts on this CPU until dropped, then restores the previous state.
pub struct IrqGuard {
    was_enabled: bool,
}

impl IrqGuard {
    /// Masks interrupts and remembers whether they were on.
    pub fn new() -> Self {
        let was_enabled = interrupts::are_enabled();
        interrupts::disable();
        IrqGuard { was_enabled }
    }
}

impl Default for IrqGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for IrqGuard {
    fn drop(&mut self) {
        if self.was_enabled {
            interrupts::enable();
        }
    }
}

/// A spin lock that masks interrupts while held, so an interrupt handler on
/// the same CPU can never spin on a lock its own CPU holds.
pub struct IrqMutex<T> {
    inner: spin::Mutex<T>,
}

/// Access to the value of a locked [`IrqMutex`]; unlocks, then restores
/// the interrupt state, when dropped.
pub struct IrqMutexGuard<'a, T> {
    // Field order matters: the lock is released (and uncounted) before
    // interrupts come back.
    guard: spin::MutexGuard<'a, T>,
    _held: Held,
    _irq: IrqGuard,
}

/// Keeps this CPU's count of held interrupt-masking locks
/// ([`crate::percpu::irq_locks_held`]) while a guard lives.
struct Held;

impl Held {
    fn new() -> Held {
        crate::percpu::irq_lock_taken();
        Held
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        crate::percpu::irq_lock_released();
    }
}

impl<T> IrqMutex<T> {
    /// A new unlocked mutex.
    pub const fn new(value: T) -> Self {
        IrqMutex { inner: spin::Mutex::new(value) }
    }

    /// Masks interrupts, then spins until the lock is free.
    pub fn lock(&self) -> IrqMutexGuard<'_, T> {
        let irq = IrqGuard::new();
        IrqMutexGuard { guard: self.inner.lock(), _held: Held::new(), _irq: irq }
    }

    /// Releases the lock whoever holds it. Only for the panic path, after
    /// every other CPU has stopped, so the report can still be printed.
    ///
    /// # Safety
    /// The current holder must never touch the value again.
    pub(crate) unsafe fn force_unlock(&self) {
        // SAFETY: forwarded to the caller.
        unsafe { self.inner.force_unlock() }
    }
}

impl<T> Deref for IrqMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for IrqMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

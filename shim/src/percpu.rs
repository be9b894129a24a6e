//! Per-CPU data, reached through the GS base register.
//!
//! Each CPU points its GS base at its own [`PerCpu`] block, so finding "this
//! CPU" is one GS-relative load. The block is static (no allocation), which
//! lets the allocator and interrupt paths use it.
//!
//! Besides the CPU's index the block holds the three words the scheduler's
//! preemption rule needs, each changed by a single GS-relative instruction
//! so that an interrupt (or a migration) can never split the update:
//! - the *preemption-disable count* ([`preempt_disable`]): while non-zero
//!   the running goroutine is pinned to this CPU and is never switched out
//!   by an interrupt (heap scopes hold it);
//! - the *interrupt depth* ([`in_interrupt`]): non-zero while an interrupt
//!   handler runs; the GC heap and the allocator refuse to run there;
//! - the *reschedule request* ([`request_resched`]): set by the timer hook
//!   when the running goroutine's slice is over, acted upon at interrupt
//!   return or when the preemption count drops back to zero.
//!
//! A fourth word counts the [`crate::irq::IrqMutex`]es this CPU holds: a
//! cross-CPU call waits for the other CPUs to take an interrupt, which a
//! CPU spinning on an interrupt-masking lock cannot, so such calls refuse
//! to start while any is held ([`irq_locks_held`]).

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Most CPUs Hardtack will run on.
pub const MAX_CPUS: usize = 64;

/// One CPU's block. The field order is the GS offset table below.
#[repr(C)]
struct PerCpu {
    index: AtomicU32,
    preempt_count: AtomicU32,
    irq_depth: AtomicU32,
    resched: AtomicU32,
    irq_locks: AtomicU32,
    _pad: u32,
    /// Kernel stack pointer saved by `user::run` while user code runs.
    user_kernel_rsp: AtomicU64,
    /// Scratch word for the `syscall` entry (the user stack pointer).
    scratch: AtomicU64,
    /// Address of this CPU's TSS `rsp0` slot (set by `cpu::init`).
    tss_rsp0: AtomicU64,
}

/// GS offsets of the [`PerCpu`] fields (the assembly of `user` uses the
/// last three).
#[allow(dead_code, reason = "the host build has no GS-relative code")]
pub(crate) mod offset {
    pub const INDEX: usize = 0;
    pub const PREEMPT_COUNT: usize = 4;
    pub const IRQ_DEPTH: usize = 8;
    pub const RESCHED: usize = 12;
    pub const IRQ_LOCKS: usize = 16;
    pub const USER_KERNEL_RSP: usize = 24;
    pub const SCRATCH: usize = 32;
    pub const TSS_RSP0: usize = 40;
}

const _: () = {
    assert!(core::mem::offset_of!(PerCpu, index) == offset::INDEX);
    assert!(core::mem::offset_of!(PerCpu, preempt_count) == offset::PREEMPT_COUNT);
    assert!(core::mem::offset_of!(PerCpu, irq_depth) == offset::IRQ_DEPTH);
    assert!(core::mem::offset_of!(PerCpu, resched) == offset::RESCHED);
    assert!(core::mem::offset_of!(PerCpu, irq_locks) == offset::IRQ_LOCKS);
    assert!(core::mem::offset_of!(PerCpu, user_kernel_rsp) == offset::USER_KERNEL_RSP);
    assert!(core::mem::offset_of!(PerCpu, scratch) == offset::SCRATCH);
    assert!(core::mem::offset_of!(PerCpu, tss_rsp0) == offset::TSS_RSP0);
};

static BLOCKS: [PerCpu; MAX_CPUS] = [const {
    PerCpu {
        index: AtomicU32::new(0),
        preempt_count: AtomicU32::new(0),
        irq_depth: AtomicU32::new(0),
        resched: AtomicU32::new(0),
        irq_locks: AtomicU32::new(0),
        _pad: 0,
        user_kernel_rsp: AtomicU64::new(0),
        scratch: AtomicU64::new(0),
        tss_rsp0: AtomicU64::new(0),
    }
}; MAX_CPUS];

/// Points this CPU's GS base at block `index`. Called first thing on each
/// CPU, before anything allocates.
pub(crate) fn init_this_cpu(index: usize) {
    assert!(index < MAX_CPUS, "CPU index {index} beyond MAX_CPUS");
    let block = &BLOCKS[index];
    block.index.store(index as u32, Ordering::Relaxed);
    #[cfg(target_os = "none")]
    x86_64::registers::model_specific::GsBase::write(x86_64::VirtAddr::from_ptr(block));
}

/// Reads the 32-bit word at GS offset `OFFSET` of this CPU's block.
#[cfg(target_os = "none")]
#[inline]
fn gs_read<const OFFSET: usize>() -> u32 {
    let value: u32;
    // SAFETY: `init_this_cpu` ran on this CPU before any caller, so GS points
    // at a live, static `PerCpu`, and OFFSET is one of its u32 fields (the
    // `offset` table, checked at compile time); the load touches nothing else.
    unsafe {
        core::arch::asm!("mov {:e}, gs:[{off}]", out(reg) value, off = const OFFSET,
            options(nostack, readonly, preserves_flags));
    }
    value
}

/// The index (0-based, dense) of the CPU this runs on.
///
/// On the host (unit tests) it is always 0.
#[inline]
pub fn index() -> usize {
    #[cfg(target_os = "none")]
    return gs_read::<{ offset::INDEX }>() as usize;
    #[cfg(not(target_os = "none"))]
    0
}

#[cfg(not(target_os = "none"))]
std::thread_local! {
    /// Host stand-in for the per-CPU preemption count: one per thread.
    static HOST_PREEMPT_COUNT: core::cell::Cell<u32> = const { core::cell::Cell::new(0) };
    /// Host stand-in for the count of held interrupt-masking locks.
    static HOST_IRQ_LOCKS: core::cell::Cell<u32> = const { core::cell::Cell::new(0) };
}

/// Disables preemption on this CPU (nests). One `inc` of a GS-relative word:
/// atomic with respect to interrupts, so the count always lands on the CPU
/// the caller is on, and from then on the caller cannot be moved.
#[inline]
pub fn preempt_disable() {
    #[cfg(target_os = "none")]
    // SAFETY: as in `gs_read`; the instruction changes only that field.
    unsafe {
        core::arch::asm!("inc dword ptr gs:[{off}]", off = const offset::PREEMPT_COUNT, options(nostack));
    }
    #[cfg(not(target_os = "none"))]
    HOST_PREEMPT_COUNT.with(|c| c.set(c.get() + 1));
}

/// Undoes one [`preempt_disable`]. Returns true when preemption is enabled
/// again and a reschedule was requested meanwhile: the caller should then
/// let the scheduler switch (the runtime's pin guard does).
#[inline]
pub fn preempt_enable() -> bool {
    #[cfg(target_os = "none")]
    {
        let left = gs_read::<{ offset::PREEMPT_COUNT }>();
        assert!(left > 0, "preempt_enable without preempt_disable");
        // SAFETY: as in `preempt_disable`.
        unsafe {
            core::arch::asm!("dec dword ptr gs:[{off}]", off = const offset::PREEMPT_COUNT, options(nostack));
        }
        left == 1 && gs_read::<{ offset::RESCHED }>() != 0
    }
    #[cfg(not(target_os = "none"))]
    {
        HOST_PREEMPT_COUNT.with(|c| c.set(c.get().checked_sub(1).expect("preempt_enable without preempt_disable")));
        false
    }
}

/// This CPU's preemption-disable count.
#[inline]
pub fn preempt_count() -> u32 {
    #[cfg(target_os = "none")]
    return gs_read::<{ offset::PREEMPT_COUNT }>();
    #[cfg(not(target_os = "none"))]
    HOST_PREEMPT_COUNT.with(|c| c.get())
}

/// Whether an interrupt handler is running on this CPU.
#[inline]
pub fn in_interrupt() -> bool {
    #[cfg(target_os = "none")]
    return gs_read::<{ offset::IRQ_DEPTH }>() != 0;
    #[cfg(not(target_os = "none"))]
    false
}

/// Marks entry to an interrupt handler (the host never takes interrupts).
pub(crate) fn interrupt_enter() {
    #[cfg(target_os = "none")]
    // SAFETY: as in `preempt_disable`.
    unsafe {
        core::arch::asm!("inc dword ptr gs:[{off}]", off = const offset::IRQ_DEPTH, options(nostack));
    }
}

/// Marks the end of an interrupt handler; true when it was the outermost.
pub(crate) fn interrupt_exit() -> bool {
    #[cfg(target_os = "none")]
    {
        // SAFETY: as in `preempt_disable`.
        unsafe { core::arch::asm!("dec dword ptr gs:[{off}]", off = const offset::IRQ_DEPTH, options(nostack)) }
        gs_read::<{ offset::IRQ_DEPTH }>() == 0
    }
    #[cfg(not(target_os = "none"))]
    true
}

/// Counts one more [`crate::irq::IrqMutex`] held by this CPU (called with
/// interrupts masked, right after taking it).
pub(crate) fn irq_lock_taken() {
    #[cfg(target_os = "none")]
    // SAFETY: as in `preempt_disable`.
    unsafe {
        core::arch::asm!("inc dword ptr gs:[{off}]", off = const offset::IRQ_LOCKS, options(nostack));
    }
    #[cfg(not(target_os = "none"))]
    HOST_IRQ_LOCKS.with(|c| c.set(c.get() + 1));
}

/// Counts one [`crate::irq::IrqMutex`] released (before interrupts return).
pub(crate) fn irq_lock_released() {
    #[cfg(target_os = "none")]
    // SAFETY: as in `preempt_disable`.
    unsafe {
        core::arch::asm!("dec dword ptr gs:[{off}]", off = const offset::IRQ_LOCKS, options(nostack));
    }
    #[cfg(not(target_os = "none"))]
    HOST_IRQ_LOCKS.with(|c| c.set(c.get() - 1));
}

/// How many interrupt-masking locks this CPU holds.
pub(crate) fn irq_locks_held() -> u32 {
    #[cfg(target_os = "none")]
    return gs_read::<{ offset::IRQ_LOCKS }>();
    #[cfg(not(target_os = "none"))]
    HOST_IRQ_LOCKS.with(|c| c.get())
}

/// Records where this CPU's TSS keeps `rsp0` (the stack a trap from user
/// mode starts on), for `user::run` to set.
pub(crate) fn set_tss_rsp0_slot(slot: *mut u64) {
    BLOCKS[index()].tss_rsp0.store(slot as u64, Ordering::Relaxed);
}

/// The kernel stack pointer `user::run` saved on this CPU.
pub(crate) fn user_kernel_rsp() -> u64 {
    BLOCKS[index()].user_kernel_rsp.load(Ordering::Relaxed)
}

/// Asks for the running goroutine to be switched out at the next chance
/// (interrupt return, or the end of a preemption-disabled section).
pub fn request_resched() {
    BLOCKS[index()].resched.store(1, Ordering::Relaxed);
}

/// Takes this CPU's reschedule request: true if one was pending.
pub fn take_resched() -> bool {
    BLOCKS[index()].resched.swap(0, Ordering::Relaxed) != 0
}

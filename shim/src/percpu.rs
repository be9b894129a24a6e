//! Per-CPU data, reached through the GS base register.
//!
//! Each CPU points its GS base at its own [`PerCpu`] block, so finding "this
//! CPU" is one GS-relative load. The block is static (no allocation), which
//! lets the allocator and interrupt paths use it.

use core::sync::atomic::{AtomicU32, Ordering};

/// Most CPUs Hardtack will run on.
pub const MAX_CPUS: usize = 64;

/// One CPU's block. `index` must stay the first field: [`index`] reads it
/// at GS offset 0.
#[repr(C)]
struct PerCpu {
    index: AtomicU32,
}

static BLOCKS: [PerCpu; MAX_CPUS] = [const { PerCpu { index: AtomicU32::new(0) } }; MAX_CPUS];

/// Points this CPU's GS base at block `index`. Called first thing on each
/// CPU, before anything allocates.
pub fn init_this_cpu(index: usize) {
    assert!(index < MAX_CPUS, "CPU index {index} beyond MAX_CPUS");
    let block = &BLOCKS[index];
    block.index.store(index as u32, Ordering::Relaxed);
    #[cfg(target_os = "none")]
    x86_64::registers::model_specific::GsBase::write(x86_64::VirtAddr::from_ptr(block));
}

/// The index (0-based, dense) of the CPU this runs on.
///
/// On the host (unit tests) it is always 0.
#[inline]
pub fn index() -> usize {
    #[cfg(target_os = "none")]
    {
        let index: u32;
        // SAFETY: `init_this_cpu` ran on this CPU before any caller, so GS
        // points at a live, static `PerCpu` whose first field is the index;
        // the load touches nothing else.
        unsafe {
            core::arch::asm!("mov {:e}, gs:[0]", out(reg) index, options(nostack, readonly, preserves_flags));
        }
        index as usize
    }
    #[cfg(not(target_os = "none"))]
    0
}

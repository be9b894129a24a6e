//! The kernel's virtual address layout (higher half; the lower half is left
//! for user space).
//!
//! | range (PML4 slots)               | what                                   |
//! |----------------------------------|----------------------------------------|
//! | `0xffff_8000_0000_0000` (256..320) | bootloader-chosen: physical-memory map, boot info, boot stack, ramdisk |
//! | `0xffff_a000_0000_0000` (320)      | kernel heap, grows upward                |
//! | `0xffff_b000_0000_0000` (352)      | kernel stacks: fixed slots, guard page at the bottom of each |
//! | `0xffff_c000_0000_0000` (384)      | kernel virtual reservations (MMIO, tests) |
//! | `0xffff_ffff_8000_0000` (511)      | the kernel image (linked there, `code-model=kernel`) |
//!
//! The top-level (PML4) entries of the heap, stack and KVA regions are
//! created at boot, so every address space that later copies the kernel
//! half sees mappings added there.

use x86_64::VirtAddr;

/// Start of the region the bootloader may place its mappings in.
pub const BOOTLOADER_DYNAMIC_START: u64 = 0xffff_8000_0000_0000;
/// End of the bootloader's region.
pub const BOOTLOADER_DYNAMIC_END: u64 = HEAP_START;
/// Base of the kernel heap.
pub const HEAP_START: u64 = 0xffff_a000_0000_0000;
/// Most the heap may grow to (one PML4 slot).
pub const HEAP_MAX: u64 = 512 << 30;
/// Base of the kernel stack slots.
pub const STACKS_START: u64 = 0xffff_b000_0000_0000;
/// Size of one stack slot, guard page included.
pub const STACK_SLOT_SIZE: u64 = 128 << 10;
/// Number of stack slots (2 GiB of address space).
pub const STACK_SLOTS: usize = 16384;
/// Base of the kernel virtual reservation area.
pub const KVA_START: u64 = 0xffff_c000_0000_0000;
/// Size of the reservation area (one PML4 slot).
pub const KVA_SIZE: u64 = 512 << 30;
/// Page size.
pub const PAGE_SIZE: u64 = 4096;

/// Creates the PML4 entries for the heap, stack and KVA regions.
pub(super) fn reserve_top_level_tables() {
    for start in [HEAP_START, STACKS_START, KVA_START] {
        super::paging::ensure_top_level_table(VirtAddr::new(start)).expect("no frames for kernel page tables");
    }
}

/// Whether `addr` is in the kernel (higher) half.
pub fn is_kernel_address(addr: u64) -> bool {
    addr >= BOOTLOADER_DYNAMIC_START
}

//! Memory: physical frames, kernel page tables and TLB shootdown, user
//! address spaces and copies to and from them, the kernel heap, kernel
//! virtual address reservations, kernel stacks with guard pages, and reads
//! that survive a fault.

pub mod aspace;
pub(crate) mod bitmap;
pub mod bytes;
pub mod frame;
pub mod heap;
pub(crate) mod kva;
pub(crate) mod layout;
pub(crate) mod paging;
pub(crate) mod probe;
pub(crate) mod small;
pub mod stack;
pub(crate) mod tlb;
pub mod usercopy;

pub use paging::MapError;

#[cfg(feature = "ktest")]
mod ktests;

use bootloader_api::BootInfo;

/// Takes over memory from the bootloader: frames from its memory map, the
/// page tables it built (reached through its physical-memory mapping), then
/// the kernel's own virtual regions.
pub(crate) fn init(boot_info: &BootInfo) {
    let offset = boot_info.physical_memory_offset.into_option().expect("bootloader config maps physical memory");
    stack::set_boot_stack(boot_info.kernel_stack_bottom, boot_info.kernel_stack_len);
    frame::init(&boot_info.memory_regions, offset);
    paging::init(offset);
    layout::reserve_top_level_tables();
}

//! Memory: physical frames, kernel page tables and TLB shootdown, user
//! address spaces and copies to and from them, the kernel heap, kernel
//! virtual address reservations, kernel stacks with guard pages, and reads
//! that survive a fault.

pub mod aspace;
pub mod bitmap;
pub mod bytes;
pub mod frame;
pub mod heap;
pub mod kva;
pub mod layout;
pub mod paging;
pub mod probe;
pub mod small;
pub mod stack;
pub mod tlb;
pub mod usercopy;

#[cfg(feature = "ktest")]
mod ktests;

use bootloader_api::BootInfo;

/// Takes over memory from the bootloader: frames from its memory map, the
/// page tables it built (reached through its physical-memory mapping), then
/// the kernel's own virtual regions.
pub fn init(boot_info: &BootInfo) {
    let offset = boot_info.physical_memory_offset.into_option().expect("bootloader config maps physical memory");
    stack::set_boot_stack(boot_info.kernel_stack_bottom, boot_info.kernel_stack_len);
    frame::init(&boot_info.memory_regions, offset);
    paging::init(offset);
    layout::reserve_top_level_tables();
}

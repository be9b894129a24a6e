//! The ramdisk the bootloader loaded: the initramfs, a cpio newc archive
//! that `cargo xtask` builds (see `xtask/src/initramfs.rs`).
//!
//! It stays where the bootloader put it, read-only to the kernel for as
//! long as the kernel runs:
//!
//! - *Physical frames.* bootloader 0.11 loads the ramdisk into usable RAM
//!   and then carves its page-rounded range out of the memory map as
//!   [`MemoryRegionKind::Bootloader`] (`construct_memory_map` in
//!   bootloader-x86_64-common, for BIOS and UEFI alike); the frame
//!   allocator frees only `Usable` regions, so it never hands these frames
//!   out. [`init`] checks this against the memory map.
//! - *Virtual mapping.* The bootloader maps it contiguously (physical
//!   frames in order, 4 KiB pages) in its dynamic range of the kernel half
//!   (PML4 slots 256..320, see [`crate::mem::layout`]). The kernel keeps the
//!   bootloader's PML4 as its own, every user address space copies the
//!   kernel half, and nothing unmaps the bootloader's range, so the mapping
//!   is valid on every CPU and in every address space.

use bootloader_api::BootInfo;
use bootloader_api::info::MemoryRegionKind;
use spin::Once;
use x86_64::VirtAddr;

use crate::mem::layout::PAGE_SIZE;
use crate::mem::paging;

static RAMDISK: Once<&'static [u8]> = Once::new();

/// The bootloader's ramdisk (the initramfs); empty if the image had none.
pub fn ramdisk() -> &'static [u8] {
    RAMDISK.get().copied().unwrap_or(&[])
}

/// Records the ramdisk from `boot_info`, after checking that it is mapped
/// contiguously and that none of its frames is usable RAM the frame
/// allocator could hand out. Call after [`crate::mem::init`].
pub(crate) fn init(boot_info: &BootInfo) {
    let len = boot_info.ramdisk_len;
    let ramdisk: &'static [u8] = match boot_info.ramdisk_addr.into_option() {
        Some(start) if len > 0 => {
            let phys = check_reserved(boot_info, VirtAddr::new(start), len);
            log::info!("{} KiB at physical {phys:#x}", len.div_ceil(1024));
            // SAFETY: `len` bytes at `start` are mapped (checked above, page
            // by page) to frames the frame allocator never hands out
            // (checked above: no usable region overlaps them), in the kernel
            // half, which is never unmapped (module docs); so they stay valid
            // for the kernel's lifetime. Nothing writes them: the kernel only
            // ever gets this shared slice.
            unsafe { core::slice::from_raw_parts(start as *const u8, len as usize) }
        }
        _ => &[],
    };
    RAMDISK.call_once(|| ramdisk);
}

/// Panics unless the `len` bytes at `start` are mapped, page by page, to
/// one physical range that no `Usable` memory region overlaps; returns its
/// physical start.
fn check_reserved(boot_info: &BootInfo, start: VirtAddr, len: u64) -> u64 {
    let phys_start = paging::translate(start).expect("ramdisk is not mapped").as_u64();
    for offset in (0..len).step_by(PAGE_SIZE as usize) {
        let phys = paging::translate(start + offset).map(|p| p.as_u64());
        assert_eq!(phys, Some(phys_start + offset), "ramdisk page {offset:#x} is not mapped contiguously");
    }
    let phys_end = phys_start + len;
    let overlap = boot_info
        .memory_regions
        .iter()
        .find(|r| r.kind == MemoryRegionKind::Usable && r.start < phys_end && phys_start < r.end);
    if let Some(region) = overlap {
        panic!("ramdisk {phys_start:#x}..{phys_end:#x} overlaps usable memory {:#x}..{:#x}", region.start, region.end);
    }
    phys_start
}

#[cfg(feature = "ktest")]
mod ktests {
    crate::ktest! {
        fn ramdisk_is_a_readable_cpio_archive() {
            let ramdisk = super::ramdisk();
            assert!(!ramdisk.is_empty(), "no ramdisk: xtask boots every kernel with an initramfs");
            assert_eq!(&ramdisk[..6], b"070701", "the ramdisk is not a cpio newc archive");
            // The last byte is mapped too: an archive ends with the trailer's
            // NUL padding.
            assert_eq!(ramdisk.last(), Some(&0));
        }
    }
}

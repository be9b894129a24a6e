//! Reads that survive a page fault: the faulting load is found in the page
//! fault handler by its address and resumed past, with the result marked
//! as faulted, instead of stopping the machine (the exception-table idea
//! that user-memory copies will use too).

use crate::trap::TrapFrame;

/// What a probing load returns (in RAX:RDX).
#[cfg(feature = "ktest")]
#[repr(C)]
struct Probed {
    value: u64,
    faulted: u64,
}

core::arch::global_asm!(
    ".pushsection .text.hardtack_probe, \"ax\"",
    ".balign 16",
    ".global hardtack_probe_read_u64",
    "hardtack_probe_read_u64:",
    "xor edx, edx",
    ".global hardtack_probe_read_u64_load",
    "hardtack_probe_read_u64_load:",
    "mov rax, [rdi]",
    ".global hardtack_probe_read_u64_resume",
    "hardtack_probe_read_u64_resume:",
    "ret",
    ".popsection",
);

unsafe extern "C" {
    #[cfg(feature = "ktest")]
    fn hardtack_probe_read_u64(addr: u64) -> Probed;
    static hardtack_probe_read_u64_load: u8;
    static hardtack_probe_read_u64_resume: u8;
}

/// Reads the u64 at kernel address `addr`; `None` if the read faults
/// (unmapped page). `addr` must be 8-byte aligned.
#[cfg(feature = "ktest")]
pub(crate) fn read_u64(addr: x86_64::VirtAddr) -> Option<u64> {
    assert!(addr.is_aligned(8u64), "probe of unaligned address {addr:?}");
    // SAFETY: the function performs one load from `addr`, which is a
    // kernel address; a page fault there is caught by `fix_up` and only
    // sets `faulted`. The load reads no Rust-owned memory mutably.
    let probed = unsafe { hardtack_probe_read_u64(addr.as_u64()) };
    (probed.faulted == 0).then_some(probed.value)
}

/// Called for every page fault: if it hit a probing load, resumes after it
/// with the fault flag set and returns true.
pub(crate) fn fix_up(frame: &mut TrapFrame) -> bool {
    let load = &raw const hardtack_probe_read_u64_load as u64;
    if frame.rip != load {
        return false;
    }
    frame.rip = &raw const hardtack_probe_read_u64_resume as u64;
    frame.rdx = 1;
    true
}

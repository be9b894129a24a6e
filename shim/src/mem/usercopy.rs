//! Copies between kernel memory and the active user address space that
//! turn a bad user pointer into an error instead of a kernel fault.
//!
//! The range is checked to lie in the user half; the copy itself is one
//! `rep movsb` whose page faults the fault handler resumes past (the
//! exception-table technique), leaving the count of bytes not copied.
//! With SMAP on, the kernel may touch user pages only inside these copies
//! (`stac` … `clac`); anywhere else the access faults.

use core::sync::atomic::{AtomicBool, Ordering};

use super::aspace::USER_END;
use crate::trap::TrapFrame;

/// A user pointer that cannot be used: outside the user half, or unmapped
/// or without the needed access somewhere in the range (Linux's EFAULT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadAddress;

static SMAP: AtomicBool = AtomicBool::new(false);

core::arch::global_asm!(
    ".pushsection .text.hardtack_usercopy, \"ax\"",
    ".balign 16",
    // (dst: rdi, src: rsi, len: rdx) -> bytes not copied (rax)
    ".global hardtack_copy_bytes",
    "hardtack_copy_bytes:",
    "mov rcx, rdx",
    ".global hardtack_copy_bytes_insn",
    "hardtack_copy_bytes_insn:",
    "rep movsb",
    ".global hardtack_copy_bytes_resume",
    "hardtack_copy_bytes_resume:",
    "mov rax, rcx",
    "ret",
    // (user: rdi, expected: esi, new: edx, old: rcx) -> 0, or 1 on a fault;
    // the value found is stored at `old` (a kernel pointer)
    ".global hardtack_cmpxchg_u32",
    "hardtack_cmpxchg_u32:",
    "mov eax, esi",
    ".global hardtack_cmpxchg_u32_insn",
    "hardtack_cmpxchg_u32_insn:",
    "lock cmpxchg [rdi], edx",
    "mov [rcx], eax",
    "xor eax, eax",
    "ret",
    ".global hardtack_cmpxchg_u32_resume",
    "hardtack_cmpxchg_u32_resume:",
    "mov eax, 1",
    "ret",
    ".popsection",
);

unsafe extern "C" {
    fn hardtack_copy_bytes(dst: *mut u8, src: *const u8, len: usize) -> usize;
    static hardtack_copy_bytes_insn: u8;
    static hardtack_copy_bytes_resume: u8;
    fn hardtack_cmpxchg_u32(user: *mut u32, expected: u32, new: u32, old: *mut u32) -> u32;
    static hardtack_cmpxchg_u32_insn: u8;
    static hardtack_cmpxchg_u32_resume: u8;
}

/// Records whether SMAP is on (set by `cpu::init`), so copies open and
/// close user access with `stac`/`clac`.
pub(crate) fn set_smap(on: bool) {
    SMAP.store(on, Ordering::Relaxed);
}

fn check(user: u64, len: usize) -> Result<(), BadAddress> {
    match user.checked_add(len as u64) {
        Some(end) if end <= USER_END => Ok(()),
        _ => Err(BadAddress),
    }
}

/// Copies `len` bytes with user access open; returns the bytes not copied.
///
/// # Safety
/// The kernel side of the copy is valid for `len` bytes; the user side is
/// in the user half (faults there are caught).
unsafe fn copy(dst: *mut u8, src: *const u8, len: usize) -> usize {
    let smap = SMAP.load(Ordering::Relaxed);
    // SAFETY: `stac`/`clac` only toggle RFLAGS.AC (SMAP is on, so the
    // instructions exist); the copy's faults are fixed up by `fix_up`.
    unsafe {
        if smap {
            core::arch::asm!("stac", options(nomem, nostack));
        }
        let left = hardtack_copy_bytes(dst, src, len);
        if smap {
            core::arch::asm!("clac", options(nomem, nostack));
        }
        left
    }
}

/// Copies `dst.len()` bytes from user address `src`.
pub fn copy_from_user(dst: &mut [u8], src: u64) -> Result<(), BadAddress> {
    check(src, dst.len())?;
    // SAFETY: `dst` is a live kernel buffer of that length; `src` is in
    // the user half (checked).
    match unsafe { copy(dst.as_mut_ptr(), src as *const u8, dst.len()) } {
        0 => Ok(()),
        _ => Err(BadAddress),
    }
}

/// Copies `src` to user address `dst`.
pub fn copy_to_user(dst: u64, src: &[u8]) -> Result<(), BadAddress> {
    check(dst, src.len())?;
    // SAFETY: `src` is a live kernel buffer of that length; `dst` is in
    // the user half (checked), so no kernel memory is written.
    match unsafe { copy(dst as *mut u8, src.as_ptr(), src.len()) } {
        0 => Ok(()),
        _ => Err(BadAddress),
    }
}

/// Atomically replaces the aligned `u32` at user address `user` with `new`
/// if it holds `expected` (`lock cmpxchg`, as a futex operation needs
/// against the process's other threads); returns the value it held.
pub fn compare_exchange_user_u32(user: u64, expected: u32, new: u32) -> Result<u32, BadAddress> {
    check(user, 4)?;
    if !user.is_multiple_of(4) {
        return Err(BadAddress);
    }
    let mut old = 0u32;
    let smap = SMAP.load(Ordering::Relaxed);
    // SAFETY: `user` is an aligned word of the user half (checked), so no
    // kernel memory is touched; a fault there is fixed up by `fix_up`;
    // `old` is a live kernel word; `stac`/`clac` as in `copy`.
    let faulted = unsafe {
        if smap {
            core::arch::asm!("stac", options(nomem, nostack));
        }
        let faulted = hardtack_cmpxchg_u32(user as *mut u32, expected, new, &mut old);
        if smap {
            core::arch::asm!("clac", options(nomem, nostack));
        }
        faulted
    };
    if faulted != 0 { Err(BadAddress) } else { Ok(old) }
}

/// Called for every page fault: if it hit a user access, resumes after it
/// (a copy with the remaining count, a compare-exchange with its failure)
/// and returns true.
pub(crate) fn fix_up(frame: &mut TrapFrame) -> bool {
    let resume = match frame.rip {
        rip if rip == &raw const hardtack_copy_bytes_insn as u64 => &raw const hardtack_copy_bytes_resume as u64,
        rip if rip == &raw const hardtack_cmpxchg_u32_insn as u64 => &raw const hardtack_cmpxchg_u32_resume as u64,
        _ => return false,
    };
    frame.rip = resume;
    true
}

#[cfg(feature = "ktest")]
mod ktests {
    use x86_64::VirtAddr;

    use super::{BadAddress, compare_exchange_user_u32, copy_from_user, copy_to_user};
    use crate::ktest;
    use crate::mem::aspace::{AddressSpace, UserAccess};
    use crate::mem::{frame, probe};

    ktest! {
        fn user_copies_work_and_bad_user_pointers_are_errors() {
            const BASE: u64 = 0x40_0000;
            let frames_before = frame::free_count();
            let mut space = AddressSpace::new().expect("address space");
            space.map(VirtAddr::new(BASE), UserAccess::READ_WRITE).expect("map");
            space.map(VirtAddr::new(BASE + 0x1000), UserAccess::READ).expect("map");
            assert_eq!(space.translate(VirtAddr::new(BASE + 8)).map(|(_, a)| a), Some(UserAccess::READ_WRITE));
            assert_eq!(space.map(VirtAddr::new(BASE), UserAccess::READ), Err(crate::mem::paging::MapError::AlreadyMapped));
            assert!(space.map(VirtAddr::new(BASE + 0x2000), UserAccess { write: true, exec: true }).is_err(), "W^X");
            {
                crate::task::set_address_space(Some(&space));
                assert_eq!(copy_to_user(BASE + 0xff8, b"hello, user"), Err(BadAddress), "crosses into a read-only page");
                copy_to_user(BASE + 8, b"hello, user").expect("copy out");
                assert_eq!(compare_exchange_user_u32(BASE + 0x100, 0, 7), Ok(0), "swapped");
                assert_eq!(compare_exchange_user_u32(BASE + 0x100, 0, 9), Ok(7), "not swapped: the word is 7");
                assert_eq!(compare_exchange_user_u32(BASE + 0x1000, 0, 1), Err(BadAddress), "a read-only page");
                assert_eq!(compare_exchange_user_u32(BASE + 0x3000, 0, 1), Err(BadAddress), "unmapped");
                assert_eq!(compare_exchange_user_u32(BASE + 0x102, 0, 1), Err(BadAddress), "misaligned");
                assert_eq!(compare_exchange_user_u32(0xffff_8000_0000_0000, 0, 1), Err(BadAddress), "kernel");
                let mut back = [0u8; 11];
                copy_from_user(&mut back, BASE + 8).expect("copy in");
                assert_eq!(&back, b"hello, user");
                let mut two_pages = [0u8; 16];
                copy_from_user(&mut two_pages, BASE + 0xff8).expect("copy across two mapped pages");
                assert_eq!(copy_from_user(&mut back, BASE + 0x3000), Err(BadAddress), "unmapped");
                assert_eq!(copy_from_user(&mut back, 0xffff_8000_0000_0000), Err(BadAddress), "kernel address");
                assert_eq!(copy_from_user(&mut back, u64::MAX - 4), Err(BadAddress), "wraps around");
                assert_eq!(copy_from_user(&mut back, 0x7fff_ffff_fffc), Err(BadAddress), "runs past the user half");
                let smap = super::SMAP.load(core::sync::atomic::Ordering::Relaxed);
                ktest::note(format_args!("SMAP {}", if smap { "on" } else { "not supported by this CPU" }));
                if smap {
                    // Outside a user copy the kernel cannot read user memory.
                    assert_eq!(probe::read_u64(VirtAddr::new(BASE + 8)), None, "SMAP lets the kernel read a user page");
                }
                crate::task::set_address_space(None);
            }
            space.unmap(VirtAddr::new(BASE + 0x1000)).expect("unmap");
            assert_eq!(space.unmap(VirtAddr::new(BASE + 0x1000)), Err(crate::mem::paging::MapError::NotMapped));
            drop(space);
            assert_eq!(frame::free_count(), frames_before, "pages, page tables and the PML4 are freed");
        }
    }
}

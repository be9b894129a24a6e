//! Frame-pointer backtraces (every kernel crate is built with
//! `-C force-frame-pointers=yes`). Addresses are printed raw, one per line as
//! `  #N 0x...`; xtask symbolizes them against the unstripped kernel ELF,
//! which is linked at its run address, so no relocation is needed.

use x86_64::VirtAddr;

use crate::mem::layout::is_kernel_address;
use crate::mem::paging::is_mapped_lockless;

/// Deepest backtrace printed.
const MAX_FRAMES: usize = 48;

/// Whether a saved frame pointer can be followed without faulting.
fn plausible_frame(rbp: u64) -> bool {
    rbp.is_multiple_of(8)
        && is_kernel_address(rbp)
        && is_mapped_lockless(VirtAddr::new(rbp))
        && is_mapped_lockless(VirtAddr::new(rbp + 8))
}

/// Prints a backtrace starting at instruction `rip` with frame pointer `rbp`.
pub(crate) fn print_from(rip: u64, mut rbp: u64) {
    println!("backtrace:");
    println!("  #0 {rip:#018x}");
    for depth in 1..MAX_FRAMES {
        if rbp == 0 || !plausible_frame(rbp) {
            return;
        }
        let frame = rbp as *const u64;
        // SAFETY: `frame` and `frame + 1` are mapped kernel memory (checked
        // above); a frame-pointer chain stores [saved rbp, return address].
        let (next, ret) = unsafe { (frame.read(), frame.add(1).read()) };
        if ret == 0 {
            return;
        }
        // The return address points after the call; `- 1` lands in it.
        println!("  #{depth} {:#018x}", ret - 1);
        if next <= rbp {
            return; // the chain must go up the stack
        }
        rbp = next;
    }
}

/// Prints a backtrace of the caller (the panic handler's; the host has none).
#[cfg(target_os = "none")]
#[inline(never)]
pub(crate) fn print_here() {
    let rbp: u64;
    // SAFETY: reading RBP has no side effects.
    unsafe { core::arch::asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack, preserves_flags)) };
    let here = print_here as *const () as u64;
    print_from(here, rbp);
}

//! Symmetric multiprocessing: starting the application processors (APs)
//! the MADT lists, the set of CPUs online, cross-CPU calls, and stopping
//! the other CPUs when one panics.
//!
//! [`start_others`] brings the APs up one at a time: a fresh kernel stack
//! offered through the [trampoline](trampoline), INIT, 10 ms, a start-up
//! IPI, 200 µs, a second one if the CPU has not shown up, then up to
//! [`START_TIMEOUT_NS`] for it to come online. A CPU that does not is
//! reported and skipped. Each AP then runs [`ap_main`]: the kernel's page
//! tables and control registers, its per-CPU block, its own GDT and TSS
//! (with IST stacks), the shared IDT, its local APIC; then it joins the
//! online set and calls the entry function (the scheduler). See docs/smp.md.

mod trampoline;
pub(crate) mod xcall;

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use x86_64::registers::control::{Cr3, Cr4, Cr4Flags};

use crate::mem::stack::KernelStack;
use crate::percpu::MAX_CPUS;
use trampoline::Trampoline;

/// How long an AP may take from its first start-up IPI to coming online.
pub(crate) const START_TIMEOUT_NS: u64 = 5_000_000_000;
/// Pages of the stack an AP boots on (which becomes its idle loop's).
const AP_STACK_PAGES: u64 = 16;

/// CPUs online, by index (bit `i` = CPU `i`).
static ONLINE: AtomicU64 = AtomicU64::new(1);
/// CPU indices handed out so far (the bootstrap CPU is 0).
static NEXT_INDEX: AtomicUsize = AtomicUsize::new(1);
/// What the bootstrap CPU's control registers say, for the APs to copy.
static KERNEL_CR3: AtomicU64 = AtomicU64::new(0);
static KERNEL_CR4: AtomicU64 = AtomicU64::new(0);
/// The function APs run once up (`fn() -> !` as usize).
static AP_ENTRY: AtomicUsize = AtomicUsize::new(0);

/// The set of online CPUs (bit per index).
pub(crate) fn online_mask() -> u64 {
    ONLINE.load(Ordering::SeqCst)
}

/// Number of CPUs online.
pub(crate) fn online_count() -> usize {
    online_mask().count_ones() as usize
}

/// Set by the first [`start_others`].
static STARTED: AtomicBool = AtomicBool::new(false);

/// Starts every CPU of the MADT other than this one; each runs `entry`
/// (with interrupts enabled, on its boot stack) once it is up. Returns the
/// number of CPUs online.
///
/// # Panics
/// Unless called on the bootstrap CPU, and the first time: a second
/// round of INIT would reset CPUs that run kernel code.
pub fn start_others(entry: fn() -> !) -> usize {
    assert!(crate::percpu::index() == 0, "smp::start_others on an application processor");
    assert!(!STARTED.swap(true, Ordering::AcqRel), "smp::start_others called twice");
    let me = crate::apic::current_id();
    let others = crate::acpi::cpus().iter().filter(|cpu| cpu.apic_id != me);
    if others.clone().next().is_none() {
        return online_count();
    }
    AP_ENTRY.store(entry as usize, Ordering::SeqCst);
    KERNEL_CR3.store(Cr3::read_raw().0.start_address().as_u64(), Ordering::SeqCst);
    KERNEL_CR4.store(Cr4::read_raw(), Ordering::SeqCst);
    let Some(trampoline) = Trampoline::install(ap_main) else {
        log::warn!("no free page below 640 KiB for the start-up code; running on one CPU");
        return online_count();
    };
    log::debug!("start-up code at {:#x}", trampoline.base().as_u64());
    for cpu in others {
        let index = NEXT_INDEX.load(Ordering::Relaxed);
        if index >= MAX_CPUS {
            log::warn!("CPU with APIC id {} is beyond MAX_CPUS ({MAX_CPUS}); skipped", cpu.apic_id);
            continue;
        }
        match start_one(&trampoline, cpu.apic_id, index) {
            Ok(()) => {}
            Err(reason) => log::warn!("CPU with APIC id {} {reason}; skipped", cpu.apic_id),
        }
    }
    online_count()
}

/// Starts the CPU `apic_id` as CPU `index`.
fn start_one(trampoline: &Trampoline, apic_id: u32, index: usize) -> Result<(), &'static str> {
    let stack =
        KernelStack::new(AP_STACK_PAGES, crate::cpu::AP_BOOT_STACK_TAG).map_err(|_| "could not get a boot stack")?;
    let top = stack.top().as_u64();
    // SAFETY: the two words below the top of the freshly mapped stack are
    // ours; the index is read by the trampoline as `[rsp + 8]`.
    unsafe { ((top - 8) as *mut u64).write_volatile(index as u64) };
    trampoline.offer_stack(top - 16);
    let bit = 1u64 << index;
    let arrived = || online_mask() & bit != 0;
    crate::apic::send_init(apic_id);
    crate::time::spin_for_ns(10_000_000);
    crate::apic::send_startup(apic_id, trampoline.startup_page());
    crate::time::spin_for_ns(200_000);
    if !arrived() {
        crate::apic::send_startup(apic_id, trampoline.startup_page());
    }
    let start = crate::time::now_ns();
    while !arrived() && crate::time::now_ns() - start < START_TIMEOUT_NS {
        core::hint::spin_loop();
    }
    let taken = !trampoline.withdraw_stack();
    // The index is used up once a CPU took the stack that carries it.
    if taken {
        NEXT_INDEX.fetch_add(1, Ordering::Relaxed);
        core::mem::forget(stack); // the AP runs on it for good
    }
    match (arrived(), taken) {
        (true, _) => Ok(()),
        (false, true) => Err("started but did not come online in time"),
        (false, false) => Err("did not start"),
    }
}

/// First Rust code of an AP, on its boot stack, still on the trampoline's
/// page tables.
extern "C" fn ap_main(index: u64) -> ! {
    let index = index as usize;
    // SAFETY: the kernel PML4 maps everything the kernel half of the
    // trampoline's tables does (they are copies of its entries), including
    // this code and stack; the low identity mapping is no longer needed.
    // The bootstrap CPU's CR4 is valid on this identical CPU, and the
    // trampoline left us in long mode with PAE on, as it requires.
    unsafe {
        let pml4 = x86_64::PhysAddr::new(KERNEL_CR3.load(Ordering::SeqCst));
        Cr3::write(x86_64::structures::paging::PhysFrame::containing_address(pml4), Cr3::read().1);
        Cr4::write(Cr4Flags::from_bits_truncate(KERNEL_CR4.load(Ordering::SeqCst)));
    }
    crate::percpu::init_this_cpu(index);
    crate::cpu::init();
    crate::trap::init();
    crate::apic::init_ap();
    let apic_id = crate::apic::current_id();
    // From the moment this CPU is in the online set it receives TLB
    // shootdowns; flushing everything (global entries too) after joining
    // drops whatever it cached before.
    ONLINE.fetch_or(1 << index, Ordering::SeqCst);
    crate::mem::tlb::flush_all_local();
    log::info!("CPU {index} up (APIC id {apic_id})");
    crate::irq::enable();
    let entry = AP_ENTRY.load(Ordering::SeqCst);
    // SAFETY: `start_others` stored an `fn() -> !` before any AP started.
    let entry = unsafe { core::mem::transmute::<usize, fn() -> !>(entry) };
    entry()
}

/// Stops every other CPU (an NMI each; the NMI handler halts them when a
/// panic is in progress), so one report is printed undisturbed.
pub(crate) fn stop_others() {
    if online_count() > 1 {
        crate::apic::send_nmi_to_others();
    }
}

#[cfg(feature = "ktest")]
mod ktests {
    use crate::ktest;

    ktest! {
        fn every_madt_cpu_is_online() {
            let expected = crate::acpi::cpus().len();
            assert_eq!(super::online_count(), expected, "online mask {:#b}", super::online_mask());
            for index in 0..expected {
                let id = crate::apic::id_of(index).expect("dense CPU indices");
                assert!(crate::acpi::cpus().iter().any(|c| c.apic_id == id), "CPU {index} has a MADT APIC id");
            }
        }
    }
}

//! The local APIC (x2APIC when the CPU has it, xAPIC through an uncached
//! MMIO mapping otherwise — QEMU 7.2's TCG has no x2APIC) and its timer; the
//! legacy 8259 PIC is remapped out of the exception range and masked.
//!
//! Hardtack drives the APIC registers itself instead of using the `x2apic`
//! crate: that crate's xAPIC IPI path writes the destination to the wrong
//! bits, its handle is `!Send`, and every call is `unsafe`; the register
//! interface needed here is a few dozen lines (see docs/architecture.md).

use core::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};

use x86_64::PhysAddr;
use x86_64::instructions::port::Port;
use x86_64::registers::model_specific::Msr;
use x86_64::structures::paging::PhysFrame;

use crate::mem::{kva, paging};
use crate::percpu::{self, MAX_CPUS};
use crate::trap::{APIC_ERROR_VECTOR, PIC_BASE, SPURIOUS_VECTOR, TIMER_VECTOR};

const IA32_APIC_BASE: u32 = 0x1b;
const BASE_ENABLE: u64 = 1 << 11;
const BASE_X2APIC: u64 = 1 << 10;

/// Register offsets (xAPIC MMIO; x2APIC MSR = 0x800 + offset / 16).
mod reg {
    pub const ID: u32 = 0x20;
    pub const TPR: u32 = 0x80;
    pub const IRR0: u32 = 0x200;
    pub const EOI: u32 = 0xb0;
    pub const SVR: u32 = 0xf0;
    pub const ESR: u32 = 0x280;
    pub const ICR_LOW: u32 = 0x300;
    pub const ICR_HIGH: u32 = 0x310;
    pub const LVT_TIMER: u32 = 0x320;
    pub const LVT_LINT0: u32 = 0x350;
    pub const LVT_LINT1: u32 = 0x360;
    pub const LVT_ERROR: u32 = 0x370;
    pub const TIMER_INITIAL: u32 = 0x380;
    pub const TIMER_CURRENT: u32 = 0x390;
    pub const TIMER_DIVIDE: u32 = 0x3e0;
}

const LVT_MASKED: u32 = 1 << 16;
/// ICR: level "assert" (required for fixed IPIs on xAPIC).
const ICR_ASSERT: u32 = 1 << 14;
/// ICR delivery modes: NMI, INIT, start-up.
const ICR_NMI: u32 = 0b100 << 8;
const ICR_INIT: u32 = 0b101 << 8;
const ICR_STARTUP: u32 = 0b110 << 8;
/// ICR destination shorthand "all excluding self".
const ICR_ALL_BUT_SELF: u32 = 0b11 << 18;
/// ICR: the previous IPI is still being sent (xAPIC only).
const ICR_PENDING: u32 = 1 << 12;
const SVR_ENABLE: u32 = 1 << 8;
/// Divide configuration value for "divide by 16".
const DIVIDE_BY_16: u32 = 0b0011;

const MODE_NONE: u8 = 0;
const MODE_XAPIC: u8 = 1;
const MODE_X2APIC: u8 = 2;

static MODE: AtomicU8 = AtomicU8::new(MODE_NONE);
static XAPIC_REGS: AtomicU64 = AtomicU64::new(0);
/// Timer input ticks (after the divider) per second.
static TIMER_HZ: AtomicU64 = AtomicU64::new(0);
static TICKS: AtomicU64 = AtomicU64::new(0);
/// APIC id of each CPU, by CPU index (filled as each CPU's APIC comes up).
static APIC_IDS: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(u32::MAX) }; MAX_CPUS];

fn read(offset: u32) -> u32 {
    match MODE.load(Ordering::Relaxed) {
        // SAFETY: in x2APIC mode every register is an MSR at 0x800 + offset/16;
        // reads have no side effects.
        MODE_X2APIC => unsafe { Msr::new(0x800 + (offset >> 4)).read() as u32 },
        // SAFETY: XAPIC_REGS is the uncached mapping of this CPU's APIC page
        // and `offset` is a register inside it.
        MODE_XAPIC => unsafe { ((XAPIC_REGS.load(Ordering::Relaxed) + offset as u64) as *const u32).read_volatile() },
        _ => 0,
    }
}

fn write(offset: u32, value: u32) {
    match MODE.load(Ordering::Relaxed) {
        // SAFETY: as in `read`; the callers write architecturally valid values.
        MODE_X2APIC => unsafe { Msr::new(0x800 + (offset >> 4)).write(value as u64) },
        // SAFETY: as in `read`.
        MODE_XAPIC => unsafe {
            ((XAPIC_REGS.load(Ordering::Relaxed) + offset as u64) as *mut u32).write_volatile(value)
        },
        _ => {}
    }
}

fn cpu_has_x2apic() -> bool {
    let leaf = core::arch::x86_64::__cpuid(1);
    leaf.ecx & (1 << 21) != 0
}

/// Remaps the 8259 PICs to vectors 0x20..0x30 and masks every line.
fn disable_legacy_pic() {
    let (mut cmd1, mut data1) = (Port::<u8>::new(0x20), Port::<u8>::new(0x21));
    let (mut cmd2, mut data2) = (Port::<u8>::new(0xa0), Port::<u8>::new(0xa1));
    // SAFETY: the standard ICW1..ICW4 initialization sequence of the two
    // cascaded 8259s, followed by masking all their lines.
    unsafe {
        cmd1.write(0x11);
        cmd2.write(0x11);
        data1.write(PIC_BASE);
        data2.write(PIC_BASE + 8);
        data1.write(4);
        data2.write(2);
        data1.write(1);
        data2.write(1);
        data1.write(0xff);
        data2.write(0xff);
    }
}

/// Enables the bootstrap CPU's local APIC, masks the PIC, calibrates the
/// timer against the TSC clock and leaves it stopped: the scheduler arms it
/// one-shot, for its timers and time slices.
pub(crate) fn init() {
    disable_legacy_pic();
    enable_local_apic();
    calibrate_timer();
}

/// Enables an application processor's local APIC in the mode the
/// bootstrap CPU chose; its timer shares the bootstrap CPU's calibration
/// (one bus clock) and is left stopped.
pub(crate) fn init_ap() {
    enable_local_apic();
    write(reg::TIMER_DIVIDE, DIVIDE_BY_16);
    stop_timer();
}

/// Switches this CPU's APIC on (x2APIC if the CPU has it, else xAPIC
/// through one shared MMIO mapping: every CPU sees its own APIC at the
/// same address), masks its local interrupt lines and records its id.
fn enable_local_apic() {
    let mut base_msr = Msr::new(IA32_APIC_BASE);
    // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU; reading is harmless.
    let base = unsafe { base_msr.read() };
    if cpu_has_x2apic() {
        // SAFETY: setting EN and EXTD switches the APIC to x2APIC mode, which
        // the CPU advertised; no one uses the MMIO interface afterwards.
        unsafe { base_msr.write(base | BASE_ENABLE | BASE_X2APIC) };
        MODE.store(MODE_X2APIC, Ordering::Relaxed);
    } else {
        if XAPIC_REGS.load(Ordering::Relaxed) == 0 {
            let phys = PhysAddr::new(base & 0xf_ffff_f000);
            let virt = kva::reserve(1).expect("kernel address space for the APIC");
            // SAFETY: IA32_APIC_BASE names the local APIC's register page,
            // device memory the frame allocator never hands out (it is no
            // usable RAM); only this module touches it.
            unsafe { paging::map_device(paging::page_of(virt.as_u64()), PhysFrame::containing_address(phys)) }
                .expect("map the local APIC");
            XAPIC_REGS.store(virt.as_u64(), Ordering::Relaxed);
        }
        // SAFETY: sets the global-enable bit in xAPIC mode, base unchanged.
        unsafe { base_msr.write(base | BASE_ENABLE) };
        MODE.store(MODE_XAPIC, Ordering::Relaxed);
    }
    write(reg::SVR, SVR_ENABLE | SPURIOUS_VECTOR as u32);
    write(reg::TPR, 0);
    write(reg::LVT_LINT0, LVT_MASKED);
    write(reg::LVT_LINT1, LVT_MASKED);
    write(reg::LVT_ERROR, APIC_ERROR_VECTOR as u32);
    write(reg::ESR, 0);
    APIC_IDS[percpu::index()].store(current_id(), Ordering::Relaxed);
}

fn calibrate_timer() {
    const WINDOW_NS: u64 = 10_000_000;
    write(reg::TIMER_DIVIDE, DIVIDE_BY_16);
    write(reg::LVT_TIMER, LVT_MASKED | TIMER_VECTOR as u32);
    write(reg::TIMER_INITIAL, u32::MAX);
    // Read the count and the clock together at both ends, so the cost of
    // the register accesses (an emulated MMIO exit under QEMU) cancels out.
    let (count0, t0) = (read(reg::TIMER_CURRENT), crate::time::now_ns());
    crate::time::spin_for_ns(WINDOW_NS);
    let (count1, t1) = (read(reg::TIMER_CURRENT), crate::time::now_ns());
    write(reg::TIMER_INITIAL, 0);
    TIMER_HZ.store((count0 - count1) as u64 * 1_000_000_000 / (t1 - t0).max(1), Ordering::Relaxed);
}

/// Which APIC interface is in use.
pub(crate) fn mode_name() -> &'static str {
    match MODE.load(Ordering::Relaxed) {
        MODE_X2APIC => "x2APIC",
        MODE_XAPIC => "xAPIC",
        _ => "none",
    }
}

/// This CPU's APIC id (0 before the APIC is up).
pub(crate) fn current_id() -> u32 {
    match MODE.load(Ordering::Relaxed) {
        MODE_XAPIC => read(reg::ID) >> 24,
        _ => read(reg::ID),
    }
}

/// The APIC id of CPU `index`, once its APIC is up.
#[cfg(feature = "ktest")]
pub(crate) fn id_of(index: usize) -> Option<u32> {
    let id = APIC_IDS.get(index)?.load(Ordering::Relaxed);
    (id != u32::MAX).then_some(id)
}

/// Signals end of interrupt.
pub(crate) fn end_of_interrupt() {
    write(reg::EOI, 0);
}

/// Sends interrupt `vector` to the CPU with index `cpu` (a no-op for a CPU
/// whose APIC is not up).
///
/// # Panics
/// If `vector` is not one of the timer, IPI and device vectors (0x30 up to
/// the APIC's own at 0xfe): an exception vector sent as an interrupt would
/// enter its handler with no error code where the CPU pushes one.
pub fn send_ipi(cpu: usize, vector: u8) {
    assert!((TIMER_VECTOR..APIC_ERROR_VECTOR).contains(&vector), "IPI on reserved vector {vector:#x}");
    let id = APIC_IDS[cpu].load(Ordering::Relaxed);
    if id != u32::MAX {
        send_icr(Destination::Apic(id), ICR_ASSERT | vector as u32);
    }
}

/// Sends an NMI to every CPU but this one (the panic path's stop request).
pub(crate) fn send_nmi_to_others() {
    send_icr(Destination::AllButSelf, ICR_ASSERT | ICR_NMI);
}

/// Sends INIT to the CPU with APIC id `apic_id`: it resets and waits for
/// a start-up IPI.
pub(crate) fn send_init(apic_id: u32) {
    send_icr(Destination::Apic(apic_id), ICR_ASSERT | ICR_INIT);
}

/// Sends a start-up IPI: the CPU `apic_id`, waiting after INIT, starts in
/// real mode at physical address `page << 12`.
pub(crate) fn send_startup(apic_id: u32, page: u8) {
    send_icr(Destination::Apic(apic_id), ICR_ASSERT | ICR_STARTUP | page as u32);
}

/// Whom an IPI goes to.
enum Destination {
    /// One CPU, by APIC id.
    Apic(u32),
    /// Every CPU except the sender (the ICR's destination shorthand).
    AllButSelf,
}

/// Writes the interrupt command register. Stores made before the call are
/// visible to the target when the interrupt arrives.
fn send_icr(destination: Destination, low: u32) {
    let (low, id) = match destination {
        Destination::Apic(id) => (low, id),
        Destination::AllButSelf => (low | ICR_ALL_BUT_SELF, 0),
    };
    // A WRMSR to the x2APIC ICR is not serializing: fence the stores the
    // target will read (an uncached MMIO write is ordered anyway).
    core::sync::atomic::fence(Ordering::SeqCst);
    let _irq = crate::irq::IrqGuard::new();
    match MODE.load(Ordering::Relaxed) {
        // SAFETY: in x2APIC mode the ICR is one 64-bit MSR (0x830) with the
        // destination in the high half; the callers send architecturally
        // valid commands (a fixed IPI to a valid vector, NMI, INIT, SIPI).
        MODE_X2APIC => unsafe { Msr::new(0x830).write(((id as u64) << 32) | low as u64) },
        _ => {
            wait_icr_idle();
            write(reg::ICR_HIGH, id << 24);
            write(reg::ICR_LOW, low);
            wait_icr_idle();
        }
    }
}

/// Waits until the xAPIC has sent the previous IPI.
fn wait_icr_idle() {
    while read(reg::ICR_LOW) & ICR_PENDING != 0 {
        core::hint::spin_loop();
    }
}

/// Whether interrupt `vector` is pending in this CPU's APIC (requested but
/// not yet delivered, e.g. because interrupts are masked).
pub(crate) fn is_pending(vector: u8) -> bool {
    let word = read(reg::IRR0 + 0x10 * (vector as u32 / 32));
    word & (1 << (vector % 32)) != 0
}

/// Timer input frequency after the divider, Hz.
pub(crate) fn timer_hz() -> u64 {
    TIMER_HZ.load(Ordering::Relaxed)
}

/// Fires the timer interrupt once, `ns` nanoseconds from now.
pub fn set_oneshot_ns(ns: u64) {
    let hz = timer_hz().max(1);
    let count = (hz as u128 * ns as u128 / 1_000_000_000).clamp(1, u32::MAX as u128) as u32;
    // The count and the noted deadline must be this CPU's: no migration,
    // and no timer interrupt, in between.
    let _irq = crate::irq::IrqGuard::new();
    // Stopped first, so an interrupt pending now is the previous
    // one-shot's (the latency record must not charge it to this one).
    write(reg::TIMER_INITIAL, 0);
    let stale_pending = is_pending(TIMER_VECTOR);
    write(reg::LVT_TIMER, TIMER_VECTOR as u32);
    let now = crate::time::now_ns();
    write(reg::TIMER_INITIAL, count);
    crate::timer_latency::armed(now + (count as u128 * 1_000_000_000 / hz as u128) as u64, stale_pending);
}

/// Stops the timer.
pub fn stop_timer() {
    let _irq = crate::irq::IrqGuard::new();
    write(reg::LVT_TIMER, LVT_MASKED | TIMER_VECTOR as u32);
    write(reg::TIMER_INITIAL, 0);
    crate::timer_latency::disarmed();
}

/// Timer interrupts taken since boot.
#[cfg(feature = "ktest")]
pub(crate) fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// Counts one timer interrupt and notes its latency (called by the trap
/// dispatcher, first thing in the handler).
pub(crate) fn count_tick() {
    crate::timer_latency::fired();
    TICKS.fetch_add(1, Ordering::Relaxed);
}

#[cfg(feature = "ktest")]
mod ktests {
    use crate::ktest;
    use crate::time::now_ns;

    /// Arms a one-shot of `delay_ns` with interrupts masked and returns
    /// how long it took to show as pending. With interrupts masked the
    /// expiry shows as a pending request, so the scheduler's timer hook
    /// cannot re-arm the timer meanwhile. First the scheduler's one-shot is
    /// stopped and an expiry already pending delivered, so the bit waited
    /// for is this one's.
    fn oneshot_delay(delay_ns: u64) -> u64 {
        let _irq = loop {
            let irq = crate::irq::IrqGuard::new();
            super::stop_timer();
            if !super::is_pending(crate::trap::TIMER_VECTOR) {
                break irq;
            }
        };
        let start = now_ns();
        super::set_oneshot_ns(delay_ns);
        while !super::is_pending(crate::trap::TIMER_VECTOR) {
            assert!(now_ns() - start < 50 * delay_ns, "the one-shot timer never fired");
            core::hint::spin_loop();
        }
        now_ns() - start
    }

    ktest! {
        fn oneshot_timer_fires_after_its_delay() {
            const DELAY_NS: u64 = 20_000_000;
            const TRIES: usize = 3;
            // A calibration check, not a benchmark: only a wrong divider or
            // calibration (2x off) fails, and it is off on every try; a
            // host that stalls this vCPU once makes one try late.
            let mut delays = [0; TRIES];
            for delay in &mut delays {
                *delay = oneshot_delay(DELAY_NS);
                crate::ktest::note(format_args!("one-shot of {} ms fired after {} us", DELAY_NS / 1_000_000, *delay / 1000));
                if *delay * 2 >= DELAY_NS && *delay <= DELAY_NS * 2 {
                    return;
                }
            }
            panic!("a {DELAY_NS} ns one-shot fired after {delays:?} ns");
        }
    }
}

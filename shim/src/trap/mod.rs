//! Traps: the interrupt descriptor table, the dispatcher every vector enters,
//! and the vector plan.
//!
//! | vectors     | use                                                 |
//! |-------------|-----------------------------------------------------|
//! | 0..=31      | CPU exceptions: recovered (stack-overflow probes) or reported, then the machine stops |
//! | 0x20..=0x2f | the legacy PIC, remapped here and masked; stray IRQs are ignored |
//! | 0x30        | local APIC timer (counted, then its [`set_handler`] hook) |
//! | 0x31        | wake-up IPI: only breaks a `hlt` ([`WAKE_VECTOR`])  |
//! | 0x32        | reschedule IPI: requests a reschedule ([`RESCHED_VECTOR`]) |
//! | 0x33        | cross-CPU call IPI, e.g. TLB shootdown ([`CALL_VECTOR`]) |
//! | 0x34..=0xef | free for devices and IPIs ([`set_handler`])          |
//! | 0xfe, 0xff  | local APIC error, spurious                          |
//!
//! An NMI while another CPU panics is that CPU's stop request: the CPU
//! halts for good (see [`crate::panic`]).
//!
//! Interrupt handlers run with interrupts masked, must not allocate and must
//! not block; they may print. While one runs, [`crate::percpu::in_interrupt`]
//! is true (the GC heap and the allocator check it).
//!
//! Preemption happens on the way out: when the outermost handler returns,
//! a reschedule was requested ([`crate::percpu::request_resched`]) and
//! preemption is not disabled, the dispatcher calls the hook installed with
//! [`set_preempt_hook`] — still on the interrupted task's stack, interrupts
//! masked — which may switch tasks; the interrupted code resumes (`iretq`)
//! when the scheduler switches back to it.

mod entry;
pub(crate) mod report;

use core::sync::atomic::{AtomicUsize, Ordering};

use spin::Once;
use x86_64::VirtAddr;
use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;

pub(crate) use entry::TrapFrame;

use crate::cpu;

/// First vector of the (masked) legacy PIC.
pub(crate) const PIC_BASE: u8 = 0x20;
/// Local APIC timer vector.
pub const TIMER_VECTOR: u8 = 0x30;
/// Wake-up IPI vector: handled by acknowledging it; it exists to end a `hlt`.
pub const WAKE_VECTOR: u8 = 0x31;
/// Reschedule IPI vector: the running task is switched out at interrupt
/// return if the scheduler has something else to run.
pub const RESCHED_VECTOR: u8 = 0x32;
/// Cross-CPU call IPI vector ([`crate::smp::xcall`]).
pub(crate) const CALL_VECTOR: u8 = 0x33;
/// First vector free for [`set_handler`] besides the timer.
const FIRST_FREE_VECTOR: u8 = 0x34;
/// Local APIC error vector.
pub(crate) const APIC_ERROR_VECTOR: u8 = 0xfe;
/// Local APIC spurious vector.
pub(crate) const SPURIOUS_VECTOR: u8 = 0xff;

/// Exception vectors.
pub(crate) mod vector {
    /// #DF.
    pub const DOUBLE_FAULT: u64 = 8;
    /// #PF.
    pub const PAGE_FAULT: u64 = 14;
    /// #GP.
    pub const GENERAL_PROTECTION: u64 = 13;
    /// NMI.
    pub const NMI: u64 = 2;
    /// #MC.
    pub const MACHINE_CHECK: u64 = 18;
}

/// A handler for a device or IPI vector; runs with interrupts masked. It
/// is not shown the interrupted registers: changing them could resume the
/// interrupted code anywhere.
pub type Handler = fn();

/// One 16-byte IDT gate.
#[repr(C)]
#[derive(Clone, Copy)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    attributes: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

/// Present, DPL 0, 64-bit interrupt gate (interrupts masked on entry).
const INTERRUPT_GATE: u8 = 0x8e;
/// The same gate with DPL 3: user code may raise it with `int n`.
const USER_INTERRUPT_GATE: u8 = 0xee;

/// Vectors user code may raise itself: `int3` (#BP) and `into` (#OF), so
/// they reach the process as SIGTRAP/SIGSEGV as on Linux, not as #GP.
fn user_may_raise(vector: u64) -> bool {
    matches!(vector, 3 | 4)
}

impl Gate {
    fn new(vector: u64, handler: u64, ist: Option<u16>) -> Gate {
        Gate {
            offset_low: handler as u16,
            selector: cpu::KERNEL_CS.0,
            ist: ist.map_or(0, |index| index as u8 + 1),
            attributes: if user_may_raise(vector) { USER_INTERRUPT_GATE } else { INTERRUPT_GATE },
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        }
    }
}

static IDT: Once<[Gate; 256]> = Once::new();
static HANDLERS: [AtomicUsize; 256] = [const { AtomicUsize::new(0) }; 256];
static PREEMPT_HOOK: AtomicUsize = AtomicUsize::new(0);

fn ist_for(vector: u64) -> Option<u16> {
    match vector {
        vector::DOUBLE_FAULT => Some(cpu::IST_DOUBLE_FAULT),
        vector::NMI => Some(cpu::IST_NMI),
        vector::MACHINE_CHECK => Some(cpu::IST_MACHINE_CHECK),
        _ => None,
    }
}

/// Builds the IDT (once) and loads it on this CPU.
pub(crate) fn init() {
    let idt = IDT
        .call_once(|| core::array::from_fn(|v| Gate::new(v as u64, entry::stub_address(v as u8), ist_for(v as u64))));
    let pointer =
        DescriptorTablePointer { limit: (size_of::<[Gate; 256]>() - 1) as u16, base: VirtAddr::from_ptr(idt) };
    // SAFETY: the IDT is a static that never moves or changes after
    // `call_once`, and every gate points at a valid stub.
    unsafe { lidt(&pointer) };
}

/// Installs `handler` for the timer, a device or an IPI vector (0x30,
/// 0x34..=0xef).
pub fn set_handler(vector: u8, handler: Handler) {
    assert!(
        vector == TIMER_VECTOR || (FIRST_FREE_VECTOR..APIC_ERROR_VECTOR).contains(&vector),
        "vector {vector:#x} is reserved"
    );
    HANDLERS[vector as usize].store(handler as usize, Ordering::Release);
}

/// Installs the scheduler's preemption hook (see the module doc).
pub fn set_preempt_hook(hook: fn()) {
    PREEMPT_HOOK.store(hook as usize, Ordering::Release);
}

/// At the end of the outermost handler: runs the preemption hook if a
/// reschedule is due and allowed.
fn maybe_preempt() {
    if crate::percpu::preempt_count() != 0 || !crate::percpu::take_resched() {
        return;
    }
    let hook = PREEMPT_HOOK.load(Ordering::Acquire);
    if hook != 0 {
        // SAFETY: only `set_preempt_hook` stores non-zero values, and it
        // stores `fn()` pointers.
        let hook = unsafe { core::mem::transmute::<usize, fn()>(hook) };
        hook();
    }
}

/// Runs the handler installed for `vector`; false if there is none.
fn run_installed(vector: u64) -> bool {
    let handler = HANDLERS[vector as usize].load(Ordering::Acquire);
    if handler == 0 {
        return false;
    }
    // SAFETY: only `set_handler` stores non-zero values, and it stores
    // `Handler` function pointers.
    let handler = unsafe { core::mem::transmute::<usize, Handler>(handler) };
    handler();
    true
}

/// Entered from the assembly stubs with the saved frame.
#[unsafe(no_mangle)]
extern "C" fn hardtack_trap_dispatch(frame: &mut TrapFrame) {
    let v = frame.vector;
    let fatal_anywhere = matches!(v, vector::NMI | vector::DOUBLE_FAULT | vector::MACHINE_CHECK);
    match v {
        vector::NMI if crate::panic::in_progress() => crate::panic::stop_this_cpu(),
        _ if frame.cs & 3 == 3 && !fatal_anywhere => crate::user::trap_from_user(frame),
        0..=31 => report::exception(frame),
        _ => {
            if handle_interrupt(frame) {
                maybe_preempt();
            }
        }
    }
}

/// Handles an interrupt (vector 32 and up): runs its handler and
/// acknowledges it. True if it ended the outermost handler, so a pending
/// reschedule may be acted on now.
pub(crate) fn handle_interrupt(frame: &TrapFrame) -> bool {
    let v = frame.vector;
    if (PIC_BASE as u64..PIC_BASE as u64 + 16).contains(&v) || v == SPURIOUS_VECTOR as u64 {
        return false; // a stray from the masked PIC, or spurious: no EOI
    }
    crate::percpu::interrupt_enter();
    interrupt(v);
    crate::apic::end_of_interrupt();
    crate::percpu::interrupt_exit()
}

/// A device, timer or IPI interrupt (the APIC is acknowledged after it).
fn interrupt(v: u64) {
    if v == TIMER_VECTOR as u64 {
        crate::apic::count_tick();
        run_installed(v);
    } else if v == RESCHED_VECTOR as u64 {
        crate::percpu::request_resched();
    } else if v == CALL_VECTOR as u64 {
        crate::smp::xcall::serve();
    } else if v == APIC_ERROR_VECTOR as u64 {
        println!("apic: error interrupt");
    } else if v != WAKE_VECTOR as u64 && !run_installed(v) {
        println!("trap: unexpected interrupt vector {v:#x}");
    }
}

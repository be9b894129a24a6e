//! Traps: the interrupt descriptor table, the dispatcher every vector enters,
//! and the vector plan.
//!
//! | vectors     | use                                                 |
//! |-------------|-----------------------------------------------------|
//! | 0..=31      | CPU exceptions: recovered (stack-overflow probes) or reported, then the machine stops |
//! | 0x20..=0x2f | the legacy PIC, remapped here and masked; stray IRQs are ignored |
//! | 0x30        | local APIC timer (counted, then its [`set_handler`] hook) |
//! | 0x31..=0xef | free for devices and IPIs ([`set_handler`])          |
//! | 0xfe, 0xff  | local APIC error, spurious                          |
//!
//! Interrupt handlers run with interrupts masked, must not allocate and must
//! not block; they may print.

mod entry;
pub mod report;

use core::sync::atomic::{AtomicUsize, Ordering};

use spin::Once;
use x86_64::VirtAddr;
use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;

pub use entry::TrapFrame;

use crate::cpu;

/// First vector of the (masked) legacy PIC.
pub const PIC_BASE: u8 = 0x20;
/// Local APIC timer vector.
pub const TIMER_VECTOR: u8 = 0x30;
/// Local APIC error vector.
pub const APIC_ERROR_VECTOR: u8 = 0xfe;
/// Local APIC spurious vector.
pub const SPURIOUS_VECTOR: u8 = 0xff;

/// Exception vectors.
pub mod vector {
    /// #DF.
    pub const DOUBLE_FAULT: u64 = 8;
    /// #PF.
    pub const PAGE_FAULT: u64 = 14;
    /// NMI.
    pub const NMI: u64 = 2;
    /// #MC.
    pub const MACHINE_CHECK: u64 = 18;
}

/// A handler for a device or IPI vector; runs with interrupts masked.
pub type Handler = fn(&mut TrapFrame);

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

impl Gate {
    fn new(handler: u64, ist: Option<u16>) -> Gate {
        Gate {
            offset_low: handler as u16,
            selector: cpu::KERNEL_CS.0,
            ist: ist.map_or(0, |index| index as u8 + 1),
            attributes: INTERRUPT_GATE,
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        }
    }
}

static IDT: Once<[Gate; 256]> = Once::new();
static HANDLERS: [AtomicUsize; 256] = [const { AtomicUsize::new(0) }; 256];

fn ist_for(vector: u64) -> Option<u16> {
    match vector {
        vector::DOUBLE_FAULT => Some(cpu::IST_DOUBLE_FAULT),
        vector::NMI => Some(cpu::IST_NMI),
        vector::MACHINE_CHECK => Some(cpu::IST_MACHINE_CHECK),
        _ => None,
    }
}

/// Builds the IDT (once) and loads it on this CPU.
pub fn init() {
    let idt = IDT.call_once(|| core::array::from_fn(|v| Gate::new(entry::stub_address(v as u8), ist_for(v as u64))));
    let pointer =
        DescriptorTablePointer { limit: (size_of::<[Gate; 256]>() - 1) as u16, base: VirtAddr::from_ptr(idt) };
    // SAFETY: the IDT is a static that never moves or changes after
    // `call_once`, and every gate points at a valid stub.
    unsafe { lidt(&pointer) };
}

/// Installs `handler` for the timer, a device or an IPI vector (0x30..=0xef).
pub fn set_handler(vector: u8, handler: Handler) {
    assert!((TIMER_VECTOR..APIC_ERROR_VECTOR).contains(&vector), "vector {vector:#x} is reserved");
    HANDLERS[vector as usize].store(handler as usize, Ordering::Release);
}

/// Runs the handler installed for `frame.vector`; false if there is none.
fn run_installed(frame: &mut TrapFrame) -> bool {
    let handler = HANDLERS[frame.vector as usize].load(Ordering::Acquire);
    if handler == 0 {
        return false;
    }
    // SAFETY: only `set_handler` stores non-zero values, and it stores
    // `Handler` function pointers.
    let handler = unsafe { core::mem::transmute::<usize, Handler>(handler) };
    handler(frame);
    true
}

/// Entered from the assembly stubs with the saved frame.
#[unsafe(no_mangle)]
extern "C" fn hardtack_trap_dispatch(frame: &mut TrapFrame) {
    let v = frame.vector;
    match v {
        0..=31 => report::exception(frame),
        _ if (PIC_BASE as u64..PIC_BASE as u64 + 16).contains(&v) => {} // masked PIC: stray
        _ if v == SPURIOUS_VECTOR as u64 => {}
        _ if v == APIC_ERROR_VECTOR as u64 => {
            println!("apic: error interrupt");
            crate::apic::end_of_interrupt();
        }
        _ => {
            if v == TIMER_VECTOR as u64 {
                crate::apic::count_tick();
                run_installed(frame);
            } else if !run_installed(frame) {
                println!("trap: unexpected interrupt vector {v:#x}");
            }
            crate::apic::end_of_interrupt();
        }
    }
}

//! What happens on a CPU exception: a probing read
//! ([`crate::mem::probe`]), a user copy ([`crate::mem::usercopy`]) or a
//! stack-overflow probe (see
//! [`crate::context::call_on_stack`]) may recover; anything else is reported —
//! vector name, error code, registers, CR2 for page faults, the stack (task)
//! it happened on, and a backtrace — and the machine stops.

use core::fmt;

use x86_64::registers::control::Cr2;

use super::TrapFrame;
use super::vector::{DOUBLE_FAULT, PAGE_FAULT};
use crate::mem::stack;

/// Mnemonic and name of exception `vector`.
pub fn exception_name(vector: u64) -> (&'static str, &'static str) {
    match vector {
        0 => ("#DE", "divide error"),
        1 => ("#DB", "debug"),
        2 => ("NMI", "non-maskable interrupt"),
        3 => ("#BP", "breakpoint"),
        4 => ("#OF", "overflow"),
        5 => ("#BR", "bound range exceeded"),
        6 => ("#UD", "invalid opcode"),
        7 => ("#NM", "device not available"),
        8 => ("#DF", "double fault"),
        9 => ("-", "coprocessor segment overrun"),
        10 => ("#TS", "invalid TSS"),
        11 => ("#NP", "segment not present"),
        12 => ("#SS", "stack-segment fault"),
        13 => ("#GP", "general protection fault"),
        14 => ("#PF", "page fault"),
        16 => ("#MF", "x87 floating-point error"),
        17 => ("#AC", "alignment check"),
        18 => ("#MC", "machine check"),
        19 => ("#XM", "SIMD floating-point error"),
        20 => ("#VE", "virtualization exception"),
        21 => ("#CP", "control protection"),
        28 => ("#HV", "hypervisor injection"),
        29 => ("#VC", "VMM communication"),
        30 => ("#SX", "security exception"),
        _ => ("-", "reserved"),
    }
}

/// A page-fault error code, displayed as `write, page not present, kernel mode`.
pub struct PageFaultCause(pub u64);

impl fmt::Display for PageFaultCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.0;
        let access = if code & 0x10 != 0 {
            "instruction fetch"
        } else if code & 2 != 0 {
            "write"
        } else {
            "read"
        };
        let kind = if code & 1 != 0 { "protection violation" } else { "page not present" };
        let mode = if code & 4 != 0 { "user mode" } else { "kernel mode" };
        write!(f, "{access}, {kind}, {mode}")?;
        if code & 8 != 0 {
            write!(f, ", reserved bit set")?;
        }
        Ok(())
    }
}

/// Handles exception `frame.vector`; returns only if the fault was recovered.
pub(super) fn exception(frame: &mut TrapFrame) {
    if frame.vector == PAGE_FAULT && (crate::mem::probe::fix_up(frame) || crate::mem::usercopy::fix_up(frame)) {
        return;
    }
    let fault_address = match frame.vector {
        PAGE_FAULT | DOUBLE_FAULT => Cr2::read_raw(),
        _ => 0,
    };
    // An overflow faults on the guard page; the CPU then fails to push the
    // #PF frame on the same stack and raises #DF, with CR2 still in the guard.
    if matches!(frame.vector, PAGE_FAULT | DOUBLE_FAULT)
        && let Some(owner) = stack::guard_owner(fault_address)
    {
        let rip = frame.rip;
        let recovered = crate::context::recover_from_overflow(frame, owner);
        if !recovered {
            crate::panic::begin_report();
        }
        println!(
            "!!! kernel stack overflow on CPU {} in task {}: guard page of stack slot {} hit at {:#x}, RIP {:#x}",
            crate::percpu::index(),
            owner.tag,
            owner.slot,
            fault_address,
            rip
        );
        if recovered {
            println!("    (recovered: the stack's probe was abandoned)");
            return;
        }
        crate::panic::stop_after_report(frame);
    }
    crate::panic::begin_report();
    report(frame, fault_address);
    crate::panic::stop_after_report(frame);
}

fn report(frame: &TrapFrame, fault_address: u64) {
    let (mnemonic, name) = exception_name(frame.vector);
    println!("!!! CPU EXCEPTION: {name} ({mnemonic}, vector {}) on CPU {}", frame.vector, crate::percpu::index());
    if frame.vector == PAGE_FAULT {
        println!("    error code {:#x}: {}", frame.error_code, PageFaultCause(frame.error_code));
        println!("    CR2 {fault_address:#018x} (faulting address)");
    } else {
        println!("    error code {:#x}", frame.error_code);
    }
    println!("    task: {}", stack::describe(frame.rsp));
    println!("{frame}");
}

//! The Hardtack shim: everything that touches the hardware.
//!
//! Biscuit put a small layer under Go's runtime that owned the machine and
//! exposed it through a narrow interface; this crate is that layer. It holds
//! every `unsafe` block of the kernel (each with a `// SAFETY:` comment) and
//! offers safe entry points: console and log, physical frames, kernel page
//! tables, the kernel heap, kernel stacks with guard pages, tasks and the
//! context switch, per-CPU data, traps and exception reports, preemption at
//! interrupt return, the local APIC timer, IPIs and a nanosecond clock,
//! ACPI facts, timer-interrupt latency, starting the other CPUs and calling across them (TLB
//! shootdown), user mode (ring 3 entry and exit, address spaces, user
//! copies), the boot command line, the bootloader's ramdisk and power-off.
//!
//! Boot order is fixed by [`init`]; see `docs/architecture.md`.
#![cfg_attr(target_os = "none", no_std)]

extern crate alloc;

#[macro_use]
pub mod console;
pub mod acpi;
pub mod apic;
pub mod backtrace;
pub mod cmdline;
pub mod context;
pub mod cpu;
pub mod irq;
pub mod ktest;
pub mod logger;
pub mod mem;
pub mod panic;
pub mod percpu;
pub mod power;
pub mod ramdisk;
pub mod rtc;
pub mod smp;
pub mod task;
pub mod time;
pub mod timer_latency;
pub mod trap;
pub mod user;

pub use bootloader_api::BootInfo;

/// Brings up the machine on the bootstrap CPU, in dependency order: per-CPU
/// block, console,
/// clock, memory (frames, page tables, heap), CPU tables and traps, command
/// line, ACPI, local APIC timer. Interrupts are enabled on return.
///
/// Must be called exactly once, first thing in the kernel entry point.
pub fn init(boot_info: &'static mut BootInfo) {
    let rsdp = boot_info.rsdp_addr.into_option();
    percpu::init_this_cpu(0);
    console::init();
    logger::init();
    time::init();
    rtc::init();
    mem::init(boot_info);
    ramdisk::init(boot_info);
    cpu::init();
    trap::init();
    cmdline::init();
    logger::set_level_from_cmdline();
    acpi::init(rsdp);
    apic::init();
    irq::enable();
    log::info!(
        "up: {} MiB free RAM, {} CPU(s) in MADT, TSC {} MHz, APIC {}",
        (mem::frame::free_count() * 4096) >> 20,
        acpi::cpus().len(),
        time::tsc_hz() / 1_000_000,
        apic::mode_name(),
    );
}

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
pub(crate) mod acpi;
pub mod apic;
pub(crate) mod backtrace;
pub mod cmdline;
pub(crate) mod context;
pub mod cpu;
pub mod irq;
pub mod ktest;
pub(crate) mod logger;
pub mod mem;
pub(crate) mod panic;
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

use core::sync::atomic::{AtomicBool, Ordering};

use bootloader_api::BootInfo;
use bootloader_api::config::{BootloaderConfig, Mapping};

#[doc(hidden)]
pub use bootloader_api as __bootloader_api;

/// What the bootloader must set up for the shim: all physical memory
/// mapped (at an offset it picks in the kernel's bootloader range, see
/// `mem::layout`), and a 256 KiB boot stack.
pub const BOOTLOADER_CONFIG: BootloaderConfig = {
    let mut config = BootloaderConfig::new_default();
    config.mappings.physical_memory = Some(Mapping::Dynamic);
    config.mappings.dynamic_range_start = Some(mem::layout::BOOTLOADER_DYNAMIC_START);
    config.mappings.dynamic_range_end = Some(mem::layout::BOOTLOADER_DYNAMIC_END);
    config.kernel_stack_size = 256 << 10;
    config
};

/// Declares the kernel's entry point: the bootloader enters the shim,
/// which brings the machine up ([`init`]) and then calls `$main`, a
/// `fn() -> !`, on the boot stack with interrupts enabled. The one way
/// into the shim's start-up; use it once, in the kernel binary.
#[macro_export]
macro_rules! entry_point {
    ($main:path) => {
        $crate::__bootloader_api::entry_point!(__hardtack_start, config = &$crate::BOOTLOADER_CONFIG);

        /// The bootloader's entry: the shim takes the machine, then the kernel runs.
        fn __hardtack_start(boot_info: &'static mut $crate::__bootloader_api::BootInfo) -> ! {
            // SAFETY: this is the bootloader's entry point (`_start`, from
            // `entry_point!` above), and `boot_info` its hand-off, untouched.
            unsafe { $crate::init(boot_info) };
            let main: fn() -> ! = $main;
            main()
        }
    };
}

/// Set by the first [`init`].
static INITIALIZED: AtomicBool = AtomicBool::new(false);

/// Brings up the machine on the bootstrap CPU, in dependency order: per-CPU
/// block, console,
/// clock, memory (frames, page tables, heap), CPU tables and traps, command
/// line, ACPI, local APIC timer. Interrupts are enabled on return.
///
/// A second call panics.
///
/// # Safety
/// Called only by [`entry_point!`]: first thing in the bootloader's entry
/// point, with the `BootInfo` the bootloader handed over (the memory map in
/// it becomes the frame allocator's, so a made-up one would hand out memory
/// that is in use).
#[doc(hidden)]
pub unsafe fn init(boot_info: &'static mut BootInfo) {
    assert!(!INITIALIZED.swap(true, Ordering::AcqRel), "shim::init called twice");
    let rsdp = boot_info.rsdp_addr.into_option();
    percpu::init_this_cpu(0);
    console::init();
    logger::init();
    time::init();
    rtc::init();
    mem::init(boot_info);
    ramdisk::init(boot_info);
    cpu::init();
    mem::paging::drop_boot_lower_half();
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

//! Leaving the machine: ACPI power-off (S5), and QEMU's `isa-debug-exit`
//! device, whose exit status tells xtask whether a test run or boot passed.
//!
//! QEMU exits with `(code << 1) | 1` when `code` is written to port 0xf4;
//! Hardtack writes [`EXIT_SUCCESS`] (status 33) or [`EXIT_FAILURE`] (35).

use x86_64::instructions::port::Port;

/// isa-debug-exit I/O port (`-device isa-debug-exit,iobase=0xf4,iosize=4`).
const DEBUG_EXIT_PORT: u16 = 0xf4;
/// Success code for isa-debug-exit (QEMU status 33).
pub(crate) const EXIT_SUCCESS: u32 = 0x10;
/// Failure code for isa-debug-exit (QEMU status 35).
pub(crate) const EXIT_FAILURE: u32 = 0x11;

/// Ends QEMU through isa-debug-exit with `code`; if the device is absent,
/// halts this CPU forever.
pub(crate) fn exit_qemu(code: u32) -> ! {
    // SAFETY: port 0xf4 is QEMU's isa-debug-exit (or nothing on a machine
    // without it); writing it has no effect on kernel memory.
    unsafe { Port::<u32>::new(DEBUG_EXIT_PORT).write(code) };
    halt_forever()
}

/// Powers the machine off: ACPI S5, else isa-debug-exit success, else halt.
pub fn power_off() -> ! {
    crate::println!("hardtack: power off");
    if let Some((port, value)) = crate::acpi::s5_command() {
        // SAFETY: the port and value come from the FADT (PM1a control block)
        // and the DSDT's \_S5 object: writing them requests soft-off.
        unsafe { Port::<u16>::new(port).write(value) };
        // The machine acts on the request asynchronously: give it a moment
        // before falling back.
        crate::time::spin_for_ns(1_000_000_000);
        crate::println!("hardtack: ACPI power-off did not take effect");
    }
    exit_qemu(EXIT_SUCCESS)
}

/// Stops this CPU for good: interrupts masked, `hlt` forever.
pub(crate) fn halt_forever() -> ! {
    loop {
        x86_64::instructions::interrupts::disable();
        x86_64::instructions::hlt();
    }
}

/// Resets the machine: the PCI reset control register (0xcf9), then the
/// keyboard controller's reset line, else halt.
pub fn reset() -> ! {
    crate::println!("hardtack: reset");
    // SAFETY: port 0xcf9 (reset control, "full reset" value 0x0e) and the
    // 8042's command port 0x64 (pulse reset, 0xfe) exist on q35 and pc;
    // both only reset the machine.
    unsafe {
        Port::<u8>::new(0xcf9).write(0x0e);
        crate::time::spin_for_ns(100_000_000);
        Port::<u8>::new(0x64).write(0xfe);
    }
    crate::time::spin_for_ns(100_000_000);
    halt_forever()
}

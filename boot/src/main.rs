//! The Hardtack kernel binary: the bootloader's entry point hands BootInfo
//! to the shim, then runs the kernel — or, built with the `ktest` feature,
//! the in-kernel test suite.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

use bootloader_api::config::{BootloaderConfig, Mapping};
use bootloader_api::{BootInfo, entry_point};
use shim::mem::layout;

/// What the bootloader must set up: all physical memory mapped (at an offset
/// it picks in the kernel's bootloader range), and a 256 KiB boot stack.
const BOOTLOADER_CONFIG: BootloaderConfig = {
    let mut config = BootloaderConfig::new_default();
    config.mappings.physical_memory = Some(Mapping::Dynamic);
    config.mappings.dynamic_range_start = Some(layout::BOOTLOADER_DYNAMIC_START);
    config.mappings.dynamic_range_end = Some(layout::BOOTLOADER_DYNAMIC_END);
    config.kernel_stack_size = 256 << 10;
    config
};

entry_point!(kernel_main, config = &BOOTLOADER_CONFIG);

fn kernel_main(boot_info: &'static mut BootInfo) -> ! {
    shim::init(boot_info);
    runtime::sched::start(kernel_goroutine)
}

/// The first goroutine: the test suite in a `ktest` build; otherwise the
/// boot banner, then the kernel modules and init (`/init` from the
/// initramfs; power-off if there is none). With `hold` on the command
/// line, the kernel stays up without init (Ctrl-T on the console prints
/// the goroutines, as it always does).
fn kernel_goroutine() {
    if cfg!(feature = "ktest") {
        shim::ktest::run_all();
    }
    shim::println!(
        "Hardtack {}: kernel up {} ms after entry, GC policy {}, scheduler on {} CPU(s).",
        env!("CARGO_PKG_VERSION"),
        shim::time::now_ns() / 1_000_000,
        runtime::heap::Policy::ACTIVE.name(),
        runtime::sched::cpus().len(),
    );
    let initramfs = shim::ramdisk::ramdisk();
    if let Err(error) = fs::init(initramfs) {
        shim::println!("hardtack: the initramfs ({} bytes) could not be unpacked: errno {}", initramfs.len(), error.0);
    }
    tty::init().expect("the console TTY");
    if let Err(error) = proc::mount_proc() {
        shim::println!("hardtack: /proc could not be mounted: errno {}", error.0);
    }
    if shim::cmdline::get("hold").is_some() {
        shim::println!("hold: staying up; Ctrl-T prints the goroutines, Ctrl-A X quits QEMU");
        return;
    }
    if shim::cmdline::get("kbench").is_some() {
        proc::before_power_off(|| kbench::run(shim::cmdline::get_u64("kbench.scale").unwrap_or(1)));
    }
    match proc::start_init(b"/init", &[b"/init"]) {
        Ok(()) => shim::println!("hardtack: /init started ({} KiB initramfs)", initramfs.len() >> 10),
        Err(error) => {
            shim::println!("hardtack: no /init to run (errno {}): nothing to do", error.0);
            shim::power::power_off()
        }
    }
}

//! The Hardtack kernel binary: the shim's entry point takes the machine
//! from the bootloader, then runs the kernel — or, built with the `ktest` feature,
//! the in-kernel test suite.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

shim::entry_point!(kernel_main);

/// Runs once the shim has brought the machine up: the scheduler starts,
/// with the kernel as its first goroutine.
fn kernel_main() -> ! {
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

//! `cargo xtask`: the one entry point for building, booting, testing and
//! benchmarking Hardtack. Run `cargo xtask --help`.

mod bench;
mod build;
mod fuzz;
mod initramfs;
mod junit;
mod ktest_log;
mod lint;
mod prereq;
mod qemu;
mod symbolize;
mod test;
mod usertests;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

/// Hardtack's build, boot, test and benchmark tool.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the kernel and its initramfs and boot them in QEMU with the
    /// serial console on stdio. Exits with init's exit status when the kernel
    /// reports one (see --init).
    Run(RunArgs),
    /// Host unit tests, then the in-kernel test suite in QEMU (BIOS and UEFI,
    /// several CPU counts), then the user-space programs of tests/. Ends with
    /// `N passed, N failed`.
    Test(test::TestArgs),
    /// Build the kernel, its initramfs and its BIOS and UEFI disk images, and
    /// print their paths.
    Image(ImageArgs),
    /// Measure Hardtack against Debian's Linux kernel booted in the same
    /// QEMU machine, and Hardtack's GC policies against each other.
    ///
    /// User space (bench/hbench.c as /init on both kernels): boot to init,
    /// null system call, pipe ping-pong, context switch, fork+exit,
    /// fork+exec, open+close, mmap+touch 1 MiB and a kernel-allocation churn,
    /// with the GC pauses during the churn. In Hardtack's kernel: goroutine
    /// switch, channel ping-pong, and timer-IRQ latency idle and under GC
    /// load. Under TCG, QEMU runs with -icount, so guest time (reported in
    /// ns) is a deterministic count of instructions; --kvm uses KVM without
    /// icount instead. Host wall-clock is reported for reference.
    ///
    /// Writes target/bench/<timestamp>/: results.json, results.csv,
    /// gc_pauses.csv, irq_latency.csv, table.md, SVG plots and each boot's
    /// console log; prints the table.
    Bench(bench::BenchArgs),
    /// Fuzz the system call interface: boot Hardtack with fuzz/fuzz.c as
    /// init, which makes random system calls (arguments drawn from classes:
    /// 0, -1, small, huge, valid, unmapped and kernel pointers, page-boundary
    /// buffers, valid and stale descriptors, paths) in forked children, and
    /// report the calls made and any kernel panic, hang or warning with the
    /// seed and round that replay it. Exits non-zero if it found any.
    Fuzz(fuzz::FuzzArgs),
    /// The checks every change passes (also run by `test`): `cargo fmt
    /// --check`, and clippy with warnings denied on the host crates and on
    /// the kernel under every GC policy.
    Lint,
}

#[derive(Args)]
struct ImageArgs {
    #[command(flatten)]
    build: BuildArgs,
    #[command(flatten)]
    initramfs: initramfs::InitramfsArgs,
}

/// Options of every kernel build.
#[derive(Args, Clone)]
struct BuildArgs {
    /// Build the kernel with optimizations (the release profile).
    #[arg(long)]
    release: bool,
    /// GC policy of the kernel's heaps (the runtime's `gc-<policy>` feature).
    #[arg(long, value_enum, default_value_t = build::Gc::Incremental)]
    gc: build::Gc,
}

impl BuildArgs {
    fn kernel(&self, ktest: bool) -> build::KernelBuild {
        build::KernelBuild { release: self.release, ktest, gc: self.gc }
    }
}

/// Options of a QEMU machine.
#[derive(Args, Clone)]
struct MachineArgs {
    /// Number of CPUs.
    #[arg(long, default_value_t = 1)]
    smp: u32,
    /// Guest memory, in QEMU's syntax (`512M`, `2G`).
    #[arg(long, default_value = "512M", value_parser = qemu::parse_mem_size)]
    mem: String,
    /// Use KVM. Off by default: a /dev/kvm that exists is not always a fast
    /// one (nested, software-emulated KVM can be ~40x slower than TCG).
    #[arg(long)]
    kvm: bool,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    build: BuildArgs,
    #[command(flatten)]
    machine: MachineArgs,
    #[command(flatten)]
    initramfs: initramfs::InitramfsArgs,
    /// Boot the UEFI image (OVMF) instead of the BIOS one.
    #[arg(long)]
    uefi: bool,
    /// Make QEMU wait for GDB on localhost:1234 before the first instruction.
    #[arg(long)]
    gdb: bool,
    /// Kill QEMU after this many seconds (0: never).
    #[arg(long, default_value_t = 0)]
    timeout: u64,
    /// Kernel command line (`log=debug sched.slice_ms=5`), passed through fw_cfg.
    #[arg(long, default_value = "")]
    cmdline: String,
    /// Extra arguments for QEMU, after `--`.
    #[arg(last = true)]
    qemu_args: Vec<String>,
}

/// Builds the initramfs `target/xtask/initramfs-run.cpio` from `args` and
/// the kernel with it.
fn kernel_with_initramfs(build: &BuildArgs, args: &initramfs::InitramfsArgs) -> Result<build::Kernel> {
    let ramdisk = initramfs::build(&prereq::busybox()?, args, "run")?;
    build::kernel(&build.kernel(false), &ramdisk)
}

fn run(args: RunArgs) -> Result<u8> {
    let tools = prereq::ensure(args.uefi)?;
    let kernel = kernel_with_initramfs(&args.build, &args.initramfs)?;
    let image = if args.uefi { kernel.uefi.clone() } else { kernel.bios.clone() };
    if args.gdb {
        println!("xtask: QEMU waits for GDB on localhost:1234. In another terminal:");
        println!("    gdb {} -ex 'target remote :1234'", kernel.elf.display());
    }
    let machine = qemu::Machine {
        qemu: tools.qemu.clone(),
        firmware: if args.uefi { tools.ovmf.clone() } else { None },
        boot: qemu::Boot::Disk(image),
        smp: args.machine.smp,
        mem: args.machine.mem.clone(),
        kvm: args.machine.kvm,
        icount: None,
        gdb: args.gdb,
        cmdline: args.cmdline.clone(),
        extra: args.qemu_args.clone(),
    };
    eprintln!(
        "xtask: booting the {} image: {} CPU(s), {} RAM, {}",
        if args.uefi { "UEFI" } else { "BIOS" },
        machine.smp,
        machine.mem,
        if machine.kvm { "KVM" } else { "TCG" }
    );
    let timeout = (args.timeout > 0).then(|| std::time::Duration::from_secs(args.timeout));
    let symbols = symbolize::Symbolizer::new(&kernel.elf);
    let outcome = qemu::run_interactive(&machine, timeout, &symbols)?;
    eprintln!("xtask: {}", outcome.describe());
    let expect_init = args.initramfs.init.is_some();
    if expect_init && outcome.init_exit().is_none() {
        eprintln!("xtask: the kernel did not report how init ended");
    }
    Ok(outcome.status(expect_init))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Test(args) => test::run(args).map(|passed| u8::from(!passed)),
        Command::Bench(args) => bench::run(args).map(|()| 0),
        Command::Fuzz(args) => fuzz::run(args).map(|clean| u8::from(!clean)),
        Command::Lint => lint::run().map(|passed| u8::from(!passed)),
        Command::Image(args) => kernel_with_initramfs(&args.build, &args.initramfs).map(|k| {
            println!("kernel ELF: {}", k.elf.display());
            println!("BIOS image: {}", k.bios.display());
            println!("UEFI image: {}", k.uefi.display());
            0
        }),
    };
    match result {
        Ok(status) => ExitCode::from(status),
        Err(error) => {
            eprintln!("xtask: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (xtask's parent directory).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

//! `cargo xtask bench`: Hardtack against Debian's Linux kernel in the same
//! QEMU machine, and Hardtack's GC policies against each other, in one run.
//!
//! Every system boots with the same QEMU, machine (q35), CPU model, memory
//! and CPU count, and with `bench/hbench.c` as `/init` (see [`guest`]).
//! Under TCG, QEMU counts instructions (`-icount shift=S,align=off,sleep=off`),
//! so guest time is a deterministic function of the instructions executed
//! (2^S ns each) whatever the host's load; host wall-clock is recorded for
//! reference only. With `--kvm` there is no icount and the report says so.
//!
//! Hardtack boots its BIOS image with `kbench kbench.scale=<1|10>
//! gc.log=262144` and runs its in-kernel benchmarks after hbench; Linux boots
//! with `-kernel`/`-initrd` and hbench powers it off. Linux boots twice: as
//! Debian ships it, and with `mitigations=off`, since Hardtack has no
//! Spectre/Meltdown mitigations (no page-table isolation, no retpolines) and
//! Linux's would slow its system calls and switches for reasons of their
//! own. Each boot's console is read line by line ([`protocol`]); the results
//! go to `target/bench/<timestamp>/` (`<timestamp>-2`, ... if that exists;
//! [`report`], [`plot`]) with each console log.

mod guest;
mod plot;
mod protocol;
mod report;
mod stats;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::build::{self, Gc, GcChoice, KernelBuild, stdout_of};
use crate::qemu::{self, Boot, Exit, Machine, Outcome};
use crate::test::{Heaps, Layout};
use crate::{MachineArgs, prereq, root};
use protocol::{Results, USER_BENCHMARKS};
use report::Meta;

/// Options of `cargo xtask bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// The quick run: every benchmark at scale 1 instead of 10 (a tenth of
    /// the iterations).
    #[arg(long)]
    quick: bool,
    /// Hardtack's GC policies to measure.
    #[arg(long, value_enum, default_value_t = GcChoice::All)]
    gc: GcChoice,
    /// Hardtack's heap layouts to measure (each policy under each).
    #[arg(long, value_enum, default_value_t = Heaps::All)]
    heaps: Heaps,
    /// Leave out the Linux baselines (stock and `mitigations=off`).
    #[arg(long)]
    no_linux: bool,
    #[command(flatten)]
    machine: MachineArgs,
    /// Guest time per instruction under TCG: 2^S ns (`-icount shift=S`).
    #[arg(long, default_value_t = 0, value_name = "S", value_parser = clap::value_parser!(u32).range(0..=10))]
    icount_shift: u32,
    /// QEMU boots to run at once. Guest (icount) time does not depend on
    /// the host's load; wall-clock time does.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    jobs: u32,
}

/// The Hardtack kernel's command line for a benchmark boot at `scale`
/// with heap layout `layout`.
fn hardtack_cmdline(scale: u32, layout: Layout) -> String {
    layout.cmdline(&format!("kbench kbench.scale={scale} gc.log=262144"))
}

/// Linux's command line: the console on the serial port, no boot chatter,
/// and a panic ends the machine (with `-no-reboot`) at once; with
/// `mitigations` false, also `mitigations=off`.
pub fn linux_cmdline(mitigations: bool) -> String {
    let base = "console=ttyS0 quiet panic=-1";
    if mitigations { base.into() } else { format!("{base} mitigations=off") }
}

/// A system under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum System {
    /// Debian's Linux kernel, with its default Spectre/Meltdown mitigations
    /// or booted with `mitigations=off`.
    Linux {
        /// The mitigations are on (the default command line).
        mitigations: bool,
    },
    /// Hardtack with this GC policy and heap layout.
    Hardtack(Gc, Layout),
}

impl System {
    /// The Linux baselines, in report order: stock, then `mitigations=off`.
    pub const LINUX: [System; 2] = [System::Linux { mitigations: true }, System::Linux { mitigations: false }];

    /// Its name in progress lines, log files and the machine-readable
    /// reports: `linux`, `linux-nomitig`, `hardtack-gc-incremental`.
    pub fn name(self) -> String {
        match self {
            System::Linux { mitigations: true } => "linux".into(),
            System::Linux { mitigations: false } => "linux-nomitig".into(),
            System::Hardtack(gc, layout) => format!("hardtack-{}{}", policy(gc), layout.suffix()),
        }
    }

    /// Its column title in the tables and plots: `Linux`,
    /// `Linux (mitigations=off)`, `gc-incremental`, `gc-incremental global`.
    pub fn title(self) -> String {
        match self {
            System::Linux { mitigations: true } => "Linux".into(),
            System::Linux { mitigations: false } => "Linux (mitigations=off)".into(),
            System::Hardtack(gc, Layout::PerProcess) => policy(gc),
            System::Hardtack(gc, Layout::Global) => format!("{} global", policy(gc)),
        }
    }
}

/// A GC policy as the reports name it: `gc-incremental`.
pub fn policy(gc: Gc) -> String {
    format!("gc-{}", gc.name())
}

/// What one boot of one system gave.
pub struct BootReport {
    /// The system.
    pub system: System,
    /// Its console log.
    pub log: PathBuf,
    /// Host time from QEMU's start to its exit.
    pub wall: Duration,
    /// What the guest reported.
    pub results: Results,
    /// Why the boot failed, if it did (its figures may still be partial).
    pub failures: Vec<String>,
    /// Figures that are missing and other oddities.
    pub warnings: Vec<String>,
}

/// Runs the benchmarks; fails after writing the report if a system failed.
pub fn run(args: BenchArgs) -> Result<()> {
    let started = Instant::now();
    let tools = prereq::ensure(false)?;
    let (stamp, date) = now()?;
    let scale = if args.quick { 1 } else { 10 };
    let programs = guest::build_programs()?;
    let machine = |boot: Boot, cmdline: String| Machine {
        qemu: tools.qemu.clone(),
        firmware: None,
        boot,
        smp: args.machine.smp,
        mem: args.machine.mem.clone(),
        kvm: args.machine.kvm,
        icount: (!args.machine.kvm).then_some(args.icount_shift),
        gdb: false,
        cmdline,
        extra: Vec::new(),
    };
    let mut machines = Vec::new();
    let linux_kernel = match args.no_linux {
        true => None,
        false => Some(
            prereq::linux_kernel(&root().join("target/bench/linux"))
                .context("the Linux baseline (--no-linux leaves it out)")?,
        ),
    };
    if let Some(kernel) = &linux_kernel {
        let initrd = guest::linux_initramfs(&programs, scale)?;
        for system in System::LINUX {
            let System::Linux { mitigations } = system else { unreachable!("System::LINUX holds Linux systems") };
            let boot =
                Boot::Kernel { kernel: kernel.clone(), initrd: initrd.clone(), append: linux_cmdline(mitigations) };
            machines.push((system, machine(boot, String::new())));
        }
    }
    let ramdisk = guest::hardtack_initramfs(&programs, scale)?;
    for gc in args.gc.policies() {
        let kernel = build::kernel(&KernelBuild { release: true, ktest: false, gc }, &ramdisk)?;
        for layout in args.heaps.chosen() {
            let boot = Boot::Disk(kernel.bios.clone());
            machines.push((System::Hardtack(gc, layout), machine(boot, hardtack_cmdline(scale, layout))));
        }
    }
    // Every machine has the same settings; --gc gives at least one policy.
    let first = &machines[0].1;
    let meta = Meta {
        date,
        commit: commit()?,
        qemu: qemu_version(&tools.qemu)?,
        kvm: first.kvm,
        icount_shift: first.icount,
        cpu: first.cpu(),
        mem: first.mem.clone(),
        smp: first.smp,
        quick: args.quick,
        scale,
        jobs: args.jobs,
        linux_kernel: linux_kernel.as_ref().and_then(|k| k.file_name()).map(|n| n.to_string_lossy().into_owned()),
        linux_cmdlines: machines
            .iter()
            .filter_map(|(system, m)| match &m.boot {
                Boot::Kernel { append, .. } => Some((*system, append.clone())),
                Boot::Disk(_) => None,
            })
            .collect(),
    };
    let out = fresh_dir(&root().join("target/bench"), &stamp)?;
    let timeout = Duration::from_secs(if args.quick { 4 * 60 } else { 15 * 60 });
    println!("xtask: bench: {} boot(s), {} at a time; {}", machines.len(), args.jobs, meta.conditions());
    let boots = boot_all(&machines, args.jobs as usize, timeout, &out)?;
    let table = report::write(&out, &meta, &boots)?;
    plot::write(&out, &boots)?;
    println!("\n{table}");
    println!("xtask: bench results in {} ({:.0} s)", out.display(), started.elapsed().as_secs_f64());
    let failed: Vec<String> = boots
        .iter()
        .filter(|b| !b.failures.is_empty())
        .map(|b| format!("{}: {} (log: {})", b.system.name(), b.failures.join("; "), b.log.display()))
        .collect();
    if !failed.is_empty() {
        bail!("{} system(s) failed:\n{}", failed.len(), failed.join("\n"));
    }
    Ok(())
}

/// Boots every machine, `jobs` at a time, with console logs in `out`; the
/// reports come back in the machines' order.
fn boot_all(machines: &[(System, Machine)], jobs: usize, timeout: Duration, out: &Path) -> Result<Vec<BootReport>> {
    let next = AtomicUsize::new(0);
    let reports = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(machines.len()) {
            scope.spawn(|| {
                while let Some((system, machine)) = machines.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let log = out.join(format!("{}.log", system.name()));
                    let report = boot(*system, machine, timeout, log);
                    reports.lock().expect("no boot thread panics").push((*system, report));
                }
            });
        }
    });
    let mut reports = reports.into_inner().expect("no boot thread panics");
    reports.sort_by_key(|(system, _)| machines.iter().position(|(s, _)| s == system));
    reports.into_iter().map(|(_, report)| report).collect()
}

/// Boots one system, showing its results as they arrive, and saves its log.
fn boot(system: System, machine: &Machine, timeout: Duration, log: PathBuf) -> Result<BootReport> {
    let name = system.name();
    println!("{name}: boot started");
    let started = Instant::now();
    let mut results = Results::default();
    let outcome = qemu::run_lines(machine, timeout, &mut |line, at| {
        if let Some(progress) = results.line(line, at) {
            println!("{name}: {progress}");
        }
    })?;
    let wall = started.elapsed();
    fs::write(&log, &outcome.output).with_context(|| format!("write {}", log.display()))?;
    let (failures, warnings) = verdict(system, &outcome, &results, timeout);
    let end = if failures.is_empty() { "ok".to_string() } else { format!("FAILED: {}", failures.join("; ")) };
    println!("{name}: boot ended after {:.1} s wall: {end} (log: {})", wall.as_secs_f64(), log.display());
    for warning in &warnings {
        println!("{name}: warning: {warning}");
    }
    Ok(BootReport { system, log, wall, results, failures, warnings })
}

/// Why a boot failed, and what is missing or odd in it.
fn verdict(system: System, outcome: &Outcome, results: &Results, timeout: Duration) -> (Vec<String>, Vec<String>) {
    let mut failures = Vec::new();
    let panicked = outcome.output.lines().any(|l| l.to_ascii_lowercase().contains("kernel panic"));
    if panicked {
        failures.push("kernel panic".to_string());
    }
    let ended_well = match system {
        System::Linux { .. } => outcome.exit == Exit::Status(0),
        System::Hardtack(..) => outcome.success(),
    };
    if outcome.exit == Exit::Timeout {
        failures.push(format!("timed out after {} s", timeout.as_secs()));
    } else if !ended_well && !panicked {
        failures.push(outcome.describe());
    }
    if !results.user_done {
        failures.push("hbench did not finish (no `bench: done`)".into());
    }
    let mut warnings: Vec<String> =
        results.errors.iter().map(|(name, text)| format!("{name} failed: {text}")).collect();
    // What a boot that ended well left out (after a failure, anything may be).
    let mut missing = Vec::new();
    for name in USER_BENCHMARKS {
        if !results.user.contains_key(*name) && !results.errors.contains_key(*name) {
            missing.push(format!("no result for {name}"));
        }
    }
    if let System::Hardtack(..) = system {
        if let Some(qemu::InitExit::Exited(status @ 1..)) = outcome.init_exit() {
            warnings.push(format!("hbench exited with status {status}"));
        }
        if let Some((_, dropped @ 1..)) = results.gc_log {
            warnings.push(format!("the kernel's GC log dropped {dropped} pause(s): pause figures are incomplete"));
        }
        if results.gc_log.is_none() {
            missing.push("no GC pause log (`gclog:`): user-space GC pause figures are missing".into());
        }
        if !results.kernel_done {
            missing.push("no in-kernel benchmarks (`kbench: done` missing): their figures are missing".into());
        }
    }
    if failures.is_empty() {
        warnings.extend(missing);
    }
    warnings.extend(results.malformed.iter().map(|line| format!("malformed line: {line}")));
    (failures, warnings)
}

/// Creates and returns a new folder `parent/stamp`, or `parent/stamp-2`,
/// `-3`, ... if that exists (another run in the same second).
fn fresh_dir(parent: &Path, stamp: &str) -> Result<PathBuf> {
    fs::create_dir_all(parent).with_context(|| format!("create {}", parent.display()))?;
    let mut n = 1;
    loop {
        let dir = parent.join(if n == 1 { stamp.to_string() } else { format!("{stamp}-{n}") });
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(e).with_context(|| format!("create {}", dir.display())),
        }
    }
}

/// The current local time as a folder name (`20261122-143005`) and in ISO
/// 8601 (`2026-11-22T14:30:05+0100`).
fn now() -> Result<(String, String)> {
    let text = stdout_of(Command::new("date").arg("+%Y%m%d-%H%M%S %Y-%m-%dT%H:%M:%S%z"), "date")?;
    let (stamp, iso) = text.split_once(' ').with_context(|| format!("unexpected output of date: {text}"))?;
    Ok((stamp.to_string(), iso.to_string()))
}

/// `7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)`: the version `qemu` reports.
fn qemu_version(qemu: &Path) -> Result<String> {
    let text = stdout_of(Command::new(qemu).arg("--version"), "qemu --version")?;
    let first = text.lines().next().unwrap_or_default();
    Ok(first.trim_start_matches("QEMU emulator version ").to_string())
}

/// The short commit hash of the work tree, with `-dirty` if it has changes
/// (untracked files included).
fn commit() -> Result<String> {
    let git = |args: &[&str]| stdout_of(Command::new("git").current_dir(root()).args(args), "git");
    let hash = git(&["rev-parse", "--short", "HEAD"])?;
    let dirty = !git(&["status", "--porcelain"])?.is_empty();
    Ok(if dirty { hash + "-dirty" } else { hash })
}

/// A boot of `system` whose console printed `log` (for tests).
#[cfg(test)]
fn boot_from_log(system: System, log: &str) -> BootReport {
    let mut results = Results::default();
    for line in log.lines() {
        results.line(line, Instant::now());
    }
    let (failures, warnings) = (Vec::new(), Vec::new());
    BootReport {
        system,
        log: format!("{}.log", system.name()).into(),
        wall: Duration::ZERO,
        results,
        failures,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stock Linux baseline.
    const LINUX: System = System::Linux { mitigations: true };

    fn outcome(exit: Exit, output: &str) -> Outcome {
        Outcome { exit, output: output.into() }
    }

    fn results(log: &str) -> Results {
        boot_from_log(LINUX, log).results
    }

    #[test]
    fn verdicts() {
        let timeout = Duration::from_secs(60);
        let hardtack = System::Hardtack(Gc::Stw, Layout::PerProcess);
        let done = results("bench: null_syscall 1.0 ns 1\nbench-error: churn pipe errno=24\nbench: done\n");
        let (failures, warnings) =
            verdict(hardtack, &outcome(Exit::Status(0), "hardtack: power off\n"), &done, timeout);
        assert!(failures.is_empty(), "{failures:?}");
        assert!(warnings.contains(&"churn failed: pipe errno=24".to_string()));
        assert!(warnings.contains(&"no result for ctx_switch".to_string()));
        assert!(warnings.iter().any(|w| w.contains("kbench: done")) && warnings.iter().any(|w| w.contains("gclog")));

        let (failures, _) = verdict(LINUX, &outcome(Exit::Status(0), ""), &done, timeout);
        assert!(failures.is_empty(), "Linux powers off with status 0 and no Hardtack line");
        let panic = "Kernel panic - not syncing: Attempted to kill init!\n";
        let (failures, _) = verdict(LINUX, &outcome(Exit::Status(0), panic), &results(""), timeout);
        assert_eq!(failures, ["kernel panic", "hbench did not finish (no `bench: done`)"]);
        let (failures, _) =
            verdict(hardtack, &outcome(Exit::Status(35), "!!! KERNEL PANIC on CPU 0: oops\n"), &done, timeout);
        assert_eq!(failures, ["kernel panic"]);
        let (failures, warnings) = verdict(hardtack, &outcome(Exit::Timeout, ""), &done, timeout);
        assert_eq!(failures, ["timed out after 60 s"]);
        assert_eq!(warnings, ["churn failed: pipe errno=24"], "no missing-figure noise after a failure");
    }

    #[test]
    fn names() {
        let [stock, nomitig] = System::LINUX;
        assert_eq!((stock.name(), stock.title()), ("linux".into(), "Linux".into()));
        assert_eq!((nomitig.name(), nomitig.title()), ("linux-nomitig".into(), "Linux (mitigations=off)".into()));
        assert_eq!(
            (linux_cmdline(true), linux_cmdline(false).as_str()),
            ("console=ttyS0 quiet panic=-1".into(), "console=ttyS0 quiet panic=-1 mitigations=off")
        );
        let stw = System::Hardtack(Gc::Stw, Layout::PerProcess);
        assert_eq!((stw.name(), stw.title()), ("hardtack-gc-stw".into(), "gc-stw".into()));
        let global = System::Hardtack(Gc::None, Layout::Global);
        assert_eq!((global.name(), global.title()), ("hardtack-gc-none-global".into(), "gc-none global".into()));
        assert_eq!(hardtack_cmdline(10, Layout::Global), "heaps=global kbench kbench.scale=10 gc.log=262144");
    }

    #[test]
    fn result_folders_do_not_collide() {
        let parent = std::env::temp_dir().join(format!("xtask-fresh-dir-{}", std::process::id()));
        let _ = fs::remove_dir_all(&parent);
        let made: Vec<PathBuf> = (0..3).map(|_| fresh_dir(&parent, "20261122-143005").unwrap()).collect();
        let names: Vec<String> = made.iter().map(|d| d.file_name().unwrap().to_string_lossy().into()).collect();
        assert_eq!(names, ["20261122-143005", "20261122-143005-2", "20261122-143005-3"]);
        assert!(made.iter().all(|d| d.is_dir()));
        fs::remove_dir_all(&parent).unwrap();
    }
}

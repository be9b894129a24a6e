//! `cargo xtask fuzz`: boots Hardtack with `fuzz/fuzz.c` as `/init`, which
//! makes random system calls in forked children (see its header), and
//! reports the calls made and any kernel panic, hang or warning with the
//! seed and round that reproduce it. `cargo xtask test` runs a bounded
//! slice of it ([`slice_suite`]).
//!
//! Hangs are told apart from slow children at two levels: inside the guest,
//! init kills a child that runs past its round and reports a process that
//! outlives SIGKILL; here, a console silent for [`SILENCE`] means the
//! kernel itself stopped making progress.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::build::{self, Gc, KernelBuild};
use crate::initramfs::{self, Initramfs};
use crate::junit::{Case, Suite};
use crate::prereq::{self, Tools};
use crate::qemu::{self, Boot, Machine};
use crate::symbolize::Symbolizer;
use crate::test::Layout;
use crate::{BuildArgs, root, usertests};

/// A console silent this long (host time) is a kernel hang: init prints a
/// line every round, and a round lasts at most a few guest seconds.
const SILENCE: Duration = Duration::from_secs(90);
/// What the kernel prints when it panics.
const PANIC: &str = "KERNEL PANIC";
/// The part of a kernel warning line that marks its level.
const WARNING: &str = " WARN ";
/// Warnings that are expected under fuzzing: they name a call or a use of
/// one that Hardtack does not support.
const EXPECTED_WARNINGS: [&str; 2] = ["unsupported", "not supported"];

/// Options of `cargo xtask fuzz`.
#[derive(Args)]
pub struct FuzzArgs {
    /// Guest seconds to fuzz for (0: until --calls).
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Seed of the random calls (default: from the host clock).
    #[arg(long)]
    seed: Option<u64>,
    /// Stop after this many calls (0: no limit).
    #[arg(long, default_value_t = 0)]
    calls: u64,
    /// Calls each round's child makes.
    #[arg(long, default_value_t = 500)]
    per_round: u64,
    /// Round to start at: replays a reported round with its seed.
    #[arg(long, default_value_t = 0)]
    first_round: u64,
    /// Print every call before it is made.
    #[arg(long)]
    trace: bool,
    /// Number of CPUs.
    #[arg(long, default_value_t = 1)]
    smp: u32,
    /// Guest memory, in QEMU's syntax.
    #[arg(long, default_value = "256M", value_parser = qemu::parse_mem_size)]
    mem: String,
    /// Kernel heap layout.
    #[arg(long, value_enum, default_value_t = HeapLayout::PerProcess)]
    heaps: HeapLayout,
    #[command(flatten)]
    build: BuildArgs,
}

/// `--heaps` of `cargo xtask fuzz`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum HeapLayout {
    /// One heap per process.
    PerProcess,
    /// One heap for everything.
    Global,
}

/// What init's configuration file says.
struct Config {
    seed: u64,
    calls: u64,
    seconds: u64,
    per_round: u64,
    first_round: u64,
    trace: bool,
    /// Rounds (seed, round) to run first.
    replays: &'static [(u64, u64)],
}

impl Config {
    fn text(&self) -> String {
        let mut text = format!(
            "seed {}\ncalls {}\nseconds {}\nper_round {}\nfirst_round {}\ntrace {}\n",
            self.seed,
            self.calls,
            self.seconds,
            self.per_round,
            self.first_round,
            u8::from(self.trace)
        );
        for (seed, round) in self.replays {
            text += &format!("replay {seed} {round}\n");
        }
        text
    }
}

/// Rounds (seed, round of 500 calls) that once ended in a kernel panic or
/// hang, or killed init; `cargo xtask test` replays each before its slice.
/// Each came from a `cargo xtask fuzz` report:
const REGRESSIONS: &[(u64, u64)] = &[
    // tkill(1, SIGSEGV) from a child killed init (a sent fault signal got
    // past init's protection).
    (100, 502),
];

/// What one fuzzing boot found.
#[derive(Debug, Default)]
struct Findings {
    /// From init's `done` line, if it got there.
    done: Option<String>,
    /// The last round init started (its seed if a replay, the round, and
    /// the calls made before it).
    last_round: Option<(Option<u64>, u64, u64)>,
    /// The seed of the replay whose round line comes next.
    replaying: Option<u64>,
    /// The panic message and the lines after it (the backtrace).
    panic: Option<String>,
    /// Init's report of a process that outlived SIGKILL, or the host's of a
    /// silent console.
    hang: Option<String>,
    /// Distinct unexpected warning lines (without their timestamps).
    warnings: Vec<String>,
}

impl Findings {
    fn feed(&mut self, line: &str) {
        if let Some(panic) = &mut self.panic {
            if panic.lines().count() < 60 {
                panic.push('\n');
                panic.push_str(line);
            }
            return;
        }
        if let Some(at) = line.find(PANIC) {
            self.panic = Some(line[at..].to_string());
            return;
        }
        // Init's lines start at its marker (output a child left unfinished
        // on the console may come first).
        let line = line.rfind("fuzz: ").map_or(line, |at| &line[at..]);
        if let Some(rest) = line.strip_prefix("fuzz: replay seed ") {
            self.replaying = rest.split(' ').next().and_then(|w| w.parse().ok());
        } else if let Some(rest) = line.strip_prefix("fuzz: round ") {
            let mut words = rest.split(' ');
            let round = words.next().and_then(|w| w.parse().ok());
            let calls = words.nth(1).and_then(|w| w.parse().ok());
            if let (Some(round), Some(calls)) = (round, calls) {
                self.last_round = Some((self.replaying.take(), round, calls));
            }
        } else if let Some(rest) = line.strip_prefix("fuzz: done ") {
            self.done = Some(rest.to_string());
        } else if let Some(rest) = line.strip_prefix("fuzz: hang ") {
            self.hang = Some(rest.to_string());
        } else if let Some(at) = line.find(WARNING) {
            let warning = line[at + 1..].to_string();
            if !EXPECTED_WARNINGS.iter().any(|w| warning.contains(w))
                && !self.warnings.contains(&warning)
                && self.warnings.len() < 20
            {
                self.warnings.push(warning);
            }
        }
    }

    /// Whether the run found nothing wrong.
    fn clean(&self) -> bool {
        self.done.is_some() && self.panic.is_none() && self.hang.is_none() && self.warnings.is_empty()
    }

    /// The report: what was found, and how to replay it.
    fn describe(&self, config: &Config, symbols: &Symbolizer) -> String {
        let mut text = match &self.done {
            Some(done) => format!("fuzz: seed {}: {done}\n", config.seed),
            None => format!("fuzz: seed {}: init did not finish\n", config.seed),
        };
        if let Some(panic) = &self.panic {
            text += &format!("kernel panic:\n{}\n", symbols.annotate_log(panic));
        }
        if let Some(hang) = &self.hang {
            text += &format!("hang: {hang}\n");
        }
        for warning in &self.warnings {
            text += &format!("warning: {warning}\n");
        }
        if !self.clean()
            && let Some((replayed, round, calls)) = self.last_round
        {
            text += &format!(
                "in round {round} (after {calls} calls); replay it with:\n    cargo xtask fuzz --seed {} --first-round \
                 {round} --per-round {} --calls {} --trace\n",
                replayed.unwrap_or(config.seed),
                config.per_round,
                config.per_round
            );
        }
        text
    }
}

/// The machine of one fuzzing boot.
#[derive(Clone, Copy)]
struct FuzzBoot<'a> {
    tools: &'a Tools,
    kernel: &'a build::Kernel,
    smp: u32,
    mem: &'a str,
    layout: Layout,
    /// Host time allowed in all.
    limit: Duration,
}

/// Builds `fuzz/fuzz.c` and the initramfs that runs it as `/init` with `config`.
fn initramfs(config: &Config, name: &str) -> Result<PathBuf> {
    let musl_gcc = prereq::musl_gcc()?;
    let source = root().join("fuzz/fuzz.c");
    let binary = root().join("target/xtask/fuzz");
    fs::create_dir_all(root().join("target/xtask"))?;
    usertests::compile(&musl_gcc, &["-static", "-O2", "-Wall", "-Werror"], &source, &binary)?;
    let init = fs::read(&binary).with_context(|| format!("read {}", binary.display()))?;
    let path = initramfs::output_path(name)?;
    Initramfs::skeleton()?.file("/init", 0o755, init)?.file("/fuzz/config", 0o644, config.text())?.write(&path)?;
    Ok(path)
}

/// Boots one fuzzing run (its console saved as `target/xtask/logs/LOG.log`)
/// and collects what it found.
fn boot(run: &FuzzBoot<'_>, log: &str) -> Result<Findings> {
    let FuzzBoot { tools, kernel, smp, mem, layout, limit } = *run;
    let machine = Machine {
        qemu: tools.qemu.clone(),
        firmware: None,
        boot: Boot::Disk(kernel.bios.clone()),
        smp,
        mem: mem.into(),
        kvm: false,
        icount: None,
        gdb: false,
        cmdline: layout.cmdline(""),
        extra: Vec::new(),
    };
    let mut findings = Findings::default();
    let outcome = qemu::run_watched(&machine, limit, SILENCE, &mut |line, _| {
        if line.starts_with("fuzz: call ") {
            println!("{line}");
        }
        findings.feed(line);
    })?;
    crate::test::save_log(log, &outcome.output)?;
    if findings.done.is_none() && findings.panic.is_none() && findings.hang.is_none() {
        findings.hang = Some(match outcome.exit {
            qemu::Exit::Silent => format!("the console was silent for {} s: the kernel hangs", SILENCE.as_secs()),
            _ => outcome.describe(),
        });
    }
    Ok(findings)
}

/// `cargo xtask fuzz`.
pub fn run(args: FuzzArgs) -> Result<bool> {
    let tools = prereq::ensure(false)?;
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_secs())
    });
    if args.seconds == 0 && args.calls == 0 {
        bail!("give --seconds or --calls: a fuzzing run needs an end");
    }
    let config = Config {
        seed,
        calls: args.calls,
        seconds: args.seconds,
        per_round: args.per_round.max(1),
        first_round: args.first_round,
        trace: args.trace,
        replays: &[],
    };
    let ramdisk = initramfs(&config, "fuzz")?;
    let kernel = build::kernel(&args.build.kernel(false), &ramdisk)?;
    let layout = match args.heaps {
        HeapLayout::PerProcess => Layout::PerProcess,
        HeapLayout::Global => Layout::Global,
    };
    // Guest and host seconds differ under TCG: allow plenty, the console
    // watchdog catches a hang long before.
    let limit = Duration::from_secs(args.seconds.max(60) * 4 + 300);
    eprintln!(
        "xtask: fuzzing with seed {seed} for {} on {} CPU(s), {} RAM, gc {}",
        match (args.seconds, args.calls) {
            (0, calls) => format!("{calls} calls"),
            (s, 0) => format!("{s} s"),
            (s, calls) => format!("{s} s or {calls} calls"),
        },
        args.smp,
        args.mem,
        args.build.gc.name()
    );
    let started = Instant::now();
    let machine = FuzzBoot { tools: &tools, kernel: &kernel, smp: args.smp, mem: &args.mem, layout, limit };
    let findings = boot(&machine, "fuzz")?;
    print!("{}", findings.describe(&config, &Symbolizer::new(&kernel.elf)));
    println!(
        "xtask: fuzzing took {:.0} s (host); console log in target/xtask/logs/fuzz.log",
        started.elapsed().as_secs_f64()
    );
    Ok(findings.clean())
}

/// Calls of the bounded slice `cargo xtask test` runs.
const SLICE_CALLS: u64 = 100_000;

/// `cargo xtask test`'s fuzzing slice: the [`REGRESSIONS`], then
/// [`SLICE_CALLS`] calls from `seed` on a 2-CPU, 256 MiB machine; one case
/// that fails on any panic, hang or unexpected warning.
pub fn slice_suite(tools: &Tools, gc: Gc, layout: Layout, release: bool, seed: u64) -> Result<Suite> {
    let name = format!("fuzz{}-{}", layout.suffix(), gc.name());
    let config = Config {
        seed,
        calls: SLICE_CALLS,
        seconds: 0,
        per_round: 500,
        first_round: 0,
        trace: false,
        replays: REGRESSIONS,
    };
    let ramdisk = initramfs(&config, "fuzz-slice")?;
    let kernel = build::kernel(&KernelBuild { release, ktest: false, gc }, &ramdisk)?;
    let started = Instant::now();
    let machine = FuzzBoot { tools, kernel: &kernel, smp: 2, mem: "256M", layout, limit: Duration::from_secs(600) };
    let findings = boot(&machine, &format!("{name}-seed{seed}"))?;
    let case = Case {
        name: format!("fuzz/seed{seed}_{SLICE_CALLS}_calls"),
        seconds: started.elapsed().as_secs_f64(),
        failure: (!findings.clean()).then(|| findings.describe(&config, &Symbolizer::new(&kernel.elf))),
    };
    crate::test::print_verdict(&name, &case);
    Ok(Suite { name, cases: vec![case] })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(lines: &[&str]) -> Findings {
        let mut findings = Findings::default();
        lines.iter().for_each(|line| findings.feed(line));
        findings
    }

    #[test]
    fn a_clean_run_and_what_spoils_one() {
        let done = "fuzz: done calls 10 rounds 1 timeouts 0 signals 0";
        let expected = "[    1.000000] WARN  proc::syscall: unsupported system call 41 (socket): ENOSYS";
        assert!(findings(&["fuzz: round 0 calls 0", expected, done]).clean());
        assert!(!findings(&["fuzz: round 0 calls 0"]).clean(), "no done line");
        let warned = findings(&["[    1.0] WARN  proc::x: something odd", done]);
        assert_eq!(warned.warnings, ["WARN  proc::x: something odd"]);
        let panicked = findings(&["fuzz: round 7 calls 3500", "!!! KERNEL PANIC on CPU 0: boom", "  #0 0xffff"]);
        assert_eq!(panicked.panic.as_deref(), Some("KERNEL PANIC on CPU 0: boom\n  #0 0xffff"));
        assert_eq!(panicked.last_round, Some((None, 7, 3500)));
        let buried =
            findings(&["   \x01garbage a child wrote   fuzz: hang round 3 seed 4: the child outlived SIGKILL"]);
        assert_eq!(buried.hang.as_deref(), Some("round 3 seed 4: the child outlived SIGKILL"));
    }

    #[test]
    fn a_replayed_round_is_reported_with_its_seed() {
        let config =
            Config { seed: 5, calls: 0, seconds: 1, per_round: 500, first_round: 0, trace: false, replays: &[] };
        let hung = findings(&[
            "fuzz: replay seed 100 round 502",
            "fuzz: round 502 calls 0",
            "fuzz: hang round 502 seed 100: x",
        ]);
        assert_eq!(hung.last_round, Some((Some(100), 502, 0)));
        let report = hung.describe(&config, &Symbolizer::new(std::path::Path::new("/nonexistent")));
        assert!(report.contains("--seed 100 --first-round 502"), "{report}");
    }
}

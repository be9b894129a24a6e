//! The reports of a benchmark run: every figure of every system, named
//! (`bench.null_syscall`, `gc.user-churn.p99`, `irq.idle.max`, ...) by
//! [`figures`], written as `results.json` (with the run's conditions),
//! `results.csv` (one row per system × figure) and `table.md`; and the raw
//! samples as `gc_pauses.csv` and `irq_latency.csv`. A figure that a system
//! should have but did not report is `null` in JSON, empty in CSV and `—` in
//! the table.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Map, Value, json};

use super::protocol::{IRQ_PHASES, KERNEL_BENCHMARKS, PauseSource, Results, USER_BENCHMARKS, report_order};
use super::stats::{self, Summary};
use super::{BootReport, System};
use crate::build::Gc;
#[cfg(test)]
use crate::test::Layout;

/// The conditions of a run.
pub struct Meta {
    /// Local date and time of the start (ISO 8601).
    pub date: String,
    /// Short commit hash, `-dirty` with changes.
    pub commit: String,
    /// QEMU's version.
    pub qemu: String,
    /// KVM instead of TCG.
    pub kvm: bool,
    /// The icount shift (TCG only).
    pub icount_shift: Option<u32>,
    /// The `-cpu` model.
    pub cpu: &'static str,
    /// Guest memory.
    pub mem: String,
    /// Guest CPUs.
    pub smp: u32,
    /// The quick run.
    pub quick: bool,
    /// What `/bench/scale` and `kbench.scale` say.
    pub scale: u32,
    /// Boots run at once.
    pub jobs: u32,
    /// The Linux kernel's file name (`vmlinuz-6.1.0-56-amd64`), if it ran.
    pub linux_kernel: Option<String>,
    /// Each Linux baseline that ran, with its command line.
    pub linux_cmdlines: Vec<(System, String)>,
}

/// QEMU's machine type for every boot.
const MACHINE: &str = "q35";

impl Meta {
    /// `TCG, -icount shift=0 (guest ns = icount instructions × 2^0)`, or KVM's.
    fn accel(&self) -> String {
        match self.icount_shift {
            Some(shift) => format!(
                "TCG with -icount shift={shift},align=off,sleep=off (guest ns = icount instructions × 2^{shift}: \
                 deterministic)"
            ),
            None => "KVM without icount (guest ns are the guest's clock at host speed: not deterministic)".into(),
        }
    }

    /// `quick run (scale 1)` or `full run (scale 10)`.
    fn run_kind(&self) -> String {
        format!("{} run (scale {})", if self.quick { "quick" } else { "full" }, self.scale)
    }

    /// The conditions in one line, for progress output.
    pub fn conditions(&self) -> String {
        let accel = match self.icount_shift {
            Some(shift) => format!("TCG, icount shift={shift}"),
            None => "KVM".into(),
        };
        let machine = format!("{MACHINE}, -cpu {}, {} RAM, {} CPU(s)", self.cpu, self.mem, self.smp);
        format!("QEMU {}, {accel}, {machine}; {}", self.qemu, self.run_kind())
    }
}

/// What a figure counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    /// Guest nanoseconds.
    Ns,
    /// Host nanoseconds.
    WallNs,
    /// A number of things.
    Count,
    /// A part of a whole (0..1).
    Fraction,
    /// A quotient of two guest times.
    Ratio,
    /// Host seconds.
    WallSeconds,
}

impl Unit {
    /// The unit's name in CSV and JSON.
    fn name(self) -> &'static str {
        match self {
            Unit::Ns => "ns",
            Unit::WallNs => "wall ns",
            Unit::Count => "count",
            Unit::Fraction => "fraction",
            Unit::Ratio => "ratio",
            Unit::WallSeconds => "wall s",
        }
    }

    /// `value` for people.
    fn format(self, value: f64) -> String {
        match self {
            Unit::Ns | Unit::WallNs => stats::format_ns(value),
            Unit::Count => format!("{value:.0}"),
            Unit::Fraction => stats::format_share(value),
            Unit::Ratio => stats::format_ratio(value),
            Unit::WallSeconds => format!("{value:.1} s"),
        }
    }
}

/// One figure of one system; `value` is `None` when it is missing.
#[derive(Clone, Debug, PartialEq)]
struct Figure {
    /// `bench.null_syscall`, `gc.user-churn.p99`, ...
    name: String,
    /// The value, in `unit`.
    value: Option<f64>,
    /// What it counts.
    unit: Unit,
}

/// The names of a [`Summary`]'s percentiles, with their values.
fn percentiles(summary: Option<&Summary>) -> [(&'static str, Option<f64>); 4] {
    let of = |get: fn(&Summary) -> i64| summary.map(|s| get(s) as f64);
    [("p50", of(|s| s.p50)), ("p99", of(|s| s.p99)), ("p99_9", of(|s| s.p999)), ("max", of(|s| s.max))]
}

/// The name of the figure of `benchmark`'s guest time over `baseline`'s:
/// `ratio_vs_linux.null_syscall`, `ratio_vs_linux-nomitig.null_syscall`.
fn ratio_name(baseline: System, benchmark: &str) -> String {
    format!("ratio_vs_{}.{benchmark}", baseline.name())
}

/// Every figure of `boot`. `linux` are the Linux boots that ran and
/// `gc_none` the Hardtack gc-none one, if it ran: Hardtack's figures include
/// its ratios to them ([`ratio_name`], `gc.churn_vs_gc_none`).
fn figures(boot: &BootReport, linux: &[&BootReport], gc_none: Option<&Results>) -> Vec<Figure> {
    let results = &boot.results;
    let mut figures = Vec::new();
    let mut push = |name: String, value: Option<f64>, unit: Unit| figures.push(Figure { name, value, unit });
    let hardtack = matches!(boot.system, System::Hardtack(..));
    let guest_ns = |results: &Results, name: &str| results.user.get(name).map(|m| m.guest_ns);
    for name in report_order(USER_BENCHMARKS, results.user.keys().cloned()) {
        let measurement = results.user.get(&name);
        push(format!("bench.{name}"), measurement.map(|m| m.guest_ns), Unit::Ns);
        push(format!("bench.{name}.wall"), measurement.and_then(|m| m.wall_ns), Unit::WallNs);
        push(format!("bench.{name}.iterations"), measurement.map(|m| m.iterations as f64), Unit::Count);
        if hardtack {
            for baseline in linux {
                let ratio = guest_ns(results, &name).zip(guest_ns(&baseline.results, &name)).map(|(h, l)| h / l);
                push(ratio_name(baseline.system, &name), ratio, Unit::Ratio);
            }
        }
    }
    if hardtack {
        for name in report_order(KERNEL_BENCHMARKS, results.kernel.keys().cloned()) {
            let measurement = results.kernel.get(&name);
            push(format!("kbench.{name}"), measurement.map(|m| m.guest_ns), Unit::Ns);
            push(format!("kbench.{name}.iterations"), measurement.map(|m| m.iterations as f64), Unit::Count);
        }
        for source in PauseSource::ALL {
            let logged = match source {
                PauseSource::UserChurn => results.gc_log.is_some(),
                PauseSource::KernelGcLoad => results.kernel_done,
            };
            let durations: Vec<i64> = results.pauses_from(source).map(|p| p.duration_ns).collect();
            let total = durations.iter().sum::<i64>() as f64;
            let prefix = format!("gc.{}", source.name());
            push(format!("{prefix}.count"), logged.then_some(durations.len() as f64), Unit::Count);
            push(format!("{prefix}.total"), logged.then_some(total), Unit::Ns);
            for (stat, value) in percentiles(Summary::of(&durations).as_ref()) {
                push(format!("{prefix}.{stat}"), value, Unit::Ns);
            }
            let window = results.pause_window(source).map(|(t0, t1)| (t1 - t0) as f64).filter(|w| *w > 0.0);
            push(format!("{prefix}.share"), window.filter(|_| logged).map(|w| total / w), Unit::Fraction);
        }
        for (name, &(managed, plain)) in &results.census {
            let total = managed + plain;
            push(
                format!("census.{name}.managed_share"),
                (total > 0).then(|| managed as f64 / total as f64),
                Unit::Fraction,
            );
            push(format!("census.{name}.bytes"), Some(total as f64), Unit::Count);
        }
        let slowdown = gc_none.and_then(|none| guest_ns(results, "churn").zip(guest_ns(none, "churn")));
        push("gc.churn_vs_gc_none".into(), slowdown.map(|(this, none)| this / none), Unit::Ratio);
        push("gc.log.recorded".into(), results.gc_log.map(|(recorded, _)| recorded as f64), Unit::Count);
        push("gc.log.dropped".into(), results.gc_log.map(|(_, dropped)| dropped as f64), Unit::Count);
        for phase in IRQ_PHASES {
            let samples = results.irq_samples(phase);
            let counted = results.kernel_done || !samples.is_empty();
            push(format!("irq.{phase}.samples"), counted.then_some(samples.len() as f64), Unit::Count);
            for (stat, value) in percentiles(Summary::of(&samples).as_ref()) {
                push(format!("irq.{phase}.{stat}"), value, Unit::Ns);
            }
        }
    }
    push("boot.wall".into(), Some(boot.wall.as_secs_f64()), Unit::WallSeconds);
    figures
}

/// A boot with its figures: a column of the tables.
struct Column<'a> {
    boot: &'a BootReport,
    figures: Vec<Figure>,
}

impl Column<'_> {
    /// Figure `name`, if it has a value.
    fn figure(&self, name: &str) -> Option<(f64, Unit)> {
        self.figures.iter().find(|f| f.name == name).and_then(|f| Some((f.value?, f.unit)))
    }

    /// The formatted value of figure `name`, or `—`.
    fn cell(&self, name: &str) -> String {
        self.figure(name).map_or_else(|| "—".into(), |(value, unit)| unit.format(value))
    }
}

/// A column for each boot, in order.
fn columns(boots: &[BootReport]) -> Vec<Column<'_>> {
    let linux: Vec<&BootReport> = boots.iter().filter(|b| matches!(b.system, System::Linux { .. })).collect();
    // Each Hardtack column against gc-none of its own heap layout.
    let gc_none = |layout| boots.iter().find(|b| b.system == System::Hardtack(Gc::None, layout)).map(|b| &b.results);
    boots
        .iter()
        .map(|boot| {
            let baseline = match boot.system {
                System::Hardtack(_, layout) => gc_none(layout),
                System::Linux { .. } => None,
            };
            Column { boot, figures: figures(boot, &linux, baseline) }
        })
        .collect()
}

/// Writes every report into `dir` and returns the Markdown table.
pub fn write(dir: &Path, meta: &Meta, boots: &[BootReport]) -> Result<String> {
    let all = columns(boots);
    let save = |name: &str, text: &str| {
        let path = dir.join(name);
        fs::write(&path, text).with_context(|| format!("write {}", path.display()))
    };
    save("results.json", &(serde_json::to_string_pretty(&json_report(meta, &all))? + "\n"))?;
    save("results.csv", &results_csv(&all))?;
    save("gc_pauses.csv", &gc_pauses_csv(boots))?;
    save("irq_latency.csv", &irq_latency_csv(boots))?;
    let table = markdown(meta, &all);
    save("table.md", &table)?;
    Ok(table)
}

/// `results.json`: the conditions, then per system its figures
/// (`{"value", "unit"}` by name), failures, warnings and benchmark errors.
fn json_report(meta: &Meta, all: &[Column]) -> Value {
    let systems: Vec<Value> = all
        .iter()
        .map(|Column { boot, figures }| {
            let figures: Map<String, Value> = figures
                .iter()
                .map(|f| {
                    let value = match f.unit {
                        Unit::Count => f.value.map(|v| Value::from(v as i64)),
                        _ => f.value.map(Value::from),
                    };
                    (f.name.clone(), json!({ "value": value, "unit": f.unit.name() }))
                })
                .collect();
            json!({
                "system": boot.system.name(),
                "log": boot.log.file_name().map(|n| n.to_string_lossy()),
                "failures": boot.failures,
                "warnings": boot.warnings,
                "bench_errors": boot.results.errors,
                "figures": figures,
            })
        })
        .collect();
    json!({
        "meta": {
            "date": meta.date,
            "commit": meta.commit,
            "qemu_version": meta.qemu,
            "accel": if meta.kvm { "kvm" } else { "tcg" },
            "icount_shift": meta.icount_shift,
            "icount": meta.icount_shift.map(|s| format!("shift={s},align=off,sleep=off")),
            "machine": MACHINE,
            "cpu": meta.cpu,
            "mem": meta.mem,
            "smp": meta.smp,
            "run": if meta.quick { "quick" } else { "full" },
            "scale": meta.scale,
            "jobs": meta.jobs,
            "linux_kernel": meta.linux_kernel,
            "linux_cmdlines": meta.linux_cmdlines.iter().map(|(s, c)| (s.name(), json!(c))).collect::<Map<_, _>>(),
            "guest_time": meta.accel(),
            "wall_clock": wall_clock_note(meta),
        },
        "systems": systems,
    })
}

/// What host wall-clock figures are worth.
fn wall_clock_note(meta: &Meta) -> String {
    format!(
        "host wall-clock, for reference: it depends on the host and its load ({} boot(s) ran at once), \
         unlike guest ns under icount; a benchmark's wall time runs from its bench-start line to its result \
         (warm-up included), per timed iteration",
        meta.jobs
    )
}

/// A CSV field, quoted if it needs to be.
fn csv_field(text: &str) -> String {
    match text.contains([',', '"', '\n']) {
        true => format!("\"{}\"", text.replace('"', "\"\"")),
        false => text.to_string(),
    }
}

/// `results.csv`: `system,figure,value,unit`, value empty when missing.
fn results_csv(all: &[Column]) -> String {
    let mut csv = String::from("system,figure,value,unit\n");
    for Column { boot, figures } in all {
        for figure in figures {
            let value = figure.value.map_or(String::new(), |v| v.to_string());
            let _ = writeln!(csv, "{},{},{value},{}", boot.system.name(), csv_field(&figure.name), figure.unit.name());
        }
    }
    csv
}

/// `gc_pauses.csv`: every GC pause of every Hardtack boot.
fn gc_pauses_csv(boots: &[BootReport]) -> String {
    let mut csv = String::from("policy,source,heap,cause,start_ns,duration_ns,work\n");
    for boot in boots {
        for p in &boot.results.pauses {
            let (heap, cause) = (csv_field(&p.heap), csv_field(&p.cause));
            let policy = boot.system.title();
            let _ = writeln!(
                csv,
                "{policy},{},{heap},{cause},{},{},{}",
                p.source.name(),
                p.start_ns,
                p.duration_ns,
                p.work
            );
        }
    }
    csv
}

/// `irq_latency.csv`: every timer-IRQ latency sample of every Hardtack boot.
fn irq_latency_csv(boots: &[BootReport]) -> String {
    let mut csv = String::from("policy,phase,ns\n");
    for boot in boots {
        for sample in &boot.results.irq {
            let _ = writeln!(csv, "{},{},{}", boot.system.title(), csv_field(&sample.phase), sample.ns);
        }
    }
    csv
}

/// A Markdown table: the first column left-aligned, the others right.
fn markdown_table(header: &[String], rows: &[Vec<String>]) -> String {
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    let mut table = line(header);
    let rule: Vec<String> =
        (0..header.len()).map(|i| if i == 0 { ":--".to_string() } else { "--:".to_string() }).collect();
    table += &line(&rule);
    for row in rows {
        table += &line(row);
    }
    table
}

/// `table.md`: the conditions, then the tables (see the module docs).
fn markdown(meta: &Meta, all: &[Column]) -> String {
    let mut md = format!("# Hardtack benchmarks, {}\n\n", meta.date);
    let linux = meta.linux_kernel.as_deref().map_or("not run".into(), |k| format!("Debian's {k}"));
    let _ = writeln!(md, "- QEMU {}, {}", meta.qemu, meta.accel());
    let _ =
        writeln!(md, "- machine {MACHINE}, -cpu {}, {} RAM, {} CPU(s) for every system", meta.cpu, meta.mem, meta.smp);
    let _ = writeln!(md, "- Linux: {linux}");
    for (system, cmdline) in &meta.linux_cmdlines {
        let _ = writeln!(md, "  - {}: command line `{cmdline}`", system.title());
    }
    let _ = writeln!(md, "- commit {}, {}", meta.commit, meta.run_kind());
    let _ = writeln!(md, "- figures are guest time per operation unless marked wall\n");
    let everyone: Vec<&Column> = all.iter().collect();
    let hardtack: Vec<&Column> = all.iter().filter(|c| matches!(c.boot.system, System::Hardtack(..))).collect();

    md += "## 1. User space: Hardtack vs Linux\n\n";
    md += &user_table(&everyone, &hardtack);
    if !meta.linux_cmdlines.is_empty() {
        md += "\nHardtack has no Spectre/Meltdown mitigations (no page-table isolation, no retpolines), \
               so Linux with mitigations=off is the like-for-like baseline. Under TCG the two Linux columns \
               barely differ: QEMU's `-cpu max` is not affected by Meltdown (no page-table isolation), and \
               icount counts instructions, not the cycles a barrier or retpoline costs.\n";
    }

    md += "\n## 2. GC pauses (user churn; in-kernel GC load)\n\n";
    md += &gc_table(&hardtack);
    md += "\nGC share: pause time / the window the pauses fall in: for user-churn the churn's timed loop \
           (gcwindow), for kernel-gc-load the gc-load phase of the IRQ latency benchmark (its kbench-info \
           window), in which the in-kernel GC-load heap collects.\n";

    md += "\n## 3. In-kernel (Hardtack)\n\n";
    let mut rows = vec![
        ("goroutine switch".to_string(), "kbench.goroutine_switch".to_string()),
        ("channel ping-pong".into(), "kbench.chan_pingpong".into()),
        ("heap scope (Handle::with)".into(), "kbench.heap_scope".into()),
        ("spin lock (pinned)".into(), "kbench.spin_lock".into()),
    ];
    for phase in IRQ_PHASES {
        rows.push((format!("IRQ latency {phase}: samples"), format!("irq.{phase}.samples")));
        for (stat, label) in [("p50", "p50"), ("p99", "p99"), ("p99_9", "p99.9"), ("max", "max")] {
            rows.push((format!("IRQ latency {phase}: {label}"), format!("irq.{phase}.{stat}")));
        }
    }
    md += &figure_table(&hardtack, &rows);

    md += "\n## 4. Managed share of kernel heap allocations (Hardtack)\n\n";
    let mut rows = Vec::new();
    for name in benchmark_names(&hardtack) {
        rows.push((format!("{name}: managed share"), format!("census.{name}.managed_share")));
        rows.push((format!("{name}: kernel heap bytes"), format!("census.{name}.bytes")));
    }
    md += &figure_table(&hardtack, &rows);
    md += "\nBytes the kernel heap allocated during each benchmark's timed run (/proc/hardtack/alloc read \
           before and after it): managed = inside GC heap scopes and collections, plain = everything else. \
           Page frames (user memory, page tables, kernel stacks) are not kernel heap allocations.\n";

    md += "\n## 5. Host wall clock (for reference)\n\n";
    let mut rows = vec![("boot, whole run".to_string(), "boot.wall".to_string())];
    for name in benchmark_names(&everyone) {
        let figure = format!("bench.{name}.wall");
        if everyone.iter().any(|c| c.figure(&figure).is_some()) {
            rows.push((format!("{name} (wall /op)"), figure));
        }
    }
    md += &figure_table(&everyone, &rows);
    let _ = writeln!(md, "\nWall clock: {}.", wall_clock_note(meta));

    let mut problems = String::new();
    for Column { boot, .. } in all {
        let name = boot.system.name();
        for failure in &boot.failures {
            let _ = writeln!(problems, "- **{name} failed**: {failure} (log: {})", boot.log.display());
        }
        for warning in &boot.warnings {
            let _ = writeln!(problems, "- {name}: {warning}");
        }
    }
    if !problems.is_empty() {
        md += "\n## Problems\n\n";
        md += &problems;
    }
    md
}

/// The user-space benchmarks any of `columns` reported, in report order.
fn benchmark_names(columns: &[&Column]) -> Vec<String> {
    report_order(USER_BENCHMARKS, columns.iter().flat_map(|c| c.boot.results.user.keys().cloned()))
}

/// Table 1: a row per user-space benchmark, a column per system, and the
/// first Hardtack policy's ratio to each Linux baseline that ran.
fn user_table(everyone: &[&Column], hardtack: &[&Column]) -> String {
    let mut header = vec!["benchmark".to_string()];
    header.extend(everyone.iter().map(|c| c.boot.system.title()));
    let baselines: Vec<System> =
        everyone.iter().map(|c| c.boot.system).filter(|s| matches!(s, System::Linux { .. })).collect();
    let ratios: Vec<(&Column, System)> =
        hardtack.first().into_iter().flat_map(|&c| baselines.iter().map(move |&b| (c, b))).collect();
    header.extend(ratios.iter().map(|(c, b)| format!("{} / {}", c.boot.system.title(), b.title())));
    let rows: Vec<Vec<String>> = benchmark_names(everyone)
        .iter()
        .map(|name| {
            let mut row = vec![name.clone()];
            row.extend(everyone.iter().map(|c| c.cell(&format!("bench.{name}"))));
            row.extend(ratios.iter().map(|(c, b)| c.cell(&ratio_name(*b, name))));
            row
        })
        .collect();
    markdown_table(&header, &rows)
}

/// Table 2: a row per Hardtack policy and pause source.
fn gc_table(hardtack: &[&Column]) -> String {
    let header =
        ["policy", "pauses", "p50", "p99", "p99.9", "max", "total", "GC share", "churn /iter", "churn vs gc-none"];
    let mut rows = Vec::new();
    for column in hardtack {
        for source in PauseSource::ALL {
            let prefix = format!("gc.{}", source.name());
            let mut row = vec![format!("{} ({})", column.boot.system.title(), source.name())];
            for stat in ["count", "p50", "p99", "p99_9", "max", "total", "share"] {
                row.push(column.cell(&format!("{prefix}.{stat}")));
            }
            for name in ["bench.churn", "gc.churn_vs_gc_none"] {
                row.push(if source == PauseSource::UserChurn { column.cell(name) } else { "—".into() });
            }
            rows.push(row);
        }
    }
    markdown_table(&header.map(String::from), &rows)
}

/// A table with a row per `(label, figure name)` and a column per boot.
fn figure_table(columns: &[&Column], rows: &[(String, String)]) -> String {
    let mut header = vec!["figure".to_string()];
    header.extend(columns.iter().map(|c| c.boot.system.title()));
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|(label, name)| {
            let mut row = vec![label.clone()];
            row.extend(columns.iter().map(|c| c.cell(name)));
            row
        })
        .collect();
    markdown_table(&header, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::boot_from_log;

    fn meta() -> Meta {
        Meta {
            date: "2026-11-22T14:30:05+0000".into(),
            commit: "abc1234-dirty".into(),
            qemu: "7.2.22".into(),
            kvm: false,
            icount_shift: Some(0),
            cpu: "max",
            mem: "512M".into(),
            smp: 1,
            quick: true,
            scale: 1,
            jobs: 2,
            linux_kernel: Some("vmlinuz-6.1.0-56-amd64".into()),
            linux_cmdlines: System::LINUX.map(|s| (s, format!("cmdline of {}", s.name()))).to_vec(),
        }
    }

    fn boots() -> Vec<BootReport> {
        let churn = "gcwindow: 0 1000000\ngclog: 2 0\ngcpause: fs pacing 10 3000 5\ngcpause: fs pacing 20 1000 5\n";
        let gc_load = "kbench-info: irqlat_gc-load window 1000 21000 interrupts 9\nkgcpause: kbench load 5 500 1\n\
                       kgcpause: kbench load 99 1500 1\nkbench: done\n";
        let [stock, nomitig] = System::LINUX;
        vec![
            boot_from_log(stock, "bench: null_syscall 300.0 ns 10\nbench: churn 80000 ns 10\nbench: done\n"),
            boot_from_log(nomitig, "bench: null_syscall 200.0 ns 10\nbench: done\n"),
            boot_from_log(
                System::Hardtack(Gc::Incremental, Layout::PerProcess),
                &format!("bench: null_syscall 400.0 ns 10\n{churn}"),
            ),
            boot_from_log(
                System::Hardtack(Gc::None, Layout::PerProcess),
                &format!("bench: churn 40000 ns 10\ngclog: 0 0\n{gc_load}"),
            ),
        ]
    }

    #[test]
    fn figures_derive_ratios_and_gc_share() {
        let boots = boots();
        let columns = columns(&boots);
        let incremental = &columns[2];
        assert_eq!(incremental.figure("ratio_vs_linux.null_syscall").map(|f| f.0), Some(400.0 / 300.0));
        assert_eq!(incremental.figure("ratio_vs_linux-nomitig.null_syscall").map(|f| f.0), Some(2.0));
        assert_eq!(incremental.figure("ratio_vs_linux-nomitig.churn"), None, "no churn result for either");
        assert_eq!(incremental.figure("gc.user-churn.count"), Some((2.0, Unit::Count)));
        assert_eq!(incremental.figure("gc.user-churn.p50").map(|f| f.0), Some(1000.0));
        assert_eq!(incremental.figure("gc.user-churn.share").map(|f| f.0), Some(4000.0 / 1e6));
        assert_eq!(incremental.figure("gc.kernel-gc-load.count"), None, "no kbench: done");
        assert_eq!(incremental.figure("gc.kernel-gc-load.share"), None, "no kbench: done, no window");
        assert_eq!(incremental.figure("gc.churn_vs_gc_none"), None, "no churn result");
        let none = &columns[3];
        assert_eq!(none.figure("gc.user-churn.count").map(|f| f.0), Some(0.0));
        assert_eq!(none.figure("gc.user-churn.p99"), None, "no pauses, no percentiles");
        assert_eq!(none.figure("gc.user-churn.share"), None, "no gcwindow");
        assert_eq!(none.figure("gc.kernel-gc-load.share"), Some((2000.0 / 20000.0, Unit::Fraction)));
        assert_eq!(none.figure("irq.idle.samples").map(|f| f.0), Some(0.0));
        for linux in &columns[..2] {
            assert!(linux.figures.iter().all(|f| !f.name.starts_with("gc.") && !f.name.starts_with("ratio")));
        }
        let csv = results_csv(&columns);
        assert!(csv.starts_with("system,figure,value,unit\nlinux,bench.boot_to_init,,ns\n"), "{csv}");
        assert!(csv.contains("\nhardtack-gc-incremental,bench.null_syscall,400,ns\n"));
        assert!(csv.contains("\nlinux-nomitig,bench.null_syscall,200,ns\n"));
        assert!(
            gc_pauses_csv(&boots).contains("\ngc-incremental,user-churn,fs,pacing,20,1000,5\ngc-none,kernel-gc-load,")
        );
    }

    #[test]
    fn tables_show_units_ratios_and_dashes() {
        let boots = boots();
        let table = markdown(&meta(), &columns(&boots));
        assert!(table.contains("TCG with -icount shift=0,align=off,sleep=off (guest ns = icount instructions × 2^0"));
        assert!(table.contains("Debian's vmlinuz-6.1.0-56-amd64") && table.contains("commit abc1234-dirty, quick run"));
        assert!(table.contains("  - Linux: command line `cmdline of linux`\n"));
        assert!(table.contains("  - Linux (mitigations=off): command line `cmdline of linux-nomitig`\n"));
        assert!(table.contains("the like-for-like baseline"));
        let user = |name: &str| table.lines().find(|l| l.starts_with(&format!("| {name} |"))).unwrap().to_string();
        assert_eq!(
            table.lines().find(|l| l.starts_with("| benchmark")).unwrap(),
            "| benchmark | Linux | Linux (mitigations=off) | gc-incremental | gc-none | gc-incremental / Linux | \
             gc-incremental / Linux (mitigations=off) |"
        );
        assert_eq!(user("null_syscall"), "| null_syscall | 300 ns | 200 ns | 400 ns | — | 1.33× | 2.00× |");
        assert_eq!(user("churn"), "| churn | 80.0 µs | — | — | 40.0 µs | — | — |");
        assert_eq!(user("boot_to_init"), "| boot_to_init | — | — | — | — | — | — |");
        let gc = table.lines().find(|l| l.starts_with("| gc-incremental (user-churn)")).unwrap();
        assert_eq!(
            gc,
            "| gc-incremental (user-churn) | 2 | 1.00 µs | 3.00 µs | 3.00 µs | 3.00 µs | 4.00 µs | 0.40 % | — | — |"
        );
        let none = table.lines().find(|l| l.starts_with("| gc-none (user-churn)")).unwrap();
        assert_eq!(none, "| gc-none (user-churn) | 0 | — | — | — | — | 0 ns | — | 40.0 µs | 1.00× |");
        let load = table.lines().find(|l| l.starts_with("| gc-none (kernel-gc-load)")).unwrap();
        assert_eq!(
            load,
            "| gc-none (kernel-gc-load) | 2 | 500 ns | 1.50 µs | 1.50 µs | 1.50 µs | 2.00 µs | 10.00 % | — | — |"
        );
        assert!(table.contains("| :-- | --: |"));
        assert!(!table.contains("(wall /op)"), "no wall figures, no wall rows");
    }

    #[test]
    fn kvm_and_no_linux_are_said() {
        let kvm = Meta { kvm: true, icount_shift: None, cpu: "host", ..meta() };
        let table = markdown(&kvm, &columns(&boots()));
        assert!(table.contains("KVM without icount") && table.contains("-cpu host"));
        let no_linux = Meta { linux_kernel: None, linux_cmdlines: Vec::new(), ..meta() };
        let table = markdown(&no_linux, &columns(&boots()[2..]));
        assert!(
            table.contains("- Linux: not run\n") && !table.contains("like-for-like") && !table.contains(" / Linux")
        );
        let json = json_report(&kvm, &columns(&boots()));
        assert_eq!(json["meta"]["accel"], "kvm");
        assert_eq!(json["meta"]["linux_cmdlines"]["linux-nomitig"], "cmdline of linux-nomitig");
        let share = &json["systems"][3]["figures"]["gc.kernel-gc-load.share"];
        assert_eq!((share["value"].as_f64(), &share["unit"]), (Some(0.1), &json!("fraction")));
    }
}

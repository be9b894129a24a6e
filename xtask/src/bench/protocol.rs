//! The benchmark protocol: the lines that `bench/hbench.c` (on both
//! kernels) and Hardtack's in-kernel benchmarks print on the serial console
//! (see `bench/README.md`), read one line at a time as they arrive into
//! [`Results`]. A tagged line may follow other text on its console line;
//! every other line is ignored.
//!
//! ```text
//! bench-start: <name>                      (hbench)
//! bench: <name> <ns per op> ns <iterations>
//! bench-error: <name> <what...>
//! census: <name> <managed_bytes> <plain_bytes>   (Hardtack only)
//! gcwindow: <t0_ns> <t1_ns>
//! gclog: <recorded> <dropped>              (Hardtack only)
//! gcpause: <heap> <cause> <start_ns> <duration_ns> <work>
//! bench: done
//! kbench: <name> <ns per op> ns <iterations>   (Hardtack's kernel, after init)
//! irqlat: <idle|gc-load> <ns>
//! kgcpause: <heap> <cause> <start_ns> <duration_ns> <work>
//! kbench-info: irqlat_<idle|gc-load> window <start_ns> <end_ns> interrupts <n>
//! kbench-info: <other text>                (for people: ignored)
//! kbench: done
//! ```

use std::collections::BTreeMap;
use std::time::Instant;

use super::stats;

/// The user-space benchmarks of hbench, in report order.
pub const USER_BENCHMARKS: &[&str] = &[
    "boot_to_init",
    "null_syscall",
    "pipe_pingpong",
    "ctx_switch",
    "fork_exit_wait",
    "fork_exec_wait",
    "open_close",
    "mmap_touch_1m",
    "churn",
];
/// Hardtack's in-kernel benchmarks, in report order.
pub const KERNEL_BENCHMARKS: &[&str] = &["goroutine_switch", "chan_pingpong", "heap_scope", "spin_lock"];
/// The phases of the timer-IRQ latency samples.
pub const IRQ_PHASES: &[&str] = &["idle", "gc-load"];

/// The tags of protocol lines.
const TAGS: &[&str] = &[
    "bench-start:",
    "bench:",
    "bench-error:",
    "census:",
    "gcwindow:",
    "gclog:",
    "gcpause:",
    "kbench:",
    "irqlat:",
    "kgcpause:",
    "kbench-info:",
];

/// Which GC pauses a pause belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PauseSource {
    /// hbench's `churn`, in user space (`gcpause:`).
    UserChurn,
    /// The in-kernel GC-load heap of the IRQ latency benchmark (`kgcpause:`).
    KernelGcLoad,
}

impl PauseSource {
    /// Both, in report order.
    pub const ALL: [PauseSource; 2] = [PauseSource::UserChurn, PauseSource::KernelGcLoad];

    /// The name in reports and CSV files.
    pub fn name(self) -> &'static str {
        match self {
            PauseSource::UserChurn => "user-churn",
            PauseSource::KernelGcLoad => "kernel-gc-load",
        }
    }
}

/// One benchmark figure.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    /// Guest nanoseconds per operation, as the guest measured it.
    pub guest_ns: f64,
    /// Operations timed.
    pub iterations: u64,
    /// Host nanoseconds per operation, from `bench-start:` to the result
    /// (so including the warm-up), if the benchmark announced its start.
    pub wall_ns: Option<f64>,
}

/// One GC pause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pause {
    /// Which pauses it belongs to.
    pub source: PauseSource,
    /// The heap that paused.
    pub heap: String,
    /// Why it collected.
    pub cause: String,
    /// Guest time it started.
    pub start_ns: i64,
    /// How long it paused.
    pub duration_ns: i64,
    /// Work done in the pause (the GC's own unit).
    pub work: u64,
}

/// One timer-IRQ latency sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IrqSample {
    /// `idle` or `gc-load`.
    pub phase: String,
    /// Latency in guest ns (may be negative: a timer that fired early).
    pub ns: i64,
}

/// Everything one boot reported.
#[derive(Debug, Default)]
pub struct Results {
    /// `bench:` figures by name.
    pub user: BTreeMap<String, Measurement>,
    /// `kbench:` figures by name.
    pub kernel: BTreeMap<String, Measurement>,
    /// `bench-error:` texts by benchmark name.
    pub errors: BTreeMap<String, String>,
    /// Kernel heap bytes allocated during each benchmark's timed run,
    /// (managed, plain), by name (`census:`).
    pub census: BTreeMap<String, (u64, u64)>,
    /// The churn's timed loop, in guest ns (`gcwindow:`).
    pub gc_window: Option<(i64, i64)>,
    /// Each IRQ latency phase's window, in guest ns, by phase
    /// (`kbench-info: irqlat_<phase> window`).
    pub irq_windows: BTreeMap<String, (i64, i64)>,
    /// Pauses the kernel's GC log recorded and dropped (`gclog:`).
    pub gc_log: Option<(u64, u64)>,
    /// `gcpause:` and `kgcpause:` lines.
    pub pauses: Vec<Pause>,
    /// `irqlat:` lines.
    pub irq: Vec<IrqSample>,
    /// `bench: done` was seen.
    pub user_done: bool,
    /// `kbench: done` was seen.
    pub kernel_done: bool,
    /// Tagged lines that did not parse.
    pub malformed: Vec<String>,
    /// When each `bench-start:` arrived.
    started: BTreeMap<String, Instant>,
}

impl Results {
    /// Takes one console line that arrived at `at`. Returns what to show
    /// as progress: results, errors and ends, but not the raw samples.
    pub fn line(&mut self, line: &str, at: Instant) -> Option<String> {
        let (tag, rest) = tagged(line)?;
        let parsed = self.take(tag, rest, at);
        if parsed.is_none() {
            self.malformed.push(line.to_string());
            return Some(format!("malformed: {line}"));
        }
        parsed.flatten()
    }

    /// Records line `tag rest`; `None` if it does not parse, else the
    /// progress message, if any.
    fn take(&mut self, tag: &str, rest: &str, at: Instant) -> Option<Option<String>> {
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let progress = match (tag, fields.as_slice()) {
            ("bench-start:", [name]) => {
                self.started.insert(name.to_string(), at);
                None
            }
            ("bench:" | "kbench:", ["done"]) => {
                let user = tag == "bench:";
                *(if user { &mut self.user_done } else { &mut self.kernel_done }) = true;
                Some(format!("{} benchmarks done", if user { "user-space" } else { "in-kernel" }))
            }
            ("bench:" | "kbench:", [name, value, "ns", iterations]) => {
                let (guest_ns, iterations) = (value.parse::<f64>().ok()?, iterations.parse::<u64>().ok()?);
                let started = if tag == "bench:" { self.started.get(*name) } else { None };
                let wall_ns = started.map(|s| (at - *s).as_nanos() as f64 / iterations.max(1) as f64);
                let measurement = Measurement { guest_ns, iterations, wall_ns };
                let message = format!("{name}: {}", describe(&measurement));
                let figures = if tag == "bench:" { &mut self.user } else { &mut self.kernel };
                figures.insert(name.to_string(), measurement);
                Some(message)
            }
            ("bench-error:", [name, ..]) => {
                let text = rest.trim_start()[name.len()..].trim().to_string();
                let message = format!("{name}: ERROR {text}");
                self.errors.insert(name.to_string(), text);
                Some(message)
            }
            ("census:", [name, managed, plain]) => {
                let (managed, plain): (u64, u64) = (managed.parse().ok()?, plain.parse().ok()?);
                self.census.insert(name.to_string(), (managed, plain));
                let share = 100.0 * managed as f64 / (managed + plain).max(1) as f64;
                Some(format!("{name}: {share:.1} % of {} kernel heap bytes managed", managed + plain))
            }
            ("gcwindow:", [t0, t1]) => {
                self.gc_window = Some((t0.parse().ok()?, t1.parse().ok()?));
                Some(format!("churn window {t0}..{t1} ns"))
            }
            ("gclog:", [recorded, dropped]) => {
                self.gc_log = Some((recorded.parse().ok()?, dropped.parse().ok()?));
                Some(format!("GC log: {recorded} pauses recorded, {dropped} dropped"))
            }
            ("gcpause:" | "kgcpause:", [heap, cause, start, duration, work]) => {
                let source = if tag == "gcpause:" { PauseSource::UserChurn } else { PauseSource::KernelGcLoad };
                self.pauses.push(Pause {
                    source,
                    heap: heap.to_string(),
                    cause: cause.to_string(),
                    start_ns: start.parse().ok()?,
                    duration_ns: duration.parse().ok()?,
                    work: work.parse().ok()?,
                });
                None
            }
            ("irqlat:", [phase, ns]) => {
                self.irq.push(IrqSample { phase: phase.to_string(), ns: ns.parse().ok()? });
                None
            }
            ("kbench-info:", [phase, "window", start, end, "interrupts", interrupts])
                if phase.starts_with("irqlat_") =>
            {
                let phase = phase.trim_start_matches("irqlat_");
                let (start, end, interrupts): (i64, i64, u64) =
                    (start.parse().ok()?, end.parse().ok()?, interrupts.parse().ok()?);
                self.irq_windows.insert(phase.to_string(), (start, end));
                Some(format!("IRQ latency {phase} window {start}..{end} ns, {interrupts} interrupt(s)"))
            }
            ("kbench-info:", _) => None,
            _ => return None,
        };
        Some(progress)
    }

    /// The guest-time window that `source`'s pauses fall in: the churn's
    /// timed loop, or the gc-load phase of the IRQ latency benchmark.
    pub fn pause_window(&self, source: PauseSource) -> Option<(i64, i64)> {
        match source {
            PauseSource::UserChurn => self.gc_window,
            PauseSource::KernelGcLoad => self.irq_windows.get("gc-load").copied(),
        }
    }

    /// The pauses from `source`, in the order they came.
    pub fn pauses_from(&self, source: PauseSource) -> impl Iterator<Item = &Pause> {
        self.pauses.iter().filter(move |p| p.source == source)
    }

    /// The IRQ latency samples of `phase`.
    pub fn irq_samples(&self, phase: &str) -> Vec<i64> {
        self.irq.iter().filter(|s| s.phase == phase).map(|s| s.ns).collect()
    }
}

/// Benchmark names in `known` order, then any others in `reported`
/// (names the guest reported or failed), alphabetically.
pub fn report_order(known: &[&str], reported: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut names: Vec<String> = known.iter().map(|n| n.to_string()).collect();
    let mut extra: Vec<String> = reported.into_iter().filter(|n| !known.contains(&n.as_str())).collect();
    extra.sort();
    extra.dedup();
    names.extend(extra);
    names
}

/// The protocol tag in `line` and the text after it: the earliest tag that
/// starts the line or follows whitespace.
fn tagged(line: &str) -> Option<(&'static str, &str)> {
    TAGS.iter()
        .filter_map(|&tag| {
            let mut hits = line.match_indices(tag);
            let at = hits.find(|(at, _)| line[..*at].chars().next_back().is_none_or(char::is_whitespace))?.0;
            Some((at, tag))
        })
        .min_by_key(|(at, _)| *at)
        .map(|(at, tag)| (tag, &line[at + tag.len()..]))
}

/// `1.23 µs/op (wall 45.6 µs/op), 1000 ops`.
fn describe(measurement: &Measurement) -> String {
    let wall = measurement.wall_ns.map_or(String::new(), |w| format!(" (wall {}/op)", stats::format_ns(w)));
    format!("{}/op{wall}, {} op(s)", stats::format_ns(measurement.guest_ns), measurement.iterations)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A Hardtack console log with noise, `\r`, a failed benchmark and the
    /// in-kernel part.
    const LOG: &str = "hardtack: booting\r
bench: boot_to_init 52000000.0 ns 1\r
bench-start: null_syscall\r
[ 1.2] INFO noise bench: null_syscall 150.5 ns 1000\r
census: null_syscall 900 100\r
bench-start: open_close
bench-error: open_close open errno=2
bench-start: churn
bench: churn 9000.0 ns 300
gcwindow: 1000 2001000
gclog: 3 0
gcpause: user drain 1500 200 7
gcpause: user grow 900000 800 20
bench: done
hardtack: init exited with status 0
kbench: goroutine_switch 310.0 ns 10000
irqlat: idle 1200
irqlat: idle -3
irqlat: gc-load 5000
kbench-info: irqlat_gc-load window 100 5100 interrupts 1
kgcpause: kernel load 10 50 1
kbench-info: gc_load scopes 4696 heap kbench (incremental): 7 cycles
kbench-info: irqlat_idle window 7 x interrupts 1
kbench: chan_pingpong x ns 1
kbench: done
hardtack: power off
";

    #[test]
    fn parses_a_log() {
        let start = Instant::now();
        let mut results = Results::default();
        let mut progress = Vec::new();
        for (i, line) in LOG.lines().enumerate() {
            progress.extend(results.line(line, start + Duration::from_millis(i as u64)));
        }
        assert_eq!(results.user["boot_to_init"], Measurement { guest_ns: 52e6, iterations: 1, wall_ns: None });
        let null = &results.user["null_syscall"];
        assert_eq!((null.guest_ns, null.iterations), (150.5, 1000));
        assert_eq!(null.wall_ns, Some(1e6 / 1000.0), "1 ms between start and result, over 1000 ops");
        assert_eq!(results.errors["open_close"], "open errno=2");
        assert_eq!(results.census["null_syscall"], (900, 100));
        assert!(progress.iter().any(|p| p == "null_syscall: 90.0 % of 1000 kernel heap bytes managed"));
        assert!(!results.user.contains_key("open_close"));
        assert_eq!((results.gc_window, results.gc_log), (Some((1000, 2_001_000)), Some((3, 0))));
        let churn: Vec<i64> = results.pauses_from(PauseSource::UserChurn).map(|p| p.duration_ns).collect();
        assert_eq!(churn, [200, 800]);
        let kernel: Vec<&Pause> = results.pauses_from(PauseSource::KernelGcLoad).collect();
        assert_eq!((kernel.len(), kernel[0].heap.as_str(), kernel[0].work), (1, "kernel", 1));
        assert_eq!(results.kernel["goroutine_switch"].wall_ns, None);
        assert_eq!((results.irq_samples("idle"), results.irq_samples("gc-load")), (vec![1200, -3], vec![5000]));
        assert!(results.user_done && results.kernel_done);
        assert_eq!(results.irq_windows.len(), 1);
        assert_eq!(results.pause_window(PauseSource::KernelGcLoad), Some((100, 5100)));
        assert_eq!(results.pause_window(PauseSource::UserChurn), Some((1000, 2_001_000)));
        assert_eq!(
            results.malformed,
            ["kbench-info: irqlat_idle window 7 x interrupts 1", "kbench: chan_pingpong x ns 1"],
            "other kbench-info text is not malformed"
        );
        assert!(progress.iter().any(|p| p.starts_with("null_syscall: 150 ns/op (wall 1.00 µs/op)")), "{progress:?}");
        assert!(progress.iter().any(|p| p == "open_close: ERROR open errno=2"));
        assert!(progress.iter().any(|p| p == "IRQ latency gc-load window 100..5100 ns, 1 interrupt(s)"));
        assert!(
            !progress.iter().any(|p| p.contains("irqlat:") || p.contains("gcpause:")),
            "raw samples are not progress"
        );
    }

    #[test]
    fn tags_need_a_word_boundary() {
        assert_eq!(tagged("kbench: done"), Some(("kbench:", " done")));
        assert_eq!(tagged("xbench: done"), None);
        assert_eq!(tagged("noise gcpause: a"), Some(("gcpause:", " a")));
        assert_eq!(tagged("nothing here"), None);
    }

    #[test]
    fn names_keep_the_known_order_then_the_rest() {
        let names = report_order(&["b", "a"], ["z".to_string(), "a".into(), "c".into(), "c".into()]);
        assert_eq!(names, ["b", "a", "c", "z"]);
    }
}

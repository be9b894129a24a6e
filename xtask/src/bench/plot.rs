//! The SVG plots of a benchmark run, drawn with `plotters` (SVG backend
//! only: its text is SVG `<text>` that the viewer lays out, so no font
//! library is needed):
//!
//! - `gc_pause_cdf.svg`: the CDF of GC pause durations during the churn,
//!   one line per policy, x on a log scale in µs;
//! - `irq_latency_cdf.svg`: the CDF of timer-IRQ latency, one line per
//!   policy × phase (solid idle, dashed gc-load), same axes;
//! - `ratio_vs_linux.svg`: Hardtack's guest time over Linux's per user-space
//!   benchmark, a bar per policy in each benchmark's group, on a log scale
//!   around a line at 1.0;
//! - `ratio_vs_linux_nomitig.svg`: the same over Linux with `mitigations=off`.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::protocol::{IRQ_PHASES, PauseSource, USER_BENCHMARKS, report_order};
use super::{BootReport, System};
use crate::build::Gc;
use crate::test::Layout;

/// Size of every plot, in pixels.
const SIZE: (u32, u32) = (960, 540);
/// CDF samples at or below this many µs are drawn at it (the log scale has
/// no zero; IRQ latencies can be negative).
const FLOOR_US: f64 = 0.001;
/// Dash and gap lengths of a dashed line, in pixels.
const DASH: (i32, i32) = (6, 4);

/// The colour of a policy's lines and bars: lighter for the global heap
/// layout.
fn colour(gc: Gc, layout: Layout) -> RGBColor {
    let RGBColor(r, g, b) = match gc {
        Gc::Incremental => RGBColor(0x1f, 0x77, 0xb4),
        Gc::Stw => RGBColor(0xd6, 0x27, 0x28),
        Gc::None => RGBColor(0x2c, 0xa0, 0x2c),
    };
    let lighter = |c: u8| c + (255 - c) / 2;
    match layout {
        Layout::PerProcess => RGBColor(r, g, b),
        Layout::Global => RGBColor(lighter(r), lighter(g), lighter(b)),
    }
}

/// One line of a CDF plot.
struct Cdf {
    label: String,
    colour: RGBColor,
    dashed: bool,
    /// Samples in guest ns.
    samples: Vec<i64>,
}

/// Writes the four plots into `dir`.
pub fn write(dir: &Path, boots: &[BootReport]) -> Result<()> {
    let hardtack: Vec<(RGBColor, &BootReport)> = boots
        .iter()
        .filter_map(|b| match b.system {
            System::Hardtack(gc, layout) => Some((colour(gc, layout), b)),
            System::Linux { .. } => None,
        })
        .collect();
    let pauses = hardtack.iter().map(|(colour, boot)| Cdf {
        label: boot.system.title(),
        colour: *colour,
        dashed: false,
        samples: boot.results.pauses_from(PauseSource::UserChurn).map(|p| p.duration_ns).collect(),
    });
    let title = "GC pause duration during churn (CDF)";
    svg(dir, "gc_pause_cdf.svg", |area| cdf(area, title, "pause (µs, guest time)", pauses.collect()))?;
    let irq = hardtack.iter().flat_map(|(colour, boot)| {
        IRQ_PHASES.iter().map(|phase| Cdf {
            label: format!("{} {phase}", boot.system.title()),
            colour: *colour,
            dashed: *phase != "idle",
            samples: boot.results.irq_samples(phase),
        })
    });
    let title = "Timer IRQ latency (CDF)";
    svg(dir, "irq_latency_cdf.svg", |area| cdf(area, title, "latency (µs, guest time)", irq.collect()))?;
    for baseline in System::LINUX {
        let name = format!("ratio_vs_{}.svg", baseline.name().replace('-', "_"));
        let linux = boots.iter().find(|b| b.system == baseline);
        svg(dir, &name, |area| ratios(area, baseline, linux, &hardtack))?;
    }
    Ok(())
}

/// Draws one plot with `draw` and writes it to `dir/name`.
fn svg(dir: &Path, name: &str, draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<()>) -> Result<()> {
    let mut text = String::new();
    {
        let area = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        area.fill(&WHITE).map_err(plot_error)?;
        draw(&area).with_context(|| format!("plot {name}"))?;
        area.present().map_err(plot_error)?;
    }
    let path = dir.join(name);
    fs::write(&path, text).with_context(|| format!("write {}", path.display()))
}

/// A plotters error as an anyhow one (its backend errors are not `Sync`).
fn plot_error(error: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("{error}")
}

/// Ticks for a log axis from `low` to `high`: 1, 2 and 5 times each power
/// of ten in between.
fn log_ticks(low: f64, high: f64) -> Vec<f64> {
    let decades = low.log10().floor() as i32..=high.log10().ceil() as i32;
    let ticks = decades.flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(k)));
    ticks.filter(|t| (low..=high).contains(t)).collect()
}

/// A tick value with as many decimals as it needs (`0.05`, `1`, `200`).
fn tick_label(value: f64) -> String {
    let decimals = (-value.log10().floor()).max(0.0) as usize;
    format!("{value:.decimals$}")
}

/// The CDF of `sorted` as a step function: one vertical step per distinct
/// value, up by the fraction of samples that have it (so equal samples,
/// common in guest-time figures, cost one step, not one each).
fn cdf_steps(sorted: &[f64]) -> Vec<(f64, f64)> {
    let n = sorted.len() as f64;
    let mut points = Vec::new();
    let mut below = 0;
    for group in sorted.chunk_by(|a, b| a == b) {
        let x = group[0];
        points.push((x, below as f64 / n));
        below += group.len();
        points.push((x, below as f64 / n));
    }
    points
}

/// A CDF chart of `lines`, x on a log scale in µs; a line without samples
/// only shows in the legend.
fn cdf(area: &DrawingArea<SVGBackend, Shift>, title: &str, x_desc: &str, lines: Vec<Cdf>) -> Result<()> {
    let us = |ns: i64| (ns as f64 / 1000.0).max(FLOOR_US);
    let all = lines.iter().flat_map(|l| l.samples.iter().copied().map(us));
    let (low, high) = all.fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let (low, high) = if low > high { (1.0, 1000.0) } else { (low / 1.5, (high * 1.5).max(low * 10.0)) };
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d((low..high).log_scale().with_key_points(log_ticks(low, high)), 0.0..1.0)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc(format!("{x_desc}; values below {FLOOR_US} µs drawn at it"))
        .y_desc("fraction of samples ≤ x")
        .x_label_formatter(&|x| tick_label(*x))
        .draw()
        .map_err(plot_error)?;
    for line in &lines {
        let mut sorted: Vec<f64> = line.samples.iter().copied().map(us).collect();
        sorted.sort_by(f64::total_cmp);
        let points = cdf_steps(&sorted);
        let style = ShapeStyle::from(line.colour).stroke_width(2);
        let label = match sorted.len() {
            0 => format!("{} (no samples)", line.label),
            count => format!("{} ({count})", line.label),
        };
        let series = match line.dashed {
            true => chart.draw_series(DashedLineSeries::new(points, DASH.0, DASH.1, style)),
            false => chart.draw_series(LineSeries::new(points, style)),
        };
        let (dash, gap) = if line.dashed { DASH } else { (20, 0) };
        series
            .map_err(plot_error)?
            .label(label)
            .legend(move |(x, y)| DashedPathElement::new(vec![(x, y), (x + 20, y)], dash, gap, style));
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)
}

/// Bars of Hardtack's guest time over that of `baseline` (a Linux system,
/// its boot `linux`), per user-space benchmark and policy, from 1.0 to the
/// ratio on a log scale; a note if it did not run.
fn ratios(
    area: &DrawingArea<SVGBackend, Shift>,
    baseline: System,
    linux: Option<&BootReport>,
    hardtack: &[(RGBColor, &BootReport)],
) -> Result<()> {
    let title = baseline.title();
    let Some(linux) = linux else {
        let style = ("sans-serif", 22).into_font().color(&BLACK);
        area.draw_text(&format!("{title} did not run (--no-linux): no ratios"), &style, (40, 40))
            .map_err(plot_error)?;
        return Ok(());
    };
    let names = report_order(USER_BENCHMARKS, hardtack.iter().flat_map(|(_, b)| b.results.user.keys().cloned()));
    let ratio = |boot: &BootReport, name: &str| {
        let (h, l) = (boot.results.user.get(name)?.guest_ns, linux.results.user.get(name)?.guest_ns);
        (h > 0.0 && l > 0.0).then_some(h / l)
    };
    let values: Vec<f64> = hardtack.iter().flat_map(|(_, b)| names.iter().filter_map(|n| ratio(b, n))).collect();
    let low = values.iter().copied().fold(1.0, f64::min) / 2.0;
    let high = values.iter().copied().fold(1.0, f64::max) * 2.0;
    let mut chart = ChartBuilder::on(area)
        .caption(format!("Hardtack / {title}, guest time per operation"), ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..names.len() as f64, (low..high).log_scale().with_key_points(log_ticks(low, high)))
        .map_err(plot_error)?;
    let label_of = |x: &f64| {
        let centre = x - 0.5;
        let i = centre.round();
        if (centre - i).abs() < 1e-6 { names.get(i as usize).cloned().unwrap_or_default() } else { String::new() }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(names.len() * 2 + 1)
        .x_label_formatter(&label_of)
        .y_desc("ratio (log scale; above 1: Hardtack slower)")
        .y_label_formatter(&|y| tick_label(*y))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(plot_error)?;
    let width = 0.8 / hardtack.len().max(1) as f64;
    for (k, (colour, boot)) in hardtack.iter().enumerate() {
        let style = ShapeStyle::from(*colour).filled();
        let bars: Vec<(f64, f64)> = names
            .iter()
            .enumerate()
            .filter_map(|(i, name)| Some((i as f64 + 0.1 + k as f64 * width, ratio(boot, name)?)))
            .collect();
        let rectangles = bars.iter().map(|&(x, r)| Rectangle::new([(x, 1.0), (x + width * 0.9, r)], style));
        chart
            .draw_series(rectangles)
            .map_err(plot_error)?
            .label(boot.system.title())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], style));
        // The value at the end of each bar, outside it.
        let values = bars.iter().map(|&(x, r)| {
            let end = if r >= 1.0 { VPos::Bottom } else { VPos::Top };
            let font = ("sans-serif", 11).into_font().color(&BLACK).pos(Pos::new(HPos::Center, end));
            Text::new(format!("{r:.2}"), (x + width * 0.45, r), font)
        });
        chart.draw_series(values).map_err(plot_error)?;
    }
    let one = LineSeries::new([(0.0, 1.0), (names.len() as f64, 1.0)], BLACK.stroke_width(1));
    chart
        .draw_series(one)
        .map_err(plot_error)?
        .label(format!("1.0: as fast as {title}"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

/// Draws the legend of `chart`'s labelled series at `position`.
fn legend<'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(plot_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_steps_once_per_distinct_value() {
        let steps = cdf_steps(&[1.0, 1.0, 1.0, 2.0]);
        assert_eq!(steps, vec![(1.0, 0.0), (1.0, 0.75), (2.0, 0.75), (2.0, 1.0)]);
        assert!(cdf_steps(&[]).is_empty());
    }
    use crate::bench::boot_from_log as boot;

    #[test]
    fn plots_are_written_with_every_series() {
        let dir = std::env::temp_dir().join(format!("xtask-plot-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let mut hardtack = String::from("bench: null_syscall 400 ns 10\nbench: churn 60000 ns 10\n");
        for i in 1..200 {
            hardtack += &format!(
                "gcpause: fs pacing {i} {} 3\nirqlat: idle {}\nirqlat: gc-load {}\n",
                i * 700,
                90 + i,
                i * i - 5
            );
        }
        let [stock, nomitig] = System::LINUX;
        let boots = [
            boot(stock, "bench: null_syscall 300 ns 10\nbench: churn 90000 ns 10\n"),
            boot(nomitig, "bench: null_syscall 160 ns 10\n"),
            boot(System::Hardtack(Gc::Incremental, Layout::PerProcess), &hardtack),
            boot(System::Hardtack(Gc::None, Layout::Global), "bench: null_syscall 390 ns 10\n"),
        ];
        write(&dir, &boots).unwrap();
        let read = |name: &str| fs::read_to_string(dir.join(name)).unwrap();
        let pauses = read("gc_pause_cdf.svg");
        assert!(pauses.contains("gc-incremental (199)") && pauses.contains("gc-none global (no samples)"));
        assert!(read("irq_latency_cdf.svg").contains("gc-incremental gc-load (199)"));
        let ratios = read("ratio_vs_linux.svg");
        assert!(ratios.contains("null_syscall") && ratios.contains("1.33") && ratios.contains("gc-none"));
        assert!(ratios.contains("Hardtack / Linux, guest") && !ratios.contains("2.50"));
        let nomitig = read("ratio_vs_linux_nomitig.svg");
        assert!(nomitig.contains("Hardtack / Linux (mitigations=off), guest") && nomitig.contains("2.50"));
        assert!(nomitig.contains("as fast as Linux (mitigations=off)") && !nomitig.contains("1.33"));
        write(&dir, &boots[2..]).unwrap();
        assert!(read("ratio_vs_linux.svg").contains("Linux did not run"));
        assert!(read("ratio_vs_linux_nomitig.svg").contains("Linux (mitigations=off) did not run"));
    }

    #[test]
    fn log_axes_tick_at_1_2_5() {
        assert_eq!(log_ticks(0.03, 3.0), [0.05, 0.1, 0.2, 0.5, 1.0, 2.0]);
        let labels: Vec<String> = log_ticks(0.9, 250.0).into_iter().map(tick_label).collect();
        assert_eq!(labels, ["1", "2", "5", "10", "20", "50", "100", "200"]);
        assert_eq!((tick_label(0.001), tick_label(0.05)), ("0.001".into(), "0.05".into()));
    }
}

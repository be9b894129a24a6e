//! Statistics of raw samples (exact percentiles, no binning) and the
//! formatting of figures for people.

/// Summary of a non-empty set of samples (guest ns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Number of samples.
    pub count: usize,
    /// Median.
    pub p50: i64,
    /// 99th percentile.
    pub p99: i64,
    /// 99.9th percentile.
    pub p999: i64,
    /// Largest sample.
    pub max: i64,
    /// Sum of the samples.
    pub total: i64,
}

impl Summary {
    /// The summary of `samples`, or `None` if there are none.
    pub fn of(samples: &[i64]) -> Option<Summary> {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        Some(Summary {
            count: sorted.len(),
            p50: percentile(&sorted, 500)?,
            p99: percentile(&sorted, 990)?,
            p999: percentile(&sorted, 999)?,
            max: *sorted.last()?,
            total: sorted.iter().sum(),
        })
    }
}

/// The `per_mille`/1000 percentile of `sorted` by the nearest-rank method:
/// the smallest sample with at least that fraction of the samples at or
/// below it (always one of the samples). `None` if there are none.
pub fn percentile(sorted: &[i64], per_mille: usize) -> Option<i64> {
    let rank = (per_mille * sorted.len()).div_ceil(1000).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied()
}

/// A duration in ns with three significant digits and a fitting unit:
/// `45.6 ns`, `1.23 µs`, `456 ms`, `2.00 s`.
pub fn format_ns(ns: f64) -> String {
    let (value, unit) = match ns.abs() {
        a if a < 1e3 => (ns, "ns"),
        a if a < 1e6 => (ns / 1e3, "µs"),
        a if a < 1e9 => (ns / 1e6, "ms"),
        _ => (ns / 1e9, "s"),
    };
    let decimals = match value.abs() {
        0.0 => 0,
        a if a >= 99.95 => 0,
        a if a >= 9.995 => 1,
        _ => 2,
    };
    format!("{value:.decimals$} {unit}")
}

/// A ratio as `1.23×`.
pub fn format_ratio(ratio: f64) -> String {
    format!("{ratio:.2}×")
}

/// A fraction as a percentage: `1.23 %`.
pub fn format_share(share: f64) -> String {
    format!("{:.2} %", share * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank_samples() {
        let samples: Vec<i64> = (1..=1000).rev().collect();
        let summary = Summary::of(&samples).unwrap();
        assert_eq!((summary.p50, summary.p99, summary.p999, summary.max), (500, 990, 999, 1000));
        assert_eq!((summary.count, summary.total), (1000, 500_500));
        let ten: Vec<i64> = (1..=10).map(|i| i * 10).collect();
        assert_eq!(
            (percentile(&ten, 500), percentile(&ten, 990), percentile(&ten, 999)),
            (Some(50), Some(100), Some(100))
        );
        assert_eq!(percentile(&[-5], 500), Some(-5));
        assert_eq!(percentile(&[], 500), None);
        assert_eq!(Summary::of(&[]), None);
        let two = Summary::of(&[7, 3]).unwrap();
        assert_eq!((two.p50, two.p99, two.max), (3, 7, 7), "the median of two is the lower one");
    }

    #[test]
    fn durations_get_three_digits_and_a_unit() {
        assert_eq!(format_ns(45.64), "45.6 ns");
        assert_eq!(format_ns(150.5), "150 ns");
        assert_eq!(format_ns(1234.0), "1.23 µs");
        assert_eq!(format_ns(99_960.0), "100 µs");
        assert_eq!(format_ns(456_000_000.0), "456 ms");
        assert_eq!(format_ns(2e9), "2.00 s");
        assert_eq!(format_ns(-3.0), "-3.00 ns");
        assert_eq!(format_ns(0.0), "0 ns");
        assert_eq!(format_ratio(1.234), "1.23×");
        assert_eq!(format_share(0.01234), "1.23 %");
    }
}

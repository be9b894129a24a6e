//! A fixed-size, allocation-free histogram of pause lengths: power-of-two
//! nanosecond buckets, so percentiles are known to within a factor of two
//! and the exact maximum is kept beside them.

/// Number of buckets: bucket `i` holds pauses in `[2^i, 2^(i+1))` ns
/// (bucket 0 also holds 0 and 1 ns; the last bucket holds everything above).
pub const BUCKETS: usize = 40;

/// Pause-length histogram. Plain data: copying it out is a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PauseHistogram {
    counts: [u64; BUCKETS],
    count: u64,
    total_ns: u64,
    max_ns: u64,
}

impl Default for PauseHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl PauseHistogram {
    /// An empty histogram.
    pub const fn new() -> Self {
        Self { counts: [0; BUCKETS], count: 0, total_ns: 0, max_ns: 0 }
    }

    /// The bucket a pause of `ns` falls in.
    pub fn bucket_of(ns: u64) -> usize {
        if ns < 2 { 0 } else { (ns.ilog2() as usize).min(BUCKETS - 1) }
    }

    /// Exclusive upper end of bucket `i`, in ns.
    pub fn bucket_limit(i: usize) -> u64 {
        if i + 1 >= 64 { u64::MAX } else { 1u64 << (i + 1) }
    }

    /// Records one pause.
    pub fn record(&mut self, ns: u64) {
        self.counts[Self::bucket_of(ns)] += 1;
        self.count += 1;
        self.total_ns = self.total_ns.saturating_add(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Pauses recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of all pauses, in ns.
    pub fn total_ns(&self) -> u64 {
        self.total_ns
    }

    /// Longest pause, in ns.
    pub fn max_ns(&self) -> u64 {
        self.max_ns
    }

    /// Pauses in bucket `i`.
    pub fn bucket_count(&self, i: usize) -> u64 {
        self.counts[i]
    }

    /// An upper bound on the `per_mille`-th percentile (500 = median,
    /// 999 = p99.9): the end of the bucket holding that rank, capped by the
    /// maximum. Zero when empty.
    pub fn percentile_ns(&self, per_mille: u64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = (self.count * per_mille.min(1000)).div_ceil(1000).max(1);
        let mut seen = 0;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return (Self::bucket_limit(i) - 1).min(self.max_ns);
            }
        }
        self.max_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_powers_of_two() {
        assert_eq!(PauseHistogram::bucket_of(0), 0);
        assert_eq!(PauseHistogram::bucket_of(1), 0);
        assert_eq!(PauseHistogram::bucket_of(2), 1);
        assert_eq!(PauseHistogram::bucket_of(1023), 9);
        assert_eq!(PauseHistogram::bucket_of(1024), 10);
        assert_eq!(PauseHistogram::bucket_of(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn percentiles_bound_the_rank() {
        let mut h = PauseHistogram::new();
        assert_eq!(h.percentile_ns(500), 0);
        for _ in 0..990 {
            h.record(1_000); // bucket 9: [512, 1024)
        }
        for _ in 0..9 {
            h.record(100_000); // bucket 16
        }
        h.record(5_000_000);
        assert_eq!(h.count(), 1000);
        assert_eq!(h.max_ns(), 5_000_000);
        assert_eq!(h.total_ns(), 990 * 1_000 + 9 * 100_000 + 5_000_000);
        assert_eq!(h.percentile_ns(500), 1023);
        assert_eq!(h.percentile_ns(990), 1023);
        assert_eq!(h.percentile_ns(999), 131_071);
        assert_eq!(h.percentile_ns(1000), 5_000_000);
        let true_p50 = 1_000;
        assert!(h.percentile_ns(500) >= true_p50 && h.percentile_ns(500) < 2 * true_p50);
    }
}

//! Sample statistics and the machine-readable result line.
//!
//! Median is element `n/2` of the sorted samples (BASELINES.md); min and
//! max come with it. One benchmark prints one line:
//! `bench NAME median=N min=N max=N samples=N unit=cycles[ extra]`.

use ulib::prelude::Vec;

use ulib::println;

/// Median (element n/2 of the sorted samples), min and max; sorts `samples`.
pub struct Summary {
    pub median: u64,
    pub min: u64,
    pub max: u64,
    pub samples: usize,
}

impl Summary {
    /// Summarises `samples` (sorted in place); all zero when empty.
    pub fn of(samples: &mut [u64]) -> Summary {
        samples.sort_unstable();
        let n = samples.len();
        if n == 0 {
            return Summary {
                median: 0,
                min: 0,
                max: 0,
                samples: 0,
            };
        }
        Summary {
            median: samples[n / 2],
            min: samples[0],
            max: samples[n - 1],
            samples: n,
        }
    }

    /// Every value divided by `k` (a batch of `k` operations per sample).
    pub fn per(self, k: u64) -> Summary {
        Summary {
            median: self.median / k,
            min: self.min / k,
            max: self.max / k,
            samples: self.samples,
        }
    }
}

/// Prints `bench NAME median=.. min=.. max=.. samples=.. unit=cycles` and
/// then `extra` (space-separated `key=value` fields, may be empty).
pub fn report(name: &str, s: &Summary, extra: &str) {
    let sep = if extra.is_empty() { "" } else { " " };
    println!(
        "bench {name} median={} min={} max={} samples={} unit=cycles{sep}{extra}",
        s.median, s.min, s.max, s.samples
    );
}

/// A vector ready for `n` samples, allocated before any timing starts.
pub fn samples(n: usize) -> Vec<u64> {
    Vec::with_capacity(n)
}

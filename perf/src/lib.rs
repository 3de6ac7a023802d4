//! berth-perf: the benchmarks of `BASELINES.md`, host side.
//!
//! The guest program `bench` (user/src/bin/bench) times each benchmark with
//! `rdtsc` and prints one `bench ...` line per result; `bench-runner` boots
//! berth under QEMU a few times, types `bench --cpus N` at the shell,
//! collects those lines and prints a table next to MIT xv6's numbers.
//!
//! Modules (all pure, unit-tested on the host):
//! - [`parse`]: the guest's `bench ...` lines;
//! - [`baseline`]: xv6's figures from `BASELINES.md`;
//! - [`boot`]: boot to prompt, timed by the runner;
//! - [`report`]: the median over boots and the table's rows;
//! - [`render`]: the whole report, one table for every CPU count, notes;
//! - [`table`]: the Markdown table writer;
//! - [`trace_cost`]: the tracer's cost from paired rows;
//! - [`scaling`]: N processes against what the host's cores allow;
//! - [`sweep`]: the CPU-count sweep's benchmarks and boots;
//! - [`cli`]: the runner's command line.

pub mod baseline;
pub mod boot;
pub mod cli;
#[cfg(test)]
mod fixtures;
pub mod parse;
pub mod render;
pub mod report;
pub mod scaling;
pub mod sweep;
pub mod table;
pub mod trace_cost;

/// Median as `BASELINES.md` defines it: element `n/2` of the sorted values
/// (`None` when there are none).
pub fn median<T: Copy + PartialOrd>(values: &[T]) -> Option<T> {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v.get(v.len() / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_is_element_n_over_2() {
        assert_eq!(median::<u64>(&[]), None);
        assert_eq!(median(&[7u64]), Some(7));
        // Even count: the upper middle, not the mean.
        assert_eq!(median(&[4u64, 1, 3, 2]), Some(3));
        assert_eq!(median(&[5u64, 1, 9]), Some(5));
        assert_eq!(median(&[2.5f64, 1.0]), Some(2.5));
    }
}

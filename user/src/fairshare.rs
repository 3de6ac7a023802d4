//! Weighted max-min fair shares of the CPUs, the expectation `schedtest`
//! checks the two-level scheduler against (pure, host-tested).
//!
//! Each group (a container) has a weight and a number of CPU-bound
//! processes; a process can use at most one CPU, so a group can use at most
//! as many CPUs as it has processes. Water-filling: share the free CPUs
//! among the groups not yet satisfied in proportion to their weights; a
//! group offered at least what it can use gets exactly that and drops out;
//! repeat with what is left until no group drops out. The result is
//! weighted max-min fair: no group can get more without taking from a
//! group that has no more than its weighted fair portion.
//!
//! Measured shares are fractions of the cycles the groups used together,
//! so [`fractions`] turns allocations (in CPUs) into fractions of their
//! sum: with fewer processes than CPUs nothing is contended and each group's
//! fraction is its process count over the total (1 of 7 for one process
//! against six on 8 CPUs), whatever the weights.

use alloc::vec;
use alloc::vec::Vec;

/// What one group asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Demand {
    /// Its CPU weight (`cpu_weight`; 0 counts as nothing asked).
    pub weight: u32,
    /// Its CPU-bound processes: the most CPUs it can use.
    pub procs: usize,
}

/// The CPUs each group gets (same order as `demands`), by water-filling
/// `cpus` CPUs. A group with no process or weight 0 gets 0.
pub fn allocate(demands: &[Demand], cpus: usize) -> Vec<f64> {
    let mut alloc = vec![0.0f64; demands.len()];
    let mut open: Vec<usize> = (0..demands.len())
        .filter(|&i| demands[i].procs > 0 && demands[i].weight > 0)
        .collect();
    let mut free = cpus as f64;
    while !open.is_empty() && free > 0.0 {
        let total: f64 = open.iter().map(|&i| f64::from(demands[i].weight)).sum();
        // The groups this round's portions satisfy get what they can use.
        let full: Vec<usize> = open
            .iter()
            .copied()
            .filter(|&i| free * f64::from(demands[i].weight) / total >= demands[i].procs as f64)
            .collect();
        if full.is_empty() {
            for &i in &open {
                alloc[i] = free * f64::from(demands[i].weight) / total;
            }
            break;
        }
        for &i in &full {
            alloc[i] = demands[i].procs as f64;
            free -= alloc[i];
        }
        open.retain(|i| !full.contains(i));
    }
    alloc
}

/// Each value as a fraction of their sum (all 0 when the sum is 0).
pub fn fractions(values: &[f64]) -> Vec<f64> {
    let sum: f64 = values.iter().sum();
    values
        .iter()
        .map(|&v| if sum > 0.0 { v / sum } else { 0.0 })
        .collect()
}

/// Counter deltas as fractions of their sum; `None` when nothing moved.
pub fn shares(deltas: &[u64]) -> Option<Vec<f64>> {
    let sum: u128 = deltas.iter().map(|&d| u128::from(d)).sum();
    if sum == 0 {
        return None;
    }
    Some(
        deltas
            .iter()
            .map(|&d| (u128::from(d) as f64) / (sum as f64))
            .collect(),
    )
}

/// The expected fraction of the groups' cycles for each group.
pub fn expected(demands: &[Demand], cpus: usize) -> Vec<f64> {
    fractions(&allocate(demands, cpus))
}

/// `measured / expected - 1`: the relative deviation (0 when both are 0;
/// infinite when only `expected` is 0).
pub fn deviation(measured: f64, expected: f64) -> f64 {
    if expected == 0.0 {
        return if measured == 0.0 { 0.0 } else { f64::INFINITY };
    }
    measured / expected - 1.0
}

/// Whether `measured` is within `tolerance` (relative: 0.02 is ±2 % of
/// `expected`, not two percentage points) of `expected`.
pub fn within(measured: f64, expected: f64, tolerance: f64) -> bool {
    let d = deviation(measured, expected);
    -tolerance <= d && d <= tolerance
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(weight: u32, procs: usize) -> Demand {
        Demand { weight, procs }
    }

    fn close(got: &[f64], want: &[f64]) -> bool {
        got.len() == want.len() && got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-9)
    }

    #[track_caller]
    fn check(got: Vec<f64>, want: &[f64]) {
        assert!(close(&got, want), "got {got:?}, want {want:?}");
    }

    #[test]
    fn contended_groups_split_by_weight() {
        // schedtest's `weights`: 50/100/150 with enough processes each.
        let w = [d(50, 2), d(100, 2), d(150, 2)];
        check(allocate(&w, 2), &[1.0 / 3.0, 2.0 / 3.0, 1.0]);
        check(expected(&w, 2), &[1.0 / 6.0, 1.0 / 3.0, 0.5]);
        let w8 = [d(50, 8), d(100, 8), d(150, 8)];
        check(allocate(&w8, 8), &[4.0 / 3.0, 8.0 / 3.0, 4.0]);
        check(expected(&w8, 8), &[1.0 / 6.0, 1.0 / 3.0, 0.5]);
    }

    #[test]
    fn a_group_gets_no_more_cpus_than_processes() {
        // schedtest's `one-vs-six`, equal weights.
        let g = [d(100, 1), d(100, 6)];
        check(allocate(&g, 1), &[0.5, 0.5]);
        check(allocate(&g, 2), &[1.0, 1.0]);
        check(expected(&g, 2), &[0.5, 0.5]);
        check(allocate(&g, 4), &[1.0, 3.0]);
        check(expected(&g, 4), &[0.25, 0.75]);
        // 7 processes on 8 CPUs: nothing is contended, A has 1 of 7.
        check(allocate(&g, 8), &[1.0, 6.0]);
        check(expected(&g, 8), &[1.0 / 7.0, 6.0 / 7.0]);
    }

    #[test]
    fn leftover_is_redistributed_by_weight_in_rounds() {
        // 6 CPUs, weights 100/100/200: fair 1.5/1.5/3; A can use 1, the
        // other 5 go 1:2 to B and C.
        let g = [d(100, 1), d(100, 5), d(200, 5)];
        check(allocate(&g, 6), &[1.0, 5.0 / 3.0, 10.0 / 3.0]);
        // A cascade: C's portion grows past its 2 processes only after A drops out.
        let g = [d(100, 1), d(100, 10), d(300, 2)];
        // Round 1: 4 CPUs at 0.8/0.8/2.4 -> C full (2). Round 2: 2 CPUs at 1/1 -> A full.
        // Round 3: B gets the last 1.
        check(allocate(&g, 4), &[1.0, 1.0, 2.0]);
        let g = [d(100, 1), d(100, 10), d(300, 3)];
        // Round 1: 0.8/0.8/2.4 -> nobody full: as is.
        check(allocate(&g, 4), &[0.8, 0.8, 2.4]);
    }

    #[test]
    fn empty_zero_and_oversupplied_groups() {
        check(allocate(&[], 4), &[]);
        check(allocate(&[d(100, 0), d(100, 3)], 2), &[0.0, 2.0]);
        check(allocate(&[d(0, 3), d(100, 3)], 2), &[0.0, 2.0]);
        check(allocate(&[d(100, 1), d(900, 1)], 8), &[1.0, 1.0]);
        check(allocate(&[d(100, 4)], 0), &[0.0]);
        check(fractions(&[0.0, 0.0]), &[0.0, 0.0]);
        check(
            expected(&[d(1, 2), d(10_000, 2)], 2),
            &[1.0 / 10_001.0, 10_000.0 / 10_001.0],
        );
    }

    #[test]
    fn shares_of_counter_deltas() {
        assert_eq!(shares(&[0, 0]), None);
        assert_eq!(shares(&[]), None);
        check(shares(&[1, 3]).unwrap(), &[0.25, 0.75]);
        // No overflow on large counters.
        check(shares(&[u64::MAX, u64::MAX]).unwrap(), &[0.5, 0.5]);
    }

    #[test]
    fn tolerance_is_relative() {
        // ±2 % of 1/6 is 0.1633..0.1700, not 0.1467..0.1867.
        assert!(within(0.1667, 1.0 / 6.0, 0.02));
        assert!(within(0.1699, 1.0 / 6.0, 0.02));
        assert!(!within(0.1701, 1.0 / 6.0, 0.02));
        assert!(!within(0.1630, 1.0 / 6.0, 0.02));
        assert!(!within(1.0 / 3.0, 1.0 / 6.0, 0.02));
        assert!((deviation(1.0 / 3.0, 1.0 / 6.0) - 1.0).abs() < 1e-12);
        assert!(within(0.0, 0.0, 0.02));
        assert!(!within(0.01, 0.0, 0.02));
        assert_eq!(deviation(0.01, 0.0), f64::INFINITY);
    }
}

//! How many CPUs are online. No system call says so, so this measures it:
//! [`MAX_CPUS`] spinning processes in a scratch container for half a
//! second; the container's cycles over the TSC cycles that passed are the
//! CPUs that ran them (every online CPU runs one: an idle CPU takes
//! runnable work), rounded to the nearest whole CPU. It relies on the same
//! counter the scenarios do, not on `ps`.

use ulib::prelude::*;

use crate::group::{nap, Group, Snapshot};

/// The most CPUs berth runs on (the kernel's `param::MAX_CPUS`, which
/// `berth_abi` does not carry).
pub const MAX_CPUS: usize = 8;

/// Ticks the spinners run before, and while, they are measured.
const SETTLE_TICKS: u64 = 10;
const MEASURE_TICKS: u64 = 50;

/// The number of online CPUs, and the CPUs the spinners used (unrounded).
pub fn online() -> Result<(usize, f64), String> {
    let mut g = Group::create("st-cpus", 100)?;
    g.spin(MAX_CPUS)?;
    nap(SETTLE_TICKS);
    let before = Snapshot::take(false)?;
    nap(MEASURE_TICKS);
    let after = Snapshot::take(false)?;
    let used = after.container_delta(&before, g.id) as f64 / after.elapsed(&before).max(1) as f64;
    let n = (used + 0.5) as usize;
    if !(1..=MAX_CPUS).contains(&n) {
        return Err(format!("{MAX_CPUS} spinners used {used:.2} CPUs"));
    }
    Ok((n, used))
}

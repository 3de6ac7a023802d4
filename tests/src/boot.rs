//! Waiting for a complete boot and checking what the kernel reported.
//!
//! Every test that needs a running kernel starts here: [`expect_boot`] reads
//! the banner, the per-CPU lines, the `N of N CPUs online` line and the
//! timer line, and fails (with the console tail) if any is missing or
//! inconsistent with the QEMU configuration. Checks that depend on the host
//! (memory size, TSC speed, APIC mode per accelerator) are left to tests.

use std::time::Duration;

use berth_abi::markers::{ALL_TICKING_PREFIX, BANNER_PREFIX, CPUS_ONLINE_SUFFIX};

use crate::lines::{self, ApicMode, Ticking, Tsc, APIC_PREFIX, MEMORY_PREFIX, TSC_PREFIX};
use crate::qemu::Qemu;
use crate::report::TestFailure;
use crate::TIMEOUT;

/// Timer ticks per second: xv6's 100 Hz, which `sleep` and `uptime` count
/// in (DESIGN §3), so user-visible; the kernel's `param::TICKS_PER_SEC`.
pub const TICK_HZ: u64 = 100;

/// The first four boot lines.
#[derive(Clone, Debug, PartialEq)]
pub struct Banner {
    /// Kernel version, e.g. `0.1.0`.
    pub version: String,
    /// Usable RAM the kernel found, in MiB.
    pub memory_mib: u64,
    /// Local APIC interface in use.
    pub apic: ApicMode,
    /// Clock facts.
    pub tsc: Tsc,
}

/// What a complete boot reported.
#[derive(Clone, Debug, PartialEq)]
pub struct BootReport {
    /// The banner.
    pub banner: Banner,
    /// APIC id of each CPU, by CPU index.
    pub apic_ids: Vec<u32>,
    /// Wall time from spawning QEMU to the `N of N CPUs online` line.
    pub online_after: Duration,
    /// The timer line.
    pub ticking: Ticking,
}

/// Waits for the banner lines and parses them.
pub fn expect_banner(qemu: &mut Qemu) -> Result<Banner, TestFailure> {
    let version = expect_line(qemu, BANNER_PREFIX, lines::parse_banner)?;
    let memory_mib = expect_line(qemu, MEMORY_PREFIX, lines::parse_memory)?;
    let apic = expect_line(qemu, APIC_PREFIX, lines::parse_apic)?;
    let tsc = expect_line(qemu, TSC_PREFIX, lines::parse_tsc)?;
    Ok(Banner {
        version,
        memory_mib,
        apic,
        tsc,
    })
}

/// Waits for a whole boot: banner, every CPU online, every CPU ticking.
/// Leaves the cursor just past the timer line.
/// Each wait is bounded by [`TIMEOUT`].
pub fn expect_boot(qemu: &mut Qemu) -> Result<BootReport, TestFailure> {
    let cpus = qemu.config().cpus;
    let banner = expect_banner(qemu)?;

    let online_line = qemu.wait_for_line_matching(
        &format!("the `N of N {CPUS_ONLINE_SUFFIX}` line"),
        |l| l.ends_with(CPUS_ONLINE_SUFFIX),
        TIMEOUT,
    )?;
    let online_after = qemu.elapsed();
    let counts = lines::parse_cpus_online(&online_line);
    qemu.ensure(counts == Some((cpus, cpus)), || {
        format!("expected `{cpus} of {cpus} {CPUS_ONLINE_SUFFIX}`, got {online_line:?}")
    })?;

    // The CPU lines precede the count (each AP prints before it counts as
    // online), one per index, in any order.
    let mut apic_ids: Vec<Option<u32>> = vec![None; cpus];
    for (index, apic_id) in qemu.output().lines().filter_map(lines::parse_cpu_online) {
        qemu.ensure(index < cpus && apic_ids[index].is_none(), || {
            format!("unexpected or repeated line `cpu {index} online (apic id {apic_id})`")
        })?;
        apic_ids[index] = Some(apic_id);
    }
    let missing: Vec<usize> = (0..cpus).filter(|&i| apic_ids[i].is_none()).collect();
    qemu.ensure(missing.is_empty(), || {
        format!("no `cpu N online` line for CPUs {missing:?}")
    })?;
    let apic_ids: Vec<u32> = apic_ids.into_iter().flatten().collect();
    let mut distinct = apic_ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    qemu.ensure(distinct.len() == cpus, || {
        format!("APIC ids are not distinct: {apic_ids:?}")
    })?;

    let timer_line = qemu.wait_for_line_starting_with("timer: ", TIMEOUT)?;
    let ticking = lines::parse_ticking(&timer_line).ok_or_else(|| {
        qemu.failure(format!(
            "expected `{ALL_TICKING_PREFIX}{cpus} CPUs ticking ...`, got {timer_line:?}"
        ))
    })?;
    qemu.ensure(
        ticking.cpus == cpus && ticking.ticks.len() == cpus && ticking.hz == TICK_HZ,
        || format!("expected all {cpus} CPUs ticking at {TICK_HZ} Hz, got {timer_line:?}"),
    )?;
    qemu.ensure(ticking.ticks.iter().all(|&t| t > 0), || {
        format!("a CPU reported zero ticks: {timer_line:?}")
    })?;

    Ok(BootReport {
        banner,
        apic_ids,
        online_after,
        ticking,
    })
}

/// Waits for the next line starting with `prefix` and parses it.
fn expect_line<T>(
    qemu: &mut Qemu,
    prefix: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, TestFailure> {
    let line = qemu.wait_for_line_starting_with(prefix, TIMEOUT)?;
    parse(&line).ok_or_else(|| qemu.failure(format!("cannot parse the boot line {line:?}")))
}

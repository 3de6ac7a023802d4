//! MIT xv6's figures (`/work/shared/BASELINES.md`: xv6-public under QEMU
//! 7.2 TCG, medians of 3 boots; the CPUS=8 column is a single run).
//!
//! One [`Bench`] per row of berth's table, in print order, each naming the
//! guest's result and the xv6 row it is compared with.

/// One xv6 figure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Xv6 {
    /// Median TSC cycles.
    Cycles(u64),
    /// Throughput, MB/s (10^6 bytes).
    Mbps(f64),
}

/// A row of the table.
#[derive(Clone, Copy, Debug)]
pub struct Bench {
    /// The guest's result name.
    pub name: &'static str,
    /// What the row measures, as printed.
    pub label: &'static str,
    /// xv6 at CPUS = 1, 2, 8 (`None`: not measured).
    pub xv6: [Option<Xv6>; 3],
}

/// The CPU counts xv6 was measured at.
pub const XV6_CPUS: [usize; 3] = [1, 2, 8];

/// The test machine's TSC under TCG, from BASELINES.md.
pub const XV6_TSC_MHZ: f64 = 2596.1;
/// Back-to-back `rdtsc` under TCG there.
pub const XV6_RDTSC_CYCLES: u64 = 26;
/// xv6's benchmark process size at fork time.
pub const XV6_PROC_BYTES: u64 = 28_672;

use Xv6::{Cycles as C, Mbps as M};

const PIPE_TPUT: [Option<Xv6>; 3] = [Some(M(8.9)), Some(M(19.6)), Some(M(0.28))];
const SCALE_SLEEP_1: [Option<Xv6>; 3] = [
    Some(C(34_939_866)),
    Some(C(47_559_628)),
    Some(C(430_114_490)),
];
const SCALE_SLEEP_N: [Option<Xv6>; 3] = [None, Some(C(44_124_714)), Some(C(921_770_876))];

/// Every row, in print order.
pub const BENCHES: &[Bench] = &[
    Bench {
        name: "rdtsc_overhead",
        label: "rdtsc, two back-to-back reads",
        xv6: [
            Some(C(XV6_RDTSC_CYCLES)),
            Some(C(XV6_RDTSC_CYCLES)),
            Some(C(XV6_RDTSC_CYCLES)),
        ],
    },
    Bench {
        name: "null_syscall",
        label: "(a) null syscall (getpid)",
        xv6: [Some(C(8_715)), Some(C(21_757)), Some(C(11_387))],
    },
    Bench {
        name: "fork_exit_wait",
        label: "(b) fork + exit + wait",
        xv6: [Some(C(2_745_730)), Some(C(3_275_844)), Some(C(78_601_133))],
    },
    Bench {
        name: "fork_exec_wait",
        label: "(c) fork + exec nop + wait",
        xv6: [Some(C(6_051_526)), Some(C(8_533_642)), Some(C(192_575_136))],
    },
    Bench {
        name: "pipe_rtt",
        label: "(d) pipe 1-byte round trip",
        xv6: [Some(C(189_046)), Some(C(191_464)), Some(C(205_374))],
    },
    Bench {
        name: "pipe_tput_512",
        label: "(e) pipe 1 MiB, 512 B writes",
        xv6: PIPE_TPUT,
    },
    Bench {
        name: "pipe_tput_4096",
        label: "(e) pipe 1 MiB, 4096 B writes (xv6: 512 B)",
        xv6: PIPE_TPUT,
    },
    Bench {
        name: "file_small",
        label: "(f) create+write 4 KB+close+unlink",
        xv6: [Some(C(15_702_830)), Some(C(61_709_154)), None],
    },
    Bench {
        name: "ctr_cycle",
        label: "container create+fork+join+exec nop+wait+destroy (vs c)",
        xv6: [None, None, None],
    },
    Bench {
        name: "ls_host_100",
        label: "ls of a 100-entry directory, host",
        xv6: [None, None, None],
    },
    Bench {
        name: "ls_merged_100",
        label: "ls of a 100-entry merged directory, in a container",
        xv6: [None, None, None],
    },
    Bench {
        name: "copy_up_1m",
        label: "copy-up of a 1 MiB file (first open for write)",
        xv6: [None, None, None],
    },
    Bench {
        name: "scale_sleep_1",
        label: "(g) sleep(0) per round, 1 child",
        xv6: SCALE_SLEEP_1,
    },
    Bench {
        name: "scale_sleep_cpus",
        label: "(g) sleep(0) per round, CPUS children",
        xv6: SCALE_SLEEP_N,
    },
    Bench {
        name: "scale_yield_1",
        label: "(g) yield per round, 1 child (xv6: sleep(0))",
        xv6: SCALE_SLEEP_1,
    },
    Bench {
        name: "scale_yield_cpus",
        label: "(g) yield per round, CPUS children (xv6: sleep(0))",
        xv6: SCALE_SLEEP_N,
    },
    Bench {
        name: "scale_compute_1",
        label: "(g') pure compute, 1 child",
        xv6: [
            Some(C(27_699_022)),
            Some(C(28_811_458)),
            Some(C(183_042_132)),
        ],
    },
    Bench {
        name: "scale_compute_cpus",
        label: "(g') pure compute, CPUS children",
        xv6: [None, Some(C(30_584_190)), Some(C(574_024_438))],
    },
];

/// xv6's figure for `name` at `cpus` CPUs (`None`: no such row, or xv6
/// was not measured at that CPU count).
pub fn xv6(name: &str, cpus: usize) -> Option<Xv6> {
    let col = XV6_CPUS.iter().position(|&c| c == cpus)?;
    BENCHES.iter().find(|b| b.name == name)?.xv6[col]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_match_baselines_md() {
        assert_eq!(xv6("null_syscall", 1), Some(C(8_715)));
        assert_eq!(xv6("fork_exec_wait", 8), Some(C(192_575_136)));
        assert_eq!(xv6("pipe_tput_512", 2), Some(M(19.6)));
        assert_eq!(xv6("scale_yield_cpus", 2), Some(C(44_124_714)));
        assert_eq!(xv6("scale_compute_cpus", 1), None);
        assert_eq!(xv6("file_small", 8), None);
        assert_eq!(xv6("null_syscall", 4), None);
        assert_eq!(xv6("nonesuch", 1), None);
    }

    #[test]
    fn names_are_unique() {
        for (i, b) in BENCHES.iter().enumerate() {
            assert!(
                BENCHES[i + 1..].iter().all(|o| o.name != b.name),
                "{}",
                b.name
            );
        }
    }
}

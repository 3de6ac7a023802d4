//! MIT xv6's figures: `/work/shared/BASELINES.md`'s table "xv6 re-measured
//! 2026-12-02 on a machine of this kind" (xv6-public under QEMU 7.2 TCG on
//! these 2-core machines, TSC 2300.0 MHz; medians of per-boot medians of 7
//! boots at CPUS=1 and 2, one boot at CPUS=8). The older table, from a
//! machine with a faster TSC, flattered xv6 1.7-4.3x and is not used.
//!
//! One [`Bench`] per row of berth's table, in print order, each naming the
//! guest's result and the xv6 row it is compared with; the last,
//! [`BOOT_TO_PROMPT`], is timed by the runner and compared with the
//! table's "boot to `$ ` (SeaBIOS)" seconds (berth boots with qboot).

/// One xv6 figure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Xv6 {
    /// Median TSC cycles.
    Cycles(u64),
    /// Throughput, MB/s (10^6 bytes).
    Mbps(f64),
    /// Wall time, seconds (boot to prompt).
    Seconds(f64),
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
pub const XV6_TSC_MHZ: f64 = 2300.0;
/// Which of BASELINES.md's tables the ratios use.
pub const XV6_TABLE: &str = "xv6 re-measured 2026-12-02 on a machine of this kind";
/// xv6's benchmark process size at fork time.
pub const XV6_PROC_BYTES: u64 = 28_672;

use Xv6::{Cycles as C, Mbps as M, Seconds as S};

const PIPE_TPUT: [Option<Xv6>; 3] = [Some(M(3.5)), Some(M(4.6)), Some(M(0.022))];
const SCALE_SLEEP_1: [Option<Xv6>; 3] = [
    Some(C(54_219_342)),
    Some(C(102_816_906)),
    Some(C(832_736_872)),
];
const SCALE_SLEEP_N: [Option<Xv6>; 3] = [None, Some(C(94_797_708)), Some(C(1_740_297_562))];
const NOT_MEASURED: [Option<Xv6>; 3] = [None, None, None];

/// The boot-to-prompt row's name (not a guest result: the runner times it).
pub const BOOT_TO_PROMPT: &str = "boot_to_prompt";

/// Every row, in print order.
pub const BENCHES: &[Bench] = &[
    Bench {
        name: "rdtsc_overhead",
        label: "rdtsc, two back-to-back reads",
        xv6: [Some(C(68)), Some(C(74)), Some(C(76))],
    },
    Bench {
        name: "null_syscall",
        label: "(a) null syscall (getpid)",
        xv6: [Some(C(20_498)), Some(C(52_832)), Some(C(26_057))],
    },
    Bench {
        name: "untraced_null_syscall",
        label: "(a) null syscall, paired blocks: tracing off",
        xv6: NOT_MEASURED,
    },
    Bench {
        name: "traced_null_syscall",
        label: "(a) null syscall, paired blocks: every event on",
        xv6: NOT_MEASURED,
    },
    Bench {
        name: "fork_exit_wait",
        label: "(b) fork + exit + wait",
        xv6: [Some(C(6_012_708)), Some(C(8_677_552)), Some(C(188_172_696))],
    },
    Bench {
        name: "fork_exec_wait",
        label: "(c) fork + exec nop + wait",
        xv6: [
            Some(C(10_958_542)),
            Some(C(23_472_526)),
            Some(C(574_136_983)),
        ],
    },
    Bench {
        name: "pipe_rtt",
        label: "(d) pipe 1-byte round trip",
        xv6: [Some(C(434_304)), Some(C(583_596)), Some(C(83_807_191))],
    },
    Bench {
        name: "untraced_pipe_rtt",
        label: "(d) pipe round trip, paired blocks: tracing off",
        xv6: NOT_MEASURED,
    },
    Bench {
        name: "traced_pipe_rtt",
        label: "(d) pipe round trip, paired blocks: every event on",
        xv6: NOT_MEASURED,
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
        xv6: [
            Some(C(37_660_048)),
            Some(C(107_770_044)),
            Some(C(7_781_320_898)),
        ],
    },
    Bench {
        name: "file_write_4m",
        label: "write a 4 MiB file, 64 KiB writes (create..close)",
        xv6: NOT_MEASURED,
    },
    Bench {
        name: "file_read_4m",
        label: "read a 4 MiB file, 64 KiB reads, not cached",
        xv6: NOT_MEASURED,
    },
    Bench {
        name: "file_read_2m_cached",
        label: "read a 2 MiB file, 64 KiB reads, cached",
        xv6: NOT_MEASURED,
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
            Some(C(41_482_132)),
            Some(C(50_855_456)),
            Some(C(374_505_563)),
        ],
    },
    Bench {
        name: "scale_compute_cpus",
        label: "(g') pure compute, CPUS children",
        xv6: [None, Some(C(54_808_304)), Some(C(1_052_239_360))],
    },
    Bench {
        name: "yield_1",
        label: "yield_cpu, 1 process (cycles per yield)",
        xv6: NOT_MEASURED,
    },
    Bench {
        name: "yield_cpus",
        label: "yield_cpu, CPUS processes (cycles per yield)",
        xv6: NOT_MEASURED,
    },
    Bench {
        name: "wakeup_idle",
        label: "wakeup-to-run, idle machine, p50",
        xv6: NOT_MEASURED,
    },
    Bench {
        name: "wakeup_idle_p99",
        label: "wakeup-to-run, idle machine, p99",
        xv6: NOT_MEASURED,
    },
    Bench {
        name: "wakeup_loaded",
        label: "wakeup-to-run, CPUS hogs running, p50",
        xv6: NOT_MEASURED,
    },
    Bench {
        name: "wakeup_loaded_p99",
        label: "wakeup-to-run, CPUS hogs running, p99",
        xv6: NOT_MEASURED,
    },
    Bench {
        name: BOOT_TO_PROMPT,
        label: "boot to `$ ` (host wall time; berth: qboot, xv6: SeaBIOS)",
        xv6: [Some(S(0.55)), Some(S(1.36)), Some(S(9.16))],
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
        assert_eq!(xv6("null_syscall", 1), Some(C(20_498)));
        assert_eq!(xv6("fork_exec_wait", 8), Some(C(574_136_983)));
        assert_eq!(xv6("pipe_tput_512", 2), Some(M(4.6)));
        assert_eq!(xv6("scale_yield_cpus", 2), Some(C(94_797_708)));
        assert_eq!(xv6("scale_compute_cpus", 1), None);
        assert_eq!(xv6("file_small", 8), Some(C(7_781_320_898)));
        assert_eq!(xv6("wakeup_idle", 1), None);
        assert_eq!(xv6("null_syscall", 4), None);
        assert_eq!(xv6("nonesuch", 1), None);
        assert_eq!(xv6(BOOT_TO_PROMPT, 1), Some(S(0.55)));
        assert_eq!(xv6(BOOT_TO_PROMPT, 2), Some(S(1.36)));
        assert_eq!(xv6(BOOT_TO_PROMPT, 8), Some(S(9.16)));
        assert_eq!(xv6(BOOT_TO_PROMPT, 4), None);
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

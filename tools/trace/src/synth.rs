//! A deterministic, hand-built dump (`trace synth`): 2 CPUs, the host
//! (container 0, weight 100) and two containers of weights 100 and 200,
//! five processes switching with wakeups (some from the other CPU) and
//! system calls, and a few dropped records on CPU 1. For tests and for
//! trying the tool without a kernel.

use crate::dump::{name_bytes, Dump};
use crate::model::IDLE;
use berth_abi::syscall::{nr, proc_state};
use berth_abi::trace::{
    event, tsc_source, CpuSummary, CtrName, DumpHeader, ProcName, Record, DUMP_MAGIC, DUMP_VERSION,
};
use std::collections::HashMap;

/// TSC frequency of the synthetic machine (2 GHz).
pub const TSC_HZ: u64 = 2_000_000_000;
/// Cycles recorded (20 ms).
pub const DURATION: u64 = 40_000_000;
const START: u64 = 1_000_000_000;
const US: u64 = TSC_HZ / 1_000_000;

/// A fixed linear congruential generator: the same dump every time.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo).max(1)
    }
}

/// `(pid, container, name)` of the synthetic processes.
const PROCS: [(i32, i32, &str); 5] = [
    (1, 0, "init"),
    (2, 0, "sh"),
    (3, 1, "web"),
    (4, 2, "db"),
    (5, 2, "dbworker"),
];

fn ctr_of(pid: i32) -> i32 {
    PROCS.iter().find(|p| p.0 == pid).map_or(IDLE, |p| p.1)
}

fn rec(cpu: u32, tsc: u64, pid: i32, event: u16, a: u32, b: u64) -> Record {
    Record {
        tsc,
        pid,
        container: ctr_of(pid),
        event,
        cpu: cpu as u16,
        a,
        b,
    }
}

/// Builds the dump.
pub fn dump() -> Dump {
    let stop = START + DURATION;
    let mut rng = Lcg(0x6265_7274_6874_7263);
    let mut records = Vec::new();
    // Which processes each CPU runs (pinned, so none runs on two at once).
    let runs: [&[i32]; 2] = [&[1, 2, 3, IDLE], &[4, 5, IDLE]];
    let calls = [nr::write, nr::read, nr::getpid, nr::yield_cpu];
    for (cpu, cands) in runs.iter().enumerate() {
        let cpu = cpu as u32;
        let other = 1 - cpu;
        let mut asleep: HashMap<i32, u64> = HashMap::new();
        let mut t = START;
        let mut cur = IDLE;
        loop {
            let end = (t + rng.range(100, 1500) * US).min(stop);
            if cur != IDLE {
                let mut pos = t;
                for _ in 0..rng.range(0, 3) {
                    let enter = pos + rng.range(5, 100) * US;
                    let exit = enter + rng.range(1, 60) * US;
                    if exit >= end {
                        break;
                    }
                    let call = calls[rng.range(0, calls.len() as u64) as usize] as u32;
                    records.push(rec(cpu, enter, cur, event::SYSCALL_ENTER, call, 0));
                    records.push(rec(cpu, exit, cur, event::SYSCALL_EXIT, call, 0));
                    pos = exit;
                }
            }
            if rng.range(0, 4) == 0 {
                records.push(rec(cpu, t + 3 * US, cur, event::IRQ, 32, 0));
            }
            if end >= stop {
                break;
            }
            let mut next = cands[rng.range(0, cands.len() as u64) as usize];
            if next == cur {
                next = cands[(cands.iter().position(|&p| p == cur).unwrap_or(0) + 1) % cands.len()];
            }
            let state = if cur == IDLE {
                proc_state::RUNNABLE
            } else if rng.range(0, 2) == 0 {
                asleep.insert(cur, end);
                proc_state::SLEEPING
            } else {
                proc_state::RUNNABLE
            };
            if let Some(out) = asleep.remove(&next) {
                let wake = (end - rng.range(2, 200) * US).max(out + 1);
                let (wcpu, waker) = if rng.range(0, 3) == 0 {
                    (other, i64::from(runs[other as usize][0]))
                } else {
                    (cpu, -1)
                };
                let mut w = rec(wcpu, wake, next, event::WAKEUP, cpu, waker as u64);
                w.container = ctr_of(next);
                records.push(w);
            }
            let next_a = if next == IDLE { u32::MAX } else { next as u32 };
            let next_ctr = ctr_of(next) as u32;
            let b = (u64::from(state as u8) << 32) | u64::from(next_ctr);
            records.push(rec(cpu, end, cur, event::SWITCH, next_a, b));
            cur = next;
            t = end;
        }
    }
    records.sort_by_key(|r| (r.cpu, r.tsc));

    let mut d = Dump {
        header: DumpHeader {
            magic: DUMP_MAGIC,
            version: DUMP_VERSION,
            tsc_hz: TSC_HZ,
            tsc_source: tsc_source::CPUID,
            clock_read_cycles: 24,
            start_tsc: START,
            stop_tsc: stop,
            event_mask: ((1u64 << (event::LAST + 1)) - 1) & !1,
            ..Default::default()
        },
        cpus: (0..2)
            .map(|cpu| CpuSummary {
                cpu,
                dropped: if cpu == 1 { 3 } else { 0 },
                ..Default::default()
            })
            .collect(),
        records,
        procs: PROCS
            .iter()
            .map(|&(pid, container, name)| ProcName {
                pid,
                container,
                name: name_bytes(name),
            })
            .collect(),
        containers: [(0, 100, "host"), (1, 100, "web"), (2, 200, "db")]
            .iter()
            .map(|&(id, weight, name)| CtrName {
                id,
                weight,
                name: name_bytes(name),
            })
            .collect(),
        ..Dump::default()
    };
    d.fix_counts();
    d
}

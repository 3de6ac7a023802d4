//! The timeline model: turns a dump's records into per-CPU running
//! intervals (from SWITCH records), wakeup-to-run latencies (WAKEUP of a
//! pid to the next SWITCH, on any CPU, to that pid) and syscall latencies
//! (SYSCALL_ENTER to the next SYSCALL_EXIT of the same call by the same pid
//! on the same CPU). Times stay in TSC cycles here; callers convert.

use crate::dump::Dump;
use berth_abi::trace::{event, Record};
use std::collections::HashMap;

/// The pid and container of the idle loop.
pub const IDLE: i32 = -1;

/// One stretch of a CPU running one process (or idling, `pid == IDLE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    pub cpu: u32,
    pub pid: i32,
    pub container: i32,
    pub start_tsc: u64,
    pub end_tsc: u64,
}

impl Interval {
    pub fn cycles(&self) -> u64 {
        self.end_tsc.saturating_sub(self.start_tsc)
    }
    pub fn is_idle(&self) -> bool {
        self.pid == IDLE
    }
}

/// One CPU's timeline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CpuTimeline {
    pub cpu: u32,
    /// In time order, covering `start_tsc..stop_tsc` from the first SWITCH
    /// on (empty when the CPU recorded no SWITCH: who ran is unknown).
    pub intervals: Vec<Interval>,
    /// SWITCH records on this CPU.
    pub switches: u64,
}

/// A process woken, and when it next got a CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wakeup {
    pub pid: i32,
    pub container: i32,
    /// CPU the WAKEUP record came from, and the one the process then ran on.
    pub wake_cpu: u32,
    pub run_cpu: u32,
    pub wake_tsc: u64,
    pub run_tsc: u64,
}

impl Wakeup {
    pub fn cycles(&self) -> u64 {
        self.run_tsc.saturating_sub(self.wake_tsc)
    }
}

/// One completed system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Syscall {
    pub nr: u32,
    pub pid: i32,
    pub cpu: u32,
    pub enter_tsc: u64,
    pub exit_tsc: u64,
}

impl Syscall {
    pub fn cycles(&self) -> u64 {
        self.exit_tsc.saturating_sub(self.enter_tsc)
    }
}

/// Everything derived from the records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Model {
    pub cpus: Vec<CpuTimeline>,
    /// In the order the processes ran.
    pub wakeups: Vec<Wakeup>,
    /// In the order the calls returned.
    pub syscalls: Vec<Syscall>,
}

/// The next process of a SWITCH record: `(pid, container)`.
pub fn switch_next(r: &Record) -> (i32, i32) {
    let pid = if r.a == u32::MAX { IDLE } else { r.a as i32 };
    let low = r.b as u32;
    let ctr = if low == u32::MAX { IDLE } else { low as i32 };
    (pid, ctr)
}

/// The leaving process's state of a SWITCH record (a `proc_state` value).
pub fn switch_prev_state(r: &Record) -> u8 {
    (r.b >> 32) as u8
}

/// Builds one CPU's intervals from its records.
fn timeline(d: &Dump, cpu: u32, recs: &[Record]) -> CpuTimeline {
    let (start, stop) = (
        d.header.start_tsc,
        d.header.stop_tsc.max(d.header.start_tsc),
    );
    let clamp = |t: u64| t.clamp(start, stop);
    let mut tl = CpuTimeline {
        cpu,
        ..Default::default()
    };
    let mut cur: Option<(i32, i32, u64)> = None;
    for r in recs.iter().filter(|r| r.event == event::SWITCH) {
        tl.switches += 1;
        let from = cur.map_or(start, |c| c.2);
        let t = clamp(r.tsc).max(from);
        // The record names who is leaving; trust it over what we thought
        // was running (dropped records can make the two differ).
        tl.intervals.push(Interval {
            cpu,
            pid: r.pid,
            container: r.container,
            start_tsc: from,
            end_tsc: t,
        });
        let (pid, ctr) = switch_next(r);
        cur = Some((pid, ctr, t));
    }
    if let Some((pid, container, from)) = cur {
        tl.intervals.push(Interval {
            cpu,
            pid,
            container,
            start_tsc: from,
            end_tsc: stop,
        });
    }
    tl
}

/// Builds the model of a dump.
pub fn build(d: &Dump) -> Model {
    let by_cpu = d.records_by_cpu();
    let cpus = by_cpu
        .iter()
        .map(|&(cpu, recs)| timeline(d, cpu, recs))
        .collect();

    // Wakeups cross CPUs, so walk all records in time order (CPU order
    // breaks ties: a stable sort of the CPU-ordered list).
    let mut all: Vec<&Record> = d.records.iter().collect();
    all.sort_by_key(|r| r.tsc);
    let mut pending: HashMap<i32, (u64, i32, u32)> = HashMap::new();
    let mut wakeups = Vec::new();
    for r in all {
        match r.event {
            event::WAKEUP => {
                // A second wakeup of a process not yet run changes nothing:
                // it has been runnable since the first.
                pending
                    .entry(r.pid)
                    .or_insert((r.tsc, r.container, u32::from(r.cpu)));
            }
            event::SWITCH => {
                let (next, _) = switch_next(r);
                if let Some((wake_tsc, container, wake_cpu)) = pending.remove(&next) {
                    wakeups.push(Wakeup {
                        pid: next,
                        container,
                        wake_cpu,
                        run_cpu: u32::from(r.cpu),
                        wake_tsc,
                        run_tsc: r.tsc,
                    });
                }
            }
            _ => {}
        }
    }

    let mut syscalls = Vec::new();
    for &(cpu, recs) in &by_cpu {
        let mut open: HashMap<(i32, u32), u64> = HashMap::new();
        for r in recs {
            match r.event {
                event::SYSCALL_ENTER => {
                    // A newer enter replaces one whose exit was lost.
                    open.insert((r.pid, r.a), r.tsc);
                }
                event::SYSCALL_EXIT => {
                    if let Some(enter_tsc) = open.remove(&(r.pid, r.a)) {
                        syscalls.push(Syscall {
                            nr: r.a,
                            pid: r.pid,
                            cpu,
                            enter_tsc,
                            exit_tsc: r.tsc,
                        });
                    }
                }
                _ => {}
            }
        }
    }
    syscalls.sort_by_key(|s| (s.exit_tsc, s.cpu));

    Model {
        cpus,
        wakeups,
        syscalls,
    }
}

//! A small hand-built dump whose figures the tests work out by hand.
//!
//! TSC at 1 GHz (a cycle is a nanosecond), recording from `S` for 10 ms.
//!
//! CPU 0: idle until 1 ms, then pid 2 (container 1) until 5 ms, idle after.
//!   WAKEUP of pid 2 at 0.9 ms (run at 1 ms: 100 µs).
//!   WAKEUP of pid 4 at 1.5 ms and again at 1.8 ms (runs on CPU 1 at 2 ms:
//!   500 µs from the first).
//!   write (16) by pid 2: 2 ms -> 2.010 ms (10 µs), 3 ms -> 3.030 ms (30 µs).
//! CPU 1: pid 3 (container 2) until 2 ms, pid 4 (container 2) until 5.05 ms,
//!   pid 3 after. WAKEUP of pid 3 at 5 ms (runs at 5.05 ms: 50 µs).
//!   read (5) by pid 4: 2.5 ms -> 2.502 ms (2 µs); an exit of getpid (11)
//!   with no enter; an enter of read at 2.7 ms answered by an exit of write
//!   (no match); read by pid 3: 6 ms -> 6.004 ms (4 µs).
//!   5 records dropped.
#![allow(dead_code)]

use berth_abi::syscall::proc_state;
use berth_abi::trace::{
    event, tsc_source, CpuSummary, CtrName, DumpHeader, ProcName, Record, DUMP_MAGIC, DUMP_VERSION,
};
use berth_trace::dump::{name_bytes, Dump};

pub const S: u64 = 1_000;
pub const MS: u64 = 1_000_000;
pub const US: u64 = 1_000;

pub fn rec(cpu: u16, tsc: u64, pid: i32, container: i32, event: u16, a: u32, b: u64) -> Record {
    Record {
        tsc,
        pid,
        container,
        event,
        cpu,
        a,
        b,
    }
}

/// A SWITCH on `cpu` at `tsc` from `(pid, ctr)` (state `state`) to `(next, next_ctr)`.
pub fn switch(cpu: u16, tsc: u64, from: (i32, i32), state: i32, to: (i32, i32)) -> Record {
    let a = if to.0 < 0 { u32::MAX } else { to.0 as u32 };
    let low = if to.1 < 0 { u32::MAX } else { to.1 as u32 };
    let b = ((state as u64) << 32) | u64::from(low);
    rec(cpu, tsc, from.0, from.1, event::SWITCH, a, b)
}

pub fn hand_dump() -> Dump {
    use event::*;
    let idle = (-1, -1);
    let mut cpu0 = vec![
        rec(0, S + 900 * US, 2, 1, WAKEUP, 0, -1i64 as u64),
        switch(0, S + MS, idle, proc_state::RUNNABLE, (2, 1)),
        rec(0, S + 1_500 * US, 4, 2, WAKEUP, 1, 2),
        rec(0, S + 1_800 * US, 4, 2, WAKEUP, 1, 2),
        rec(0, S + 2 * MS, 2, 1, SYSCALL_ENTER, 16, 0),
        rec(0, S + 2 * MS + 10 * US, 2, 1, SYSCALL_EXIT, 16, 5),
        rec(0, S + 3 * MS, 2, 1, SYSCALL_ENTER, 16, 0),
        rec(0, S + 3 * MS + 30 * US, 2, 1, SYSCALL_EXIT, 16, 5),
        rec(0, S + 4 * MS, 2, 1, IRQ, 32, 0),
        switch(0, S + 5 * MS, (2, 1), proc_state::SLEEPING, idle),
    ];
    let mut cpu1 = vec![
        switch(1, S + 2 * MS, (3, 2), proc_state::RUNNABLE, (4, 2)),
        rec(1, S + 2_500 * US, 4, 2, SYSCALL_ENTER, 5, 0),
        rec(1, S + 2_502 * US, 4, 2, SYSCALL_EXIT, 5, 10),
        rec(1, S + 2_600 * US, 4, 2, SYSCALL_EXIT, 11, 4),
        rec(1, S + 2_700 * US, 4, 2, SYSCALL_ENTER, 5, 0),
        rec(1, S + 2_710 * US, 4, 2, SYSCALL_EXIT, 16, 0),
        rec(1, S + 5 * MS, 3, 2, WAKEUP, 1, 4),
        switch(1, S + 5_050 * US, (4, 2), proc_state::RUNNABLE, (3, 2)),
        rec(1, S + 6 * MS, 3, 2, SYSCALL_ENTER, 5, 0),
        rec(1, S + 6_004 * US, 3, 2, SYSCALL_EXIT, 5, 1),
    ];
    cpu0.sort_by_key(|r| r.tsc);
    cpu1.sort_by_key(|r| r.tsc);
    let mut records = cpu0;
    records.extend(cpu1);
    let mut d = Dump {
        header: DumpHeader {
            magic: DUMP_MAGIC,
            version: DUMP_VERSION,
            tsc_hz: 1_000_000_000,
            tsc_source: tsc_source::PIT,
            clock_read_cycles: 30,
            start_tsc: S,
            stop_tsc: S + 10 * MS,
            event_mask: 0xffe,
            ..Default::default()
        },
        cpus: vec![
            CpuSummary {
                cpu: 0,
                ..Default::default()
            },
            CpuSummary {
                cpu: 1,
                dropped: 5,
                ..Default::default()
            },
        ],
        records,
        procs: [(2, 1, "sh"), (3, 2, "db"), (4, 2, "dbw")]
            .iter()
            .map(|&(pid, container, n)| ProcName {
                pid,
                container,
                name: name_bytes(n),
            })
            .collect(),
        containers: [(0, 100, "host"), (1, 100, "web"), (2, 200, "db")]
            .iter()
            .map(|&(id, weight, n)| CtrName {
                id,
                weight,
                name: name_bytes(n),
            })
            .collect(),
        ..Dump::default()
    };
    d.fix_counts();
    d
}

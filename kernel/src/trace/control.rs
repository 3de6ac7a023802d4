//! The kernel side of tracing: the enabled mask, the rings, the probes'
//! write path and the control calls (see `mod.rs`).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use berth_abi::errno::Errno;
use berth_abi::trace::{
    event, CpuSummary, CtrName, DumpHeader, ProcName, Record, DUMP_MAGIC, DUMP_VERSION, NAME_LEN,
};
use spin::Once;

use super::dump::{self, Contents};
use super::ring::Ring;
use crate::arch::x86_64::{cpu, percpu, tsc};
use crate::param::MAX_CPUS;
use crate::sync::SpinLock;

/// Records each CPU's ring holds (32 bytes each: 512 KiB a CPU).
pub const RING_RECORDS: usize = 16384;
/// Names each CPU's name ring holds.
const NAME_RING: usize = 1024;

/// Enabled events, a bit per event number; 0 when not tracing.
static MASK: AtomicU64 = AtomicU64::new(0);
/// The container whose processes are traced (-1: all).
static FILTER: AtomicI32 = AtomicI32::new(-1);

struct CpuRings {
    records: Ring,
    names: Ring,
}

static RINGS: Once<Box<[CpuRings]>> = Once::new();

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Never,
    Running,
    Stopped,
}

struct Session {
    state: State,
    mask: u64,
    start_tsc: u64,
    stop_tsc: u64,
}

static SESSION: SpinLock<Session> = SpinLock::new(
    "trace session",
    Session {
        state: State::Never,
        mask: 0,
        start_tsc: 0,
        stop_tsc: 0,
    },
);

/// Every event's bit.
pub const ALL_EVENTS: u64 = ((1u64 << (event::LAST + 1)) - 1) & !1;

/// Whether `ev` is being traced: the one load a probe site pays.
#[inline(always)]
pub fn on(ev: u16) -> bool {
    !cfg!(feature = "no-trace-probes") && MASK.load(Ordering::Relaxed) & (1u64 << ev) != 0
}

/// Records `ev` now (the caller checked [`on`]).
pub fn emit(ev: u16, pid: i32, container: i32, a: u32, b: u64) {
    write(ev, pid, container, a, b, None);
}

/// [`emit`] at TSC `tsc` (a clock read the caller already made).
pub fn emit_at(tsc: u64, ev: u16, pid: i32, container: i32, a: u32, b: u64) {
    write(ev, pid, container, a, b, Some(tsc));
}

fn wanted(ev: u16, container: i32, b: u64) -> bool {
    let f = FILTER.load(Ordering::Relaxed);
    f < 0 || container == f || (ev == event::SWITCH && b as u32 as i32 == f)
}

fn write(ev: u16, pid: i32, container: i32, a: u32, b: u64, tsc: Option<u64>) {
    if !wanted(ev, container, b) {
        return;
    }
    let Some(rings) = RINGS.get() else { return };
    // Interrupts off for the write (plain cli/sti, not the nesting
    // counter: nothing here can fault or sleep).
    let were_on = cpu::interrupts_enabled();
    cpu::disable_interrupts();
    let me = percpu::cpu_index();
    let r = Record {
        tsc: tsc.unwrap_or_else(cpu::rdtsc),
        pid,
        container,
        event: ev,
        cpu: me as u16,
        a,
        b,
    };
    // The ring looks at the mask again once it is marked busy, so a stop
    // either sees it busy (and waits) or it sees the stop (and drops the
    // record).
    rings[me]
        .records
        .push_if(&r, || MASK.load(Ordering::SeqCst) != 0);
    if were_on {
        cpu::enable_interrupts();
    }
}

/// Notes `pid`'s new name (at exec) while anything is traced.
pub fn note_name(pid: i32, container: i32, name: &[u8]) {
    if cfg!(feature = "no-trace-probes")
        || MASK.load(Ordering::Relaxed) == 0
        || !wanted(0, container, 0)
    {
        return;
    }
    let Some(rings) = RINGS.get() else { return };
    let mut n = [0u8; NAME_LEN];
    let len = name.len().min(NAME_LEN);
    n[..len].copy_from_slice(&name[..len]);
    percpu::push_irq_off();
    rings[percpu::cpu_index()].names.push_name_if(
        &ProcName {
            pid,
            container,
            name: n,
        },
        || MASK.load(Ordering::SeqCst) != 0,
    );
    percpu::pop_irq_off();
}

/// `trace_start(events, cid)`: empties the rings and starts recording
/// `events` (a bit per event number; 0: all) about container `cid`'s
/// processes (-1: everyone's). `EBUSY` while a recording runs; `EINVAL`
/// for bits of no event.
pub fn start(events: u64, cid: i32) -> Result<(), Errno> {
    let mask = if events == 0 { ALL_EVENTS } else { events };
    if mask & !ALL_EVENTS != 0 || cid < -1 {
        return Err(Errno::EINVAL);
    }
    let mut s = SESSION.lock();
    if s.state == State::Running {
        return Err(Errno::EBUSY);
    }
    let rings = RINGS.call_once(|| {
        (0..MAX_CPUS)
            .map(|_| CpuRings {
                records: Ring::new(RING_RECORDS),
                names: Ring::new(NAME_RING),
            })
            .collect()
    });
    for r in rings.iter() {
        r.records.clear();
        r.names.clear();
    }
    FILTER.store(cid, Ordering::Relaxed);
    s.state = State::Running;
    s.mask = mask;
    s.start_tsc = cpu::rdtsc();
    MASK.store(mask, Ordering::SeqCst);
    Ok(())
}

/// `trace_stop()`: stops recording; returns once no probe is writing.
/// `EINVAL` when nothing records.
pub fn stop() -> Result<(), Errno> {
    let mut s = SESSION.lock();
    if s.state != State::Running {
        return Err(Errno::EINVAL);
    }
    MASK.store(0, Ordering::SeqCst);
    if let Some(rings) = RINGS.get() {
        for r in rings.iter() {
            while r.records.busy() || r.names.busy() {
                core::hint::spin_loop();
            }
        }
    }
    s.state = State::Stopped;
    s.stop_tsc = cpu::rdtsc();
    Ok(())
}

/// The last recording's dump. `EBUSY` while recording; `ENOENT` if there
/// has been none.
pub fn dump() -> Result<Vec<u8>, Errno> {
    let s = SESSION.lock();
    match s.state {
        State::Running => return Err(Errno::EBUSY),
        State::Never => return Err(Errno::ENOENT),
        State::Stopped => {}
    }
    let (mask, start_tsc, stop_tsc) = (s.mask, s.start_tsc, s.stop_tsc);
    drop(s);
    let rings = RINGS.get().ok_or(Errno::ENOENT)?;
    let cpus = percpu::online_count().clamp(1, rings.len());
    let mut summaries = Vec::with_capacity(cpus);
    let mut records = Vec::with_capacity(cpus);
    let mut procs: Vec<ProcName> = Vec::new();
    for (i, r) in rings[..cpus].iter().enumerate() {
        let (produced, kept, dropped) = r.records.counts();
        summaries.push(CpuSummary {
            cpu: i as u32,
            _pad: 0,
            produced,
            kept,
            dropped,
        });
        records.push(r.records.records().collect::<Vec<_>>());
        for n in r.names.names() {
            remember(&mut procs, n);
        }
    }
    // A child that never exec'd has its parent's name: forks in time order.
    let mut forks: Vec<&Record> = records
        .iter()
        .flatten()
        .filter(|r| r.event == event::FORK)
        .collect();
    forks.sort_by_key(|r| r.tsc);
    for f in forks {
        let child = f.a as i32;
        if procs.iter().any(|p| p.pid == child) {
            continue;
        }
        if let Some(parent) = procs.iter().find(|p| p.pid == f.pid).copied() {
            procs.push(ProcName {
                pid: child,
                ..parent
            });
        }
    }
    for p in crate::proc::table::PROCS.visible(None) {
        let mut name = [0u8; NAME_LEN];
        let s = p.name();
        let len = s.len().min(NAME_LEN);
        name[..len].copy_from_slice(&s.as_bytes()[..len]);
        remember(
            &mut procs,
            ProcName {
                pid: p.pid,
                container: p.container.load(Ordering::Relaxed),
                name,
            },
        );
    }
    let mut containers = Vec::new();
    for c in core::iter::once(crate::container::host().clone()).chain(crate::container::all()) {
        let mut name = [0u8; NAME_LEN];
        let n = c.name.iter().position(|&b| b == 0).unwrap_or(c.name.len());
        let len = n.min(NAME_LEN);
        name[..len].copy_from_slice(&c.name[..len]);
        if c.id == 0 {
            name[..4].copy_from_slice(b"host");
        }
        containers.push(CtrName {
            id: c.id,
            weight: c.limits().cpu_weight,
            name,
        });
    }
    let header = DumpHeader {
        magic: DUMP_MAGIC,
        version: DUMP_VERSION,
        cpus: cpus as u32,
        tsc_hz: tsc::hz(),
        tsc_source: tsc::source() as u32,
        clock_read_cycles: tsc::read_cost().min(u64::from(u32::MAX)) as u32,
        start_tsc,
        stop_tsc,
        procs: procs.len() as u32,
        containers: containers.len() as u32,
        event_mask: mask,
    };
    Ok(dump::encode(&Contents {
        header,
        cpus: &summaries,
        records: &records,
        procs: &procs,
        containers: &containers,
    }))
}

/// Keeps the last name seen for each pid.
fn remember(procs: &mut Vec<ProcName>, n: ProcName) {
    match procs.iter_mut().find(|p| p.pid == n.pid) {
        Some(p) => *p = n,
        None => procs.push(n),
    }
}

//! The kernel side of tracing: the enabled mask, the rings, the probes'
//! write path and the control calls (see `mod.rs`).

use alloc::vec::Vec;
use core::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use berth_abi::container::MAX_CONTAINERS;
use berth_abi::errno::Errno;
use berth_abi::trace::{
    event, CpuSummary, CtrName, CtrUsage, DumpHeader, EventCounts, LockName, ProcName, Record,
    DUMP_MAGIC, DUMP_VERSION, EVENT_SLOTS, NAME_LEN,
};
use berth_tracefmt::Contents;
use crossbeam_utils::CachePadded;
use spin::Once;

use super::ring::Ring;
use crate::arch::x86_64::{cpu, percpu, tsc};
use crate::container::Container;
use crate::param::MAX_CPUS;
use crate::sync::SpinLock;

/// Records each CPU's ring holds (32 bytes each: 512 KiB a CPU).
pub const RING_RECORDS: usize = 16384;
/// Names each CPU's name ring holds.
const NAME_RING: usize = 1024;

/// Everything a probe reads or writes but its record's slot, in one page:
/// under TCG every CR3 write flushes the whole TLB (two a context
/// switch), and each page a probe touches after one costs a page walk,
/// several times the probe itself. The mask is read by every probe site
/// anyway, so the rest comes along on its page.
#[repr(C, align(4096))]
struct Control {
    /// Enabled events, a bit per event number; 0 when not tracing.
    mask: AtomicU64,
    /// The container whose processes are traced (-1: all).
    filter: AtomicI32,
    /// A cache line each, so CPUs writing their own counters do not share one.
    cpus: [CachePadded<CpuRings>; MAX_CPUS],
}

const _: () = assert!(core::mem::size_of::<Control>() == 4096);

struct CpuRings {
    records: Ring,
    names: Ring,
    /// Records produced per event number (the dump's `EventCounts`):
    /// written by the owner CPU only, with interrupts off, as `produced`.
    counts: [AtomicU64; EVENT_SLOTS],
}

static CONTROL: Control = Control {
    mask: AtomicU64::new(0),
    filter: AtomicI32::new(-1),
    cpus: [const {
        CachePadded::new(CpuRings {
            records: Ring::unallocated(),
            names: Ring::unallocated(),
            counts: [const { AtomicU64::new(0) }; EVENT_SLOTS],
        })
    }; MAX_CPUS],
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Never,
    Running,
    Stopped,
}

/// Container ids a usage table covers (the scheduler's groups).
const GROUPS: usize = MAX_CONTAINERS + 1;

struct Session {
    state: State,
    mask: u64,
    filter: i32,
    start_tsc: u64,
    stop_tsc: u64,
    /// Each group's (cycles, switches) from the scheduler at the start,
    /// then, once stopped, what they grew by.
    usage: [(u64, u64); GROUPS],
    /// Containers destroyed while recording, named for the dump (which
    /// lists the live ones itself).
    gone: Vec<CtrName>,
}

static SESSION: SpinLock<Session> = SpinLock::new(
    "trace session",
    Session {
        state: State::Never,
        mask: 0,
        filter: -1,
        usage: [(0, 0); GROUPS],
        gone: Vec::new(),
        start_tsc: 0,
        stop_tsc: 0,
    },
);

/// Every event's bit.
pub const ALL_EVENTS: u64 = ((1u64 << (event::LAST + 1)) - 1) & !1;

/// Whether `ev` is being traced: the one load a probe site pays.
#[inline(always)]
pub fn on(ev: u16) -> bool {
    !cfg!(feature = "no-trace-probes") && CONTROL.mask.load(Ordering::Relaxed) & (1u64 << ev) != 0
}

/// Records `ev` now (the caller checked [`on`]), from any context.
#[inline(always)]
pub fn emit(ev: u16, pid: i32, container: i32, a: u32, b: u64) {
    write(ev, pid, container, a, b, None, false);
}

/// [`emit`] where interrupts are known to be off (an interrupt or
/// system-call entry before it turns them on, or a caller that turned
/// them off itself), which spares the probe asking.
#[inline(always)]
pub fn emit_irqs_off(ev: u16, pid: i32, container: i32, a: u32, b: u64) {
    write(ev, pid, container, a, b, None, true);
}

/// [`emit`] at TSC `tsc` (a clock read the caller already made).
#[inline(always)]
pub fn emit_at(tsc: u64, ev: u16, pid: i32, container: i32, a: u32, b: u64) {
    write(ev, pid, container, a, b, Some(tsc), false);
}

#[inline(always)]
fn wanted(ev: u16, container: i32, b: u64) -> bool {
    let f = CONTROL.filter.load(Ordering::Relaxed);
    f < 0 || container == f || (ev == event::SWITCH && b as u32 as i32 == f)
}

#[inline(always)]
fn write(ev: u16, pid: i32, container: i32, a: u32, b: u64, tsc: Option<u64>, irqs_off: bool) {
    if !wanted(ev, container, b) {
        return;
    }
    // The record is written with interrupts off, so no probe nests inside
    // it. Most probes run where they already are: an entry stub's
    // (`irqs_off`) or a push_irq_off's (a spinlock held, a wakeup). Only
    // the rest pay a pushfq/cli/sti (the nesting counter is not needed:
    // nothing here can fault or sleep).
    let toggled = !irqs_off && !percpu::irq_off_held() && cpu::interrupts_enabled();
    if toggled {
        cpu::disable_interrupts();
    }
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
    let ring = &CONTROL.cpus[me];
    if ring
        .records
        .push_if(&r, || CONTROL.mask.load(Ordering::SeqCst) != 0)
    {
        // The owner's own counter, interrupts off: no read-modify-write.
        let n = &ring.counts[usize::from(ev) % EVENT_SLOTS];
        n.store(n.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }
    if toggled {
        cpu::enable_interrupts();
    }
}

/// Notes `pid`'s new name (at exec) while anything is traced.
pub fn note_name(pid: i32, container: i32, name: &[u8]) {
    if cfg!(feature = "no-trace-probes")
        || CONTROL.mask.load(Ordering::Relaxed) == 0
        || !wanted(0, container, 0)
    {
        return;
    }
    let mut n = [0u8; NAME_LEN];
    let len = name.len().min(NAME_LEN);
    n[..len].copy_from_slice(&name[..len]);
    percpu::push_irq_off();
    CONTROL.cpus[percpu::cpu_index()].names.push_name_if(
        &ProcName {
            pid,
            container,
            name: n,
        },
        || CONTROL.mask.load(Ordering::SeqCst) != 0,
    );
    percpu::pop_irq_off();
}

/// Gives every online CPU its rings (the first recording's start: a
/// kernel that never traces spends no heap on them); false when the heap
/// cannot spare them.
fn allocate_rings() -> bool {
    let online = percpu::online_count().clamp(1, MAX_CPUS);
    CONTROL.cpus[..online]
        .iter()
        .all(|c| c.records.allocate(RING_RECORDS) && c.names.allocate(NAME_RING))
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
    if !allocate_rings() {
        return Err(Errno::ENOMEM);
    }
    for r in &CONTROL.cpus {
        r.records.clear();
        r.names.clear();
        for n in &r.counts {
            n.store(0, Ordering::Relaxed);
        }
    }
    CONTROL.filter.store(cid, Ordering::Relaxed);
    s.state = State::Running;
    s.mask = mask;
    s.filter = cid;
    s.gone.clear();
    for (id, u) in s.usage.iter_mut().enumerate() {
        *u = crate::proc::sched::group_counts(id as i32);
    }
    s.start_tsc = cpu::rdtsc();
    CONTROL.mask.store(mask, Ordering::SeqCst);
    Ok(())
}

/// `trace_stop()`: stops recording; returns once no probe is writing.
/// `EINVAL` when nothing records.
pub fn stop() -> Result<(), Errno> {
    let mut s = SESSION.lock();
    if s.state != State::Running {
        return Err(Errno::EINVAL);
    }
    CONTROL.mask.store(0, Ordering::SeqCst);
    for r in &CONTROL.cpus {
        while r.records.busy() || r.names.busy() {
            core::hint::spin_loop();
        }
    }
    s.state = State::Stopped;
    s.stop_tsc = cpu::rdtsc();
    for (id, u) in s.usage.iter_mut().enumerate() {
        let (cycles, switches) = crate::proc::sched::group_counts(id as i32);
        // A group reused by a new container restarts its counts.
        *u = (cycles.saturating_sub(u.0), switches.saturating_sub(u.1));
    }
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
    let usage: Vec<CtrUsage> = s
        .usage
        .iter()
        .enumerate()
        .filter(|&(id, &(cycles, switches))| {
            (cycles, switches) != (0, 0) && (s.filter < 0 || id as i32 == s.filter)
        })
        .map(|(id, &(cycles, switches))| CtrUsage {
            id: id as i32,
            cycles,
            switches,
            ..CtrUsage::default()
        })
        .collect();
    let gone = s.gone.clone();
    drop(s);
    let rings = &CONTROL.cpus;
    let cpus = percpu::online_count().clamp(1, rings.len());
    let mut summaries = Vec::with_capacity(cpus);
    let mut counts = Vec::with_capacity(cpus);
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
        counts.push(EventCounts {
            produced: core::array::from_fn(|e| r.counts[e].load(Ordering::Relaxed)),
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
    let mut containers: Vec<CtrName> = core::iter::once(crate::container::host().clone())
        .chain(crate::container::all())
        .map(|c| ctr_name(&c))
        .collect();
    // A destroyed container's id may be taken again: the live one wins.
    for g in gone {
        if !containers.iter().any(|c| c.id == g.id) {
            containers.push(g);
        }
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
    let locks = lock_names();
    let contents = Contents {
        header,
        cpus: &summaries,
        records: &records,
        procs: &procs,
        containers: &containers,
        counts: &counts,
        usage: &usage,
        locks: &locks,
    };
    let mut out = Vec::new();
    out.try_reserve_exact(berth_tracefmt::size(&contents))
        .map_err(|_| Errno::ENOMEM)?;
    berth_tracefmt::encode(&contents, &mut |b| out.extend_from_slice(b));
    Ok(out)
}

fn ctr_name(c: &Container) -> CtrName {
    let mut name = [0u8; NAME_LEN];
    if c.id == 0 {
        name[..4].copy_from_slice(b"host");
    } else {
        let n = c.name.iter().position(|&b| b == 0).unwrap_or(c.name.len());
        let len = n.min(NAME_LEN);
        name[..len].copy_from_slice(&c.name[..len]);
    }
    CtrName {
        id: c.id,
        weight: c.limits().cpu_weight,
        name,
    }
}

/// Remembers container `c`, about to be destroyed, for the dump of the
/// recording in progress (if any).
pub fn note_destroyed(c: &Container) {
    if cfg!(feature = "no-trace-probes") || CONTROL.mask.load(Ordering::Relaxed) == 0 {
        return;
    }
    let mut s = SESSION.lock();
    if s.state == State::Running && s.gone.try_reserve(1).is_ok() {
        s.gone.push(ctr_name(c));
    }
}

/// Keeps the last name seen for each pid.
fn remember(procs: &mut Vec<ProcName>, n: ProcName) {
    match procs.iter_mut().find(|p| p.pid == n.pid) {
        Some(p) => *p = n,
        None => procs.push(n),
    }
}

/// Names of locks spun on (the SPIN records' `a` indexes it), filled in
/// as locks are first reported: a slot is set once, lock-free, and a name
/// keeps its index for the kernel's lifetime.
static LOCK_NAMES: [Once<&'static str>; 64] = [const { Once::new() }; 64];

/// `name`'s index in the lock-name table (`u32::MAX` when it is full).
pub fn lock_index(name: &'static str) -> u32 {
    for (i, slot) in LOCK_NAMES.iter().enumerate() {
        // The first caller on a free slot fills it; a loser moves on.
        if *slot.call_once(|| name) == name {
            return i as u32;
        }
    }
    u32::MAX
}

fn lock_names() -> Vec<LockName> {
    LOCK_NAMES
        .iter()
        .enumerate()
        .filter_map(|(i, slot)| {
            let n = slot.get()?;
            let mut name = [0u8; NAME_LEN];
            let len = n.len().min(NAME_LEN);
            name[..len].copy_from_slice(&n.as_bytes()[..len]);
            Some(LockName {
                index: i as u32,
                _pad: 0,
                name,
            })
        })
        .collect()
}

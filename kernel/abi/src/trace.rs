//! The trace format: the records each CPU's ring holds, the events, and
//! the dump file that `perf record` / `perf dump` write and the host tool
//! `tools/trace` reads. All integers little-endian; every struct here is
//! `repr(C)` with no padding, so a dump is these structs laid end to end.
//!
//! # Dump layout (version 2)
//! ```text
//! DumpHeader                      (64 bytes)
//! CpuSummary × header.cpus        (32 bytes each)
//! Record × Σ CpuSummary.kept      (32 bytes each; CPU 0's, then CPU 1's, ...,
//!                                  each CPU's oldest first)
//! ProcName × header.procs         (32 bytes each)
//! CtrName × header.containers     (32 bytes each)
//! -- version 2 on: exact counts, whatever the rings overwrote --
//! DumpTail                        (32 bytes)
//! EventCounts × header.cpus       (128 bytes each, in CpuSummary order)
//! CtrUsage × tail.usages          (32 bytes each)
//! LockName × tail.locks           (32 bytes each)
//! ```
//! Version 1 is the same without the tail. A reader refuses a dump whose
//! magic differs, whose version is newer than it knows, or that is shorter
//! than its header (or tail) says. `berth-tracefmt` reads and writes it.

/// The first eight bytes of a dump.
pub const DUMP_MAGIC: [u8; 8] = *b"BERTHTRC";
/// The layout described above.
pub const DUMP_VERSION: u32 = 2;
/// The first version with a [`DumpTail`].
pub const DUMP_VERSION_TAIL: u32 = 2;

/// Where the TSC frequency in a dump came from (the kernel's `tsc::TscSource`).
pub mod tsc_source {
    /// Unknown (a fixed guess).
    pub const OTHER: u32 = 0;
    /// CPUID leaf 0x15 (crystal ratio).
    pub const CPUID: u32 = 1;
    /// The hypervisor's CPUID leaf 0x40000010.
    pub const HYPERVISOR: u32 = 2;
    /// CPUID leaf 0x16 (base frequency).
    pub const CPUID_BASE: u32 = 3;
    /// Calibrated against the PIT at boot.
    pub const PIT: u32 = 4;
    /// Calibrated against the HPET at boot.
    pub const HPET: u32 = 5;

    pub const fn name(s: u32) -> &'static str {
        match s {
            CPUID => "cpuid 0x15",
            HYPERVISOR => "hypervisor cpuid 0x40000010",
            CPUID_BASE => "cpuid 0x16",
            PIT => "PIT calibration",
            HPET => "HPET calibration",
            _ => "unknown",
        }
    }
}

crate::pod! {
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DumpHeader {
    pub magic: [u8; 8],
    pub version: u32,
    /// CPUs with a ring (a `CpuSummary` each).
    pub cpus: u32,
    /// TSC ticks per second.
    pub tsc_hz: u64,
    /// One of [`tsc_source`].
    pub tsc_source: u32,
    /// TSC cycles one `rdtsc` costs (measured at boot): the probes' clock
    /// read, to subtract from short intervals or judge them.
    pub clock_read_cycles: u32,
    /// TSC when recording started and stopped.
    pub start_tsc: u64,
    pub stop_tsc: u64,
    /// Entries in the two name tables at the end.
    pub procs: u32,
    pub containers: u32,
    /// The events that were enabled (a bit per [`event`] number).
    pub event_mask: u64,
}
}

crate::pod! {
/// One CPU's counts: `produced = kept + dropped` exactly (a full ring
/// overwrites its oldest records and counts them as dropped).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuSummary {
    pub cpu: u32,
    pub _pad: u32,
    pub produced: u64,
    pub kept: u64,
    pub dropped: u64,
}
}

crate::pod! {
/// One event. `pid`/`container` are the process the event is about (for
/// a switch: the one leaving the CPU), in host numbering; `-1` for none
/// (the idle loop, an interrupt with no process).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Record {
    pub tsc: u64,
    pub pid: i32,
    pub container: i32,
    /// One of [`event`].
    pub event: u16,
    pub cpu: u16,
    /// Event-specific; see [`event`].
    pub a: u32,
    pub b: u64,
}
}

/// Event numbers, and what `a` and `b` carry for each.
pub mod event {
    /// A context switch: `pid`/`container` left the CPU (`-1`: the idle
    /// loop), `a` = the next pid (`u32::MAX`: idle), `b` = the next one's
    /// container (low 32 bits, `u32::MAX` for idle) and the leaving
    /// process's state (bits 32-39, a `syscall::proc_state` value).
    pub const SWITCH: u16 = 1;
    /// `pid` was made runnable: `a` = the CPU it is meant for (the one it
    /// last ran on; placement may queue it elsewhere), `b` = the waker's
    /// pid as `i64` (`-1`: an interrupt, e.g. a timer).
    pub const WAKEUP: u16 = 2;
    /// A system call starts: `a` = its number.
    pub const SYSCALL_ENTER: u16 = 3;
    /// It returns: `a` = its number, `b` = its result (`i64`).
    pub const SYSCALL_EXIT: u16 = 4;
    /// An interrupt: `a` = its vector.
    pub const IRQ: u16 = 5;
    /// An IPI sent: `a` = its vector, `b` = the target CPU.
    pub const IPI: u16 = 6;
    /// A user page fault: `a` = the error code, `b` = the address.
    pub const PAGE_FAULT: u16 = 7;
    /// `pid` forked: `a` = the child's pid.
    pub const FORK: u16 = 8;
    /// `pid` exec'd: its new name is in the name table.
    pub const EXEC: u16 = 9;
    /// `pid` exited: `a` = its status (`i32`).
    pub const EXIT: u16 = 10;
    /// A container operation by `pid`: `a` = one of [`super::ctr_op`],
    /// `b` = the container's id.
    pub const CONTAINER: u16 = 11;
    /// A spinlock was spun on for longer than the threshold: `a` = the
    /// lock's index in the dump's [`super::LockName`] table (`u32::MAX`:
    /// the kernel's table of lock names was full), `b` = cycles spun.
    pub const SPIN: u16 = 12;
    /// Largest event number.
    pub const LAST: u16 = SPIN;

    /// The event's name, as `perf -e` and the host tool spell it.
    pub const fn name(e: u16) -> &'static str {
        match e {
            SWITCH => "switch",
            WAKEUP => "wakeup",
            SYSCALL_ENTER => "syscall_enter",
            SYSCALL_EXIT => "syscall_exit",
            IRQ => "irq",
            IPI => "ipi",
            PAGE_FAULT => "page_fault",
            FORK => "fork",
            EXEC => "exec",
            EXIT => "exit",
            CONTAINER => "container",
            SPIN => "spin",
            _ => "unknown",
        }
    }
}

/// Container operations in a [`event::CONTAINER`] record.
pub mod ctr_op {
    pub const CREATE: u32 = 1;
    pub const JOIN: u32 = 2;
    pub const LEAVE: u32 = 3;
    pub const DESTROY: u32 = 4;
    pub const PAUSE: u32 = 5;
    pub const RESUME: u32 = 6;

    pub const fn name(op: u32) -> &'static str {
        match op {
            CREATE => "create",
            JOIN => "join",
            LEAVE => "leave",
            DESTROY => "destroy",
            PAUSE => "pause",
            RESUME => "resume",
            _ => "unknown",
        }
    }
}

/// Bytes of a name in the name tables (NUL-padded, not always NUL-ended).
pub const NAME_LEN: usize = 24;

crate::pod! {
/// A process's name as the dump ends (the last name it had).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcName {
    pub pid: i32,
    pub container: i32,
    pub name: [u8; NAME_LEN],
}
}

crate::pod! {
/// A container's name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CtrName {
    pub id: i32,
    /// Its CPU weight when the dump was taken.
    pub weight: u32,
    pub name: [u8; NAME_LEN],
}
}

crate::pod! {
/// What follows the name tables from version 2 on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DumpTail {
    /// Entries in the [`CtrUsage`] table.
    pub usages: u32,
    /// Entries in the [`LockName`] table.
    pub locks: u32,
    pub _reserved: [u64; 3],
}
}

/// Slots of [`EventCounts`]: one per event number, room to grow.
pub const EVENT_SLOTS: usize = 16;
const _: () = assert!((event::LAST as usize) < EVENT_SLOTS);

crate::pod! {
/// One CPU's records produced during the recording, per event number
/// (index = event): kept or overwritten, so exact however full the ring
/// got. They sum to the CPU's `CpuSummary.produced`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventCounts {
    pub produced: [u64; EVENT_SLOTS],
}
}

crate::pod! {
/// A container's CPU time during the recording, from the scheduler's own
/// accounting (its slices, in TSC cycles, and how often one of its
/// processes was switched in), whatever the rings kept. Every container
/// that ran is listed, including one destroyed before the dump.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CtrUsage {
    pub id: i32,
    pub _pad: u32,
    pub cycles: u64,
    pub switches: u64,
    pub _reserved: u64,
}
}

crate::pod! {
/// A spinlock's name, for [`event::SPIN`] records' `a`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LockName {
    pub index: u32,
    pub _pad: u32,
    pub name: [u8; NAME_LEN],
}
}

const _: () = {
    assert!(core::mem::size_of::<DumpHeader>() == 64);
    assert!(core::mem::size_of::<CpuSummary>() == 32);
    assert!(core::mem::size_of::<Record>() == 32);
    assert!(core::mem::size_of::<ProcName>() == 32);
    assert!(core::mem::size_of::<CtrName>() == 32);
    assert!(core::mem::size_of::<DumpTail>() == 32);
    assert!(core::mem::size_of::<EventCounts>() == 128);
    assert!(core::mem::size_of::<CtrUsage>() == 32);
    assert!(core::mem::size_of::<LockName>() == 32);
};

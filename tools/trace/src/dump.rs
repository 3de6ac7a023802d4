//! The dump file, owned: [`parse`] checks a byte slice with the shared
//! codec (`berth-tracefmt`, which the kernel writes with and `perf` reads
//! with) and copies it into a [`Dump`]; [`encode`] writes one back. The
//! layout is the one documented in `berth_abi::trace`.

use berth_abi::trace::{
    CpuSummary, CtrName, CtrUsage, DumpHeader, EventCounts, LockName, ProcName, Record, NAME_LEN,
};
use berth_tracefmt::{Contents, DumpView};

pub use berth_tracefmt::{
    DumpError, COUNTS_LEN, CPU_LEN, CTR_LEN, HEADER_LEN, LOCK_LEN, PROC_LEN, RECORD_LEN, TAIL_LEN,
    USAGE_LEN,
};

/// A whole dump, as read from a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dump {
    pub header: DumpHeader,
    pub cpus: Vec<CpuSummary>,
    /// CPU 0's records first, then CPU 1's, ...; each CPU's oldest first.
    pub records: Vec<Record>,
    pub procs: Vec<ProcName>,
    pub containers: Vec<CtrName>,
    /// Version 2's exact counts (empty in a version 1 dump): per CPU, in
    /// `cpus` order, the records produced per event number ...
    pub counts: Vec<EventCounts>,
    /// ... each container's CPU time by the scheduler's accounting ...
    pub usage: Vec<CtrUsage>,
    /// ... and the names of the locks in spin records.
    pub locks: Vec<LockName>,
}

/// Parses a dump. Bytes after the last section are ignored.
pub fn parse(bytes: &[u8]) -> Result<Dump, DumpError> {
    let v = DumpView::parse(bytes)?;
    Ok(Dump {
        header: v.header(),
        cpus: v.cpus().collect(),
        records: v.records().collect(),
        procs: v.procs().collect(),
        containers: v.containers().collect(),
        counts: v.event_counts().collect(),
        usage: v.usage().collect(),
        locks: v.locks().collect(),
    })
}

/// Encodes a dump. The header is written as given (tests build
/// inconsistent dumps on purpose); use [`Dump::fix_counts`] first for a
/// consistent one. The tail is written when the header's version has one.
pub fn encode(d: &Dump) -> Vec<u8> {
    let c = Contents {
        header: d.header,
        cpus: &d.cpus,
        records: &[d.records.as_slice()],
        procs: &d.procs,
        containers: &d.containers,
        counts: &d.counts,
        usage: &d.usage,
        locks: &d.locks,
    };
    let mut out = Vec::with_capacity(berth_tracefmt::size(&c));
    berth_tracefmt::encode(&c, &mut |b| out.extend_from_slice(b));
    out
}

impl Dump {
    /// Sets the header's table counts from the vectors and each CPU's
    /// `kept` from its records (`produced = kept + dropped`).
    pub fn fix_counts(&mut self) {
        self.header.cpus = self.cpus.len() as u32;
        self.header.procs = self.procs.len() as u32;
        self.header.containers = self.containers.len() as u32;
        for c in &mut self.cpus {
            c.kept = self
                .records
                .iter()
                .filter(|r| u32::from(r.cpu) == c.cpu)
                .count() as u64;
            c.produced = c.kept + c.dropped;
        }
        if self.header.version >= berth_abi::trace::DUMP_VERSION_TAIL {
            // Kept records by event; the dropped ones are put on event 0
            // (no event) unless the counts already say more.
            self.counts = self
                .cpus
                .iter()
                .map(|c| {
                    let mut e = EventCounts::default();
                    for r in self.records.iter().filter(|r| u32::from(r.cpu) == c.cpu) {
                        e.produced[usize::from(r.event) % e.produced.len()] += 1;
                    }
                    e.produced[0] += c.dropped;
                    e
                })
                .collect();
        }
    }

    /// Each CPU's records, in the order of the CPU summaries.
    pub fn records_by_cpu(&self) -> Vec<(u32, &[Record])> {
        let mut at = 0usize;
        let mut out = Vec::with_capacity(self.cpus.len());
        for c in &self.cpus {
            let n = usize::try_from(c.kept).unwrap_or(usize::MAX);
            let end = at.saturating_add(n).min(self.records.len());
            out.push((c.cpu, &self.records[at.min(end)..end]));
            at = end;
        }
        out
    }

    /// The last name of `pid` in the name table.
    pub fn proc_name(&self, pid: i32) -> Option<String> {
        self.procs
            .iter()
            .rev()
            .find(|p| p.pid == pid)
            .map(|p| name_str(&p.name))
    }

    /// The container table's entry for `id`.
    pub fn ctr(&self, id: i32) -> Option<&CtrName> {
        self.containers.iter().find(|c| c.id == id)
    }

    /// Nanoseconds from recording start to `tsc` (0 before the start).
    pub fn ns_since_start(&self, tsc: u64) -> u64 {
        cycles_to_ns(
            tsc.saturating_sub(self.header.start_tsc),
            self.header.tsc_hz,
        )
    }
}

/// Converts TSC cycles to nanoseconds. A dump with no frequency (0) is
/// read as 1 GHz, so cycles and nanoseconds coincide.
pub fn cycles_to_ns(cycles: u64, tsc_hz: u64) -> u64 {
    if tsc_hz == 0 {
        return cycles;
    }
    let ns = u128::from(cycles) * 1_000_000_000 / u128::from(tsc_hz);
    u64::try_from(ns).unwrap_or(u64::MAX)
}

/// A NUL-padded name as text (up to the first NUL, invalid UTF-8 replaced).
pub fn name_str(name: &[u8]) -> String {
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    String::from_utf8_lossy(&name[..end]).into_owned()
}

/// A name for the tables: NUL-padded, cut at [`NAME_LEN`] bytes.
pub fn name_bytes(s: &str) -> [u8; NAME_LEN] {
    let mut out = [0u8; NAME_LEN];
    let n = s.len().min(NAME_LEN);
    out[..n].copy_from_slice(&s.as_bytes()[..n]);
    out
}

//! The dump file: parse a byte slice into a [`Dump`] (field by field,
//! little-endian, never transmuting and never panicking on any input) and
//! encode a [`Dump`] back into bytes. The layout is the one documented in
//! `berth_abi::trace`.

use berth_abi::trace::{
    CpuSummary, CtrName, DumpHeader, ProcName, Record, DUMP_MAGIC, DUMP_VERSION, NAME_LEN,
};
use std::fmt;

/// Bytes of each part of the layout.
pub const HEADER_LEN: usize = 64;
pub const CPU_LEN: usize = 32;
pub const RECORD_LEN: usize = 32;
pub const PROC_LEN: usize = 32;
pub const CTR_LEN: usize = 32;

/// A whole dump, as read from a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dump {
    pub header: DumpHeader,
    pub cpus: Vec<CpuSummary>,
    /// CPU 0's records first, then CPU 1's, ...; each CPU's oldest first.
    pub records: Vec<Record>,
    pub procs: Vec<ProcName>,
    pub containers: Vec<CtrName>,
}

/// Why a byte slice is not a dump this tool can read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DumpError {
    /// Fewer bytes than a header.
    TooShort { len: usize },
    /// The first eight bytes are not [`DUMP_MAGIC`].
    BadMagic,
    /// Made by a newer kernel than this tool understands.
    TooNew { version: u32 },
    /// A section runs past the end of the file.
    Truncated {
        section: &'static str,
        expected: u128,
        present: u128,
    },
    /// A CPU's counts do not add up.
    BadCounts {
        cpu: u32,
        produced: u64,
        kept: u64,
        dropped: u64,
    },
    /// A record in one CPU's section says it came from another CPU.
    WrongCpu {
        index: usize,
        section_cpu: u32,
        record_cpu: u16,
    },
}

impl fmt::Display for DumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DumpError::TooShort { len } => write!(
                f,
                "not a berth trace: {len} bytes, shorter than a {HEADER_LEN}-byte header"
            ),
            DumpError::BadMagic => write!(f, "not a berth trace"),
            DumpError::TooNew { version } => write!(
                f,
                "made by a newer berth: version {version}, this tool reads up to {DUMP_VERSION}"
            ),
            DumpError::Truncated {
                section,
                expected,
                present,
            } => write!(
                f,
                "truncated dump: the {section} section needs {expected} bytes, {present} present"
            ),
            DumpError::BadCounts {
                cpu,
                produced,
                kept,
                dropped,
            } => write!(
                f,
                "corrupt dump: CPU {cpu} kept {kept} + dropped {dropped} != produced {produced}"
            ),
            DumpError::WrongCpu {
                index,
                section_cpu,
                record_cpu,
            } => write!(
                f,
                "corrupt dump: record {index} is in CPU {section_cpu}'s section but says CPU {record_cpu}"
            ),
        }
    }
}

impl std::error::Error for DumpError {}

/// Reads little-endian fields from a slice the caller has already checked
/// is long enough; a short read yields zeros rather than a panic.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }

    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(src) = self
            .at
            .checked_add(N)
            .and_then(|end| self.bytes.get(self.at..end))
        {
            out.copy_from_slice(src);
        }
        self.at = self.at.saturating_add(N);
        out
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.take())
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }
    fn i32(&mut self) -> i32 {
        i32::from_le_bytes(self.take())
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }
}

fn read_header(r: &mut Reader) -> DumpHeader {
    DumpHeader {
        magic: r.take(),
        version: r.u32(),
        cpus: r.u32(),
        tsc_hz: r.u64(),
        tsc_source: r.u32(),
        clock_read_cycles: r.u32(),
        start_tsc: r.u64(),
        stop_tsc: r.u64(),
        procs: r.u32(),
        containers: r.u32(),
        event_mask: r.u64(),
    }
}

fn read_cpu(r: &mut Reader) -> CpuSummary {
    CpuSummary {
        cpu: r.u32(),
        _pad: r.u32(),
        produced: r.u64(),
        kept: r.u64(),
        dropped: r.u64(),
    }
}

fn read_record(r: &mut Reader) -> Record {
    Record {
        tsc: r.u64(),
        pid: r.i32(),
        container: r.i32(),
        event: r.u16(),
        cpu: r.u16(),
        a: r.u32(),
        b: r.u64(),
    }
}

fn read_proc(r: &mut Reader) -> ProcName {
    ProcName {
        pid: r.i32(),
        container: r.i32(),
        name: r.take::<NAME_LEN>(),
    }
}

fn read_ctr(r: &mut Reader) -> CtrName {
    CtrName {
        id: r.i32(),
        weight: r.u32(),
        name: r.take::<NAME_LEN>(),
    }
}

/// Checks that `count` items of `size` bytes starting at `at` fit in
/// `len` bytes; returns the offset after them.
fn section(
    name: &'static str,
    at: usize,
    count: u128,
    size: usize,
    len: usize,
) -> Result<usize, DumpError> {
    let expected = count * size as u128;
    let present = len.saturating_sub(at) as u128;
    if expected > present {
        return Err(DumpError::Truncated {
            section: name,
            expected,
            present,
        });
    }
    // expected <= present <= len, so it fits in usize.
    Ok(at + expected as usize)
}

/// Parses a dump. Bytes after the last section are ignored.
pub fn parse(bytes: &[u8]) -> Result<Dump, DumpError> {
    if bytes.len() < HEADER_LEN {
        // A file that does not even start like a dump is foreign, not short.
        let n = bytes.len().min(DUMP_MAGIC.len());
        if bytes[..n] != DUMP_MAGIC[..n] {
            return Err(DumpError::BadMagic);
        }
        return Err(DumpError::TooShort { len: bytes.len() });
    }
    let mut r = Reader::new(bytes);
    let header = read_header(&mut r);
    if header.magic != DUMP_MAGIC {
        return Err(DumpError::BadMagic);
    }
    if header.version > DUMP_VERSION {
        return Err(DumpError::TooNew {
            version: header.version,
        });
    }
    let len = bytes.len();
    let at = section("CPU summary", HEADER_LEN, header.cpus.into(), CPU_LEN, len)?;
    let cpus: Vec<CpuSummary> = (0..header.cpus).map(|_| read_cpu(&mut r)).collect();
    for c in &cpus {
        if u128::from(c.kept) + u128::from(c.dropped) != u128::from(c.produced) {
            return Err(DumpError::BadCounts {
                cpu: c.cpu,
                produced: c.produced,
                kept: c.kept,
                dropped: c.dropped,
            });
        }
    }
    let kept: u128 = cpus.iter().map(|c| u128::from(c.kept)).sum();
    let at = section("record", at, kept, RECORD_LEN, len)?;
    let at = section("process name", at, header.procs.into(), PROC_LEN, len)?;
    section("container name", at, header.containers.into(), CTR_LEN, len)?;

    // Every section fits, so `kept` fits in usize and the reads below are
    // all in bounds.
    let mut records = Vec::with_capacity(kept as usize);
    for c in &cpus {
        for _ in 0..c.kept {
            let rec = read_record(&mut r);
            if u32::from(rec.cpu) != c.cpu {
                return Err(DumpError::WrongCpu {
                    index: records.len(),
                    section_cpu: c.cpu,
                    record_cpu: rec.cpu,
                });
            }
            records.push(rec);
        }
    }
    let procs = (0..header.procs).map(|_| read_proc(&mut r)).collect();
    let containers = (0..header.containers).map(|_| read_ctr(&mut r)).collect();
    Ok(Dump {
        header,
        cpus,
        records,
        procs,
        containers,
    })
}

/// Encodes a dump. The header's `cpus`, `procs` and `containers` are
/// written as given (tests build inconsistent dumps on purpose); use
/// [`Dump::fix_counts`] first for a consistent one.
pub fn encode(d: &Dump) -> Vec<u8> {
    let h = &d.header;
    let mut out = Vec::with_capacity(
        HEADER_LEN
            + CPU_LEN * d.cpus.len()
            + RECORD_LEN * d.records.len()
            + PROC_LEN * d.procs.len()
            + CTR_LEN * d.containers.len(),
    );
    out.extend_from_slice(&h.magic);
    out.extend_from_slice(&h.version.to_le_bytes());
    out.extend_from_slice(&h.cpus.to_le_bytes());
    out.extend_from_slice(&h.tsc_hz.to_le_bytes());
    out.extend_from_slice(&h.tsc_source.to_le_bytes());
    out.extend_from_slice(&h.clock_read_cycles.to_le_bytes());
    out.extend_from_slice(&h.start_tsc.to_le_bytes());
    out.extend_from_slice(&h.stop_tsc.to_le_bytes());
    out.extend_from_slice(&h.procs.to_le_bytes());
    out.extend_from_slice(&h.containers.to_le_bytes());
    out.extend_from_slice(&h.event_mask.to_le_bytes());
    for c in &d.cpus {
        out.extend_from_slice(&c.cpu.to_le_bytes());
        out.extend_from_slice(&c._pad.to_le_bytes());
        out.extend_from_slice(&c.produced.to_le_bytes());
        out.extend_from_slice(&c.kept.to_le_bytes());
        out.extend_from_slice(&c.dropped.to_le_bytes());
    }
    for r in &d.records {
        out.extend_from_slice(&r.tsc.to_le_bytes());
        out.extend_from_slice(&r.pid.to_le_bytes());
        out.extend_from_slice(&r.container.to_le_bytes());
        out.extend_from_slice(&r.event.to_le_bytes());
        out.extend_from_slice(&r.cpu.to_le_bytes());
        out.extend_from_slice(&r.a.to_le_bytes());
        out.extend_from_slice(&r.b.to_le_bytes());
    }
    for p in &d.procs {
        out.extend_from_slice(&p.pid.to_le_bytes());
        out.extend_from_slice(&p.container.to_le_bytes());
        out.extend_from_slice(&p.name);
    }
    for c in &d.containers {
        out.extend_from_slice(&c.id.to_le_bytes());
        out.extend_from_slice(&c.weight.to_le_bytes());
        out.extend_from_slice(&c.name);
    }
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

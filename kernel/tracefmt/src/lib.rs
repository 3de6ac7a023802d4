//! The trace dump of `berth_abi::trace` (versions 1 and 2): its sections
//! are the ABI's plain-data structures (`berth_abi::pod`) laid end to end
//! in the machine's byte order (little-endian: the ABI is x86_64's), read
//! and written as whole values through their bytes, never panicking on
//! any input, allocating nothing. The kernel writes its
//! dumps with [`encode`], `perf` reads their counts with [`DumpView`], and
//! the host tool `tools/trace` parses whole dumps with it: one codec, so
//! the three cannot drift apart. (`berth-abi` holds only the layouts; this
//! is the logic over them.)
#![no_std]

use core::fmt;
use core::mem::size_of;

use berth_abi::pod::{bytes_of, bytes_of_mut, slice_bytes, Pod};
use berth_abi::trace::{
    CpuSummary, CtrName, CtrUsage, DumpHeader, DumpTail, EventCounts, LockName, ProcName, Record,
    DUMP_MAGIC, DUMP_VERSION, DUMP_VERSION_TAIL,
};

/// Bytes of each part of the layout.
pub const HEADER_LEN: usize = size_of::<DumpHeader>();
pub const CPU_LEN: usize = size_of::<CpuSummary>();
pub const RECORD_LEN: usize = size_of::<Record>();
pub const PROC_LEN: usize = size_of::<ProcName>();
pub const CTR_LEN: usize = size_of::<CtrName>();
pub const TAIL_LEN: usize = size_of::<DumpTail>();
pub const COUNTS_LEN: usize = size_of::<EventCounts>();
pub const USAGE_LEN: usize = size_of::<CtrUsage>();
pub const LOCK_LEN: usize = size_of::<LockName>();

/// Why a byte slice is not a dump this codec can read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DumpError {
    /// Fewer bytes than a header.
    TooShort { len: usize },
    /// The first eight bytes are not [`DUMP_MAGIC`].
    BadMagic,
    /// Made by a newer kernel than this reader understands.
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
    /// A CPU's per-event counts do not sum to what it produced.
    BadEventCounts { cpu: u32, sum: u128, produced: u64 },
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
            DumpError::BadEventCounts { cpu, sum, produced } => write!(
                f,
                "corrupt dump: CPU {cpu}'s event counts sum to {sum}, it produced {produced}"
            ),
        }
    }
}

impl core::error::Error for DumpError {}

/// What a dump holds, borrowed: `records[i]` are CPU `cpus[i]`'s, oldest
/// first; `counts[i]` its per-event counts (version 2).
pub struct Contents<'a, R: AsRef<[Record]>> {
    /// Written as given (its counts too: a test may want a dump that
    /// disagrees with itself).
    pub header: DumpHeader,
    pub cpus: &'a [CpuSummary],
    pub records: &'a [R],
    pub procs: &'a [ProcName],
    pub containers: &'a [CtrName],
    /// The tail's tables, written when `header.version` has a tail.
    pub counts: &'a [EventCounts],
    pub usage: &'a [CtrUsage],
    pub locks: &'a [LockName],
}

impl<R: AsRef<[Record]>> Contents<'_, R> {
    fn has_tail(&self) -> bool {
        self.header.version >= DUMP_VERSION_TAIL
    }
}

/// Bytes [`encode`] writes for `c`.
pub fn size<R: AsRef<[Record]>>(c: &Contents<'_, R>) -> usize {
    let records: usize = c.records.iter().map(|r| r.as_ref().len()).sum();
    let v1 = HEADER_LEN
        + CPU_LEN * c.cpus.len()
        + RECORD_LEN * records
        + PROC_LEN * c.procs.len()
        + CTR_LEN * c.containers.len();
    if c.has_tail() {
        v1 + TAIL_LEN
            + COUNTS_LEN * c.counts.len()
            + USAGE_LEN * c.usage.len()
            + LOCK_LEN * c.locks.len()
    } else {
        v1
    }
}

/// Writes the dump of `c` to `out`, [`size`] bytes in all.
pub fn encode<R: AsRef<[Record]>>(c: &Contents<'_, R>, out: &mut impl FnMut(&[u8])) {
    out(bytes_of(&c.header));
    out(slice_bytes(c.cpus));
    for r in c.records {
        out(slice_bytes(r.as_ref()));
    }
    out(slice_bytes(c.procs));
    out(slice_bytes(c.containers));
    if !c.has_tail() {
        return;
    }
    let tail = DumpTail {
        usages: c.usage.len() as u32,
        locks: c.locks.len() as u32,
        _reserved: [0; 3],
    };
    out(bytes_of(&tail));
    out(slice_bytes(c.counts));
    out(slice_bytes(c.usage));
    out(slice_bytes(c.locks));
}

/// Reads little-endian fields from `bytes` at a position; a read past the
/// end yields zeros rather than a panic (the parser checks lengths first).
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn at(bytes: &'a [u8], at: usize) -> Self {
        Reader { bytes, at }
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

    /// A whole structure (zeros past the end, as `take`).
    fn value<T: Pod + Default>(&mut self) -> T {
        let mut v = T::default();
        let n = core::mem::size_of::<T>();
        let end = self.at.saturating_add(n);
        if let Some(src) = self.bytes.get(self.at..end) {
            bytes_of_mut(&mut v).copy_from_slice(src);
        }
        self.at = end;
        v
    }
}

/// One structure of the dump, as the reader's next bytes.
fn read<T: Pod + Default>(r: &mut Reader) -> T {
    r.value()
}

/// Checks that `count` items of `size` bytes at `at` fit in `len` bytes;
/// returns the offset after them.
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

/// `n` items of `size` bytes at `at`, each read by `read`.
fn items<'a, T: 'a>(
    bytes: &'a [u8],
    at: usize,
    n: usize,
    size: usize,
    read: fn(&mut Reader) -> T,
) -> impl ExactSizeIterator<Item = T> + 'a {
    (0..n).map(move |i| read(&mut Reader::at(bytes, at + i * size)))
}

/// Where version 2's tables start.
#[derive(Clone, Copy, Debug)]
struct TailAt {
    tail: DumpTail,
    counts: usize,
    usage: usize,
    locks: usize,
}

/// A checked dump: every section fits, every CPU's counts add up and
/// every record is in its CPU's section; the accessors decode on the fly.
#[derive(Clone, Copy, Debug)]
pub struct DumpView<'a> {
    bytes: &'a [u8],
    header: DumpHeader,
    cpus: usize,
    records: usize,
    kept: usize,
    procs: usize,
    containers: usize,
    tail: Option<TailAt>,
    end: usize,
}

impl<'a> DumpView<'a> {
    /// Checks `bytes`. Bytes after the last section are ignored.
    pub fn parse(bytes: &'a [u8]) -> Result<DumpView<'a>, DumpError> {
        if bytes.len() < HEADER_LEN {
            // A file that does not even start like a dump is foreign, not short.
            let n = bytes.len().min(DUMP_MAGIC.len());
            if bytes[..n] != DUMP_MAGIC[..n] {
                return Err(DumpError::BadMagic);
            }
            return Err(DumpError::TooShort { len: bytes.len() });
        }
        let header = read::<DumpHeader>(&mut Reader::at(bytes, 0));
        if header.magic != DUMP_MAGIC {
            return Err(DumpError::BadMagic);
        }
        if header.version > DUMP_VERSION {
            return Err(DumpError::TooNew {
                version: header.version,
            });
        }
        let len = bytes.len();
        let records = section("CPU summary", HEADER_LEN, header.cpus.into(), CPU_LEN, len)?;
        let ncpus = header.cpus as usize;
        let mut kept: u128 = 0;
        for c in items(bytes, HEADER_LEN, ncpus, CPU_LEN, read::<CpuSummary>) {
            if u128::from(c.kept) + u128::from(c.dropped) != u128::from(c.produced) {
                return Err(DumpError::BadCounts {
                    cpu: c.cpu,
                    produced: c.produced,
                    kept: c.kept,
                    dropped: c.dropped,
                });
            }
            kept += u128::from(c.kept);
        }
        let procs = section("record", records, kept, RECORD_LEN, len)?;
        let containers = section("process name", procs, header.procs.into(), PROC_LEN, len)?;
        let mut end = section(
            "container name",
            containers,
            header.containers.into(),
            CTR_LEN,
            len,
        )?;
        // Every section fits, so `kept` fits in usize.
        let kept = kept as usize;
        let mut at = records;
        let mut index = 0;
        for c in items(bytes, HEADER_LEN, ncpus, CPU_LEN, read::<CpuSummary>) {
            for _ in 0..c.kept {
                let cpu = Reader::at(bytes, at + 18).u16();
                if u32::from(cpu) != c.cpu {
                    return Err(DumpError::WrongCpu {
                        index,
                        section_cpu: c.cpu,
                        record_cpu: cpu,
                    });
                }
                at += RECORD_LEN;
                index += 1;
            }
        }
        let mut tail = None;
        if header.version >= DUMP_VERSION_TAIL {
            let counts = section("tail", end, 1, TAIL_LEN, len)?;
            let t = read::<DumpTail>(&mut Reader::at(bytes, end));
            let usage = section("event count", counts, header.cpus.into(), COUNTS_LEN, len)?;
            let locks = section("container usage", usage, t.usages.into(), USAGE_LEN, len)?;
            end = section("lock name", locks, t.locks.into(), LOCK_LEN, len)?;
            let per_cpu = items(bytes, HEADER_LEN, ncpus, CPU_LEN, read::<CpuSummary>).zip(items(
                bytes,
                counts,
                ncpus,
                COUNTS_LEN,
                read::<EventCounts>,
            ));
            for (c, e) in per_cpu {
                let sum: u128 = e.produced.iter().map(|&n| u128::from(n)).sum();
                if sum != u128::from(c.produced) {
                    return Err(DumpError::BadEventCounts {
                        cpu: c.cpu,
                        sum,
                        produced: c.produced,
                    });
                }
            }
            tail = Some(TailAt {
                tail: t,
                counts,
                usage,
                locks,
            });
        }
        Ok(DumpView {
            bytes,
            header,
            cpus: HEADER_LEN,
            records,
            kept,
            procs,
            containers,
            tail,
            end,
        })
    }

    pub fn header(&self) -> DumpHeader {
        self.header
    }

    /// Bytes the dump takes (what follows is not part of it).
    pub fn len(&self) -> usize {
        self.end
    }

    /// Never: a dump has at least a header.
    pub fn is_empty(&self) -> bool {
        self.end == 0
    }

    /// The CPU summaries.
    pub fn cpus(&self) -> impl ExactSizeIterator<Item = CpuSummary> + 'a {
        items(
            self.bytes,
            self.cpus,
            self.header.cpus as usize,
            CPU_LEN,
            read::<CpuSummary>,
        )
    }

    /// Every kept record: CPU 0's, then CPU 1's, ...; each CPU's oldest first.
    pub fn records(&self) -> impl ExactSizeIterator<Item = Record> + 'a {
        items(
            self.bytes,
            self.records,
            self.kept,
            RECORD_LEN,
            read::<Record>,
        )
    }

    pub fn procs(&self) -> impl ExactSizeIterator<Item = ProcName> + 'a {
        items(
            self.bytes,
            self.procs,
            self.header.procs as usize,
            PROC_LEN,
            read::<ProcName>,
        )
    }

    pub fn containers(&self) -> impl ExactSizeIterator<Item = CtrName> + 'a {
        items(
            self.bytes,
            self.containers,
            self.header.containers as usize,
            CTR_LEN,
            read::<CtrName>,
        )
    }

    /// Version 2's tail (`None` for a version 1 dump).
    pub fn tail(&self) -> Option<DumpTail> {
        self.tail.map(|t| t.tail)
    }

    /// Each CPU's per-event counts, in summary order (none in version 1).
    pub fn event_counts(&self) -> impl ExactSizeIterator<Item = EventCounts> + 'a {
        let (at, n) = self
            .tail
            .map_or((0, 0), |t| (t.counts, self.header.cpus as usize));
        items(self.bytes, at, n, COUNTS_LEN, read::<EventCounts>)
    }

    /// The containers' CPU time during the recording (none in version 1).
    pub fn usage(&self) -> impl ExactSizeIterator<Item = CtrUsage> + 'a {
        let (at, n) = self
            .tail
            .map_or((0, 0), |t| (t.usage, t.tail.usages as usize));
        items(self.bytes, at, n, USAGE_LEN, read::<CtrUsage>)
    }

    /// The lock names of spin records (none in version 1).
    pub fn locks(&self) -> impl ExactSizeIterator<Item = LockName> + 'a {
        let (at, n) = self
            .tail
            .map_or((0, 0), |t| (t.locks, t.tail.locks as usize));
        items(self.bytes, at, n, LOCK_LEN, read::<LockName>)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use berth_abi::trace::{event, NAME_LEN};
    use std::vec;
    use std::vec::Vec;

    fn name(s: &str) -> [u8; NAME_LEN] {
        let mut n = [0u8; NAME_LEN];
        n[..s.len()].copy_from_slice(s.as_bytes());
        n
    }

    fn rec(cpu: u16, tsc: u64, ev: u16) -> Record {
        Record {
            tsc,
            pid: -1,
            container: 2,
            event: ev,
            cpu,
            a: 9,
            b: 0xffff_ffff,
        }
    }

    struct Owned {
        header: DumpHeader,
        cpus: Vec<CpuSummary>,
        records: Vec<Vec<Record>>,
        procs: Vec<ProcName>,
        containers: Vec<CtrName>,
        counts: Vec<EventCounts>,
        usage: Vec<CtrUsage>,
        locks: Vec<LockName>,
    }

    impl Owned {
        fn bytes(&self) -> Vec<u8> {
            let c = Contents {
                header: self.header,
                cpus: &self.cpus,
                records: &self.records,
                procs: &self.procs,
                containers: &self.containers,
                counts: &self.counts,
                usage: &self.usage,
                locks: &self.locks,
            };
            let mut out = Vec::new();
            encode(&c, &mut |b| out.extend_from_slice(b));
            assert_eq!(out.len(), size(&c));
            out
        }
    }

    fn sample(version: u32) -> Owned {
        let mut counts = [EventCounts::default(), EventCounts::default()];
        counts[1].produced[event::SWITCH as usize] = 2;
        counts[1].produced[event::SYSCALL_ENTER as usize] = 1;
        Owned {
            header: DumpHeader {
                magic: DUMP_MAGIC,
                version,
                cpus: 2,
                tsc_hz: 2_600_000_000,
                start_tsc: 5,
                stop_tsc: 6,
                procs: 1,
                containers: 1,
                ..DumpHeader::default()
            },
            cpus: vec![
                CpuSummary::default(),
                CpuSummary {
                    cpu: 1,
                    _pad: 0,
                    produced: 3,
                    kept: 1,
                    dropped: 2,
                },
            ],
            records: vec![vec![], vec![rec(1, 0x1122_3344_5566_7788, event::SWITCH)]],
            procs: vec![ProcName {
                pid: 7,
                container: 0,
                name: name("sh"),
            }],
            containers: vec![CtrName {
                id: 3,
                weight: 200,
                name: name("web"),
            }],
            counts: counts.to_vec(),
            usage: vec![CtrUsage {
                id: 3,
                cycles: 1000,
                switches: 4,
                ..CtrUsage::default()
            }],
            locks: vec![LockName {
                index: 0,
                _pad: 0,
                name: name("ptable"),
            }],
        }
    }

    #[test]
    fn version_2_layout_and_round_trip() {
        let o = sample(2);
        let b = o.bytes();
        assert_eq!(b.len(), 64 + 2 * 32 + 32 + 32 + 32 + 32 + 2 * 128 + 32 + 32);
        assert_eq!(&b[..8], b"BERTHTRC");
        assert_eq!(u32::from_le_bytes(b[12..16].try_into().unwrap()), 2);
        // CPU 1's summary, then its one record.
        assert_eq!(u64::from_le_bytes(b[104..112].try_into().unwrap()), 3);
        assert_eq!(
            u64::from_le_bytes(b[128..136].try_into().unwrap()),
            0x1122_3344_5566_7788
        );
        assert_eq!(&b[168..170], b"sh");
        // The tail after the container name: one usage, one lock.
        let tail = 64 + 64 + 32 + 32 + 32;
        assert_eq!(u32::from_le_bytes(b[tail..tail + 4].try_into().unwrap()), 1);
        assert_eq!(
            u32::from_le_bytes(b[tail + 4..tail + 8].try_into().unwrap()),
            1
        );
        let v = DumpView::parse(&b).unwrap();
        assert_eq!(v.len(), b.len());
        assert_eq!(v.header(), o.header);
        assert_eq!(v.cpus().collect::<Vec<_>>(), o.cpus);
        assert_eq!(v.records().collect::<Vec<_>>(), o.records.concat());
        assert_eq!(v.procs().collect::<Vec<_>>(), o.procs);
        assert_eq!(v.containers().collect::<Vec<_>>(), o.containers);
        assert_eq!(v.event_counts().collect::<Vec<_>>(), o.counts);
        assert_eq!(v.usage().collect::<Vec<_>>(), o.usage);
        assert_eq!(v.locks().collect::<Vec<_>>(), o.locks);
        assert_eq!(
            v.tail(),
            Some(DumpTail {
                usages: 1,
                locks: 1,
                _reserved: [0; 3]
            })
        );
    }

    #[test]
    fn version_1_has_no_tail() {
        let o = sample(1);
        let b = o.bytes();
        assert_eq!(b.len(), 64 + 2 * 32 + 32 + 32 + 32);
        let v = DumpView::parse(&b).unwrap();
        assert_eq!(v.tail(), None);
        assert_eq!(
            v.event_counts().len() + v.usage().len() + v.locks().len(),
            0
        );
        assert_eq!(v.records().count(), 1);
    }

    #[test]
    fn every_cut_and_every_inconsistency_is_refused() {
        let b = sample(2).bytes();
        for len in 0..b.len() {
            assert!(DumpView::parse(&b[..len]).is_err(), "cut at {len}");
        }
        let mut o = sample(2);
        o.counts[1].produced[0] += 1;
        assert_eq!(
            DumpView::parse(&o.bytes()).unwrap_err(),
            DumpError::BadEventCounts {
                cpu: 1,
                sum: 4,
                produced: 3
            }
        );
        let mut o = sample(2);
        o.records[1][0].cpu = 0;
        assert!(matches!(
            DumpView::parse(&o.bytes()).unwrap_err(),
            DumpError::WrongCpu { index: 0, .. }
        ));
        let mut o = sample(2);
        o.header.version = DUMP_VERSION + 1;
        assert_eq!(
            DumpView::parse(&o.bytes()).unwrap_err(),
            DumpError::TooNew {
                version: DUMP_VERSION + 1
            }
        );
    }

    #[test]
    fn noise_never_panics() {
        let good = sample(2).bytes();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut b = good.clone();
            let at = (x as usize) % b.len();
            b[at] = (x >> 32) as u8;
            let cut = (x >> 40) as usize % (b.len() + 1);
            if let Ok(v) = DumpView::parse(&b[..cut]) {
                let n = v.records().count() + v.procs().count() + v.containers().count();
                let m = v.event_counts().count() + v.usage().count() + v.locks().count();
                assert!(n + m <= b.len());
            }
        }
    }
}

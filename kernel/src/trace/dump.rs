//! Writing a dump: the byte layout of `berth_abi::trace` (version 1),
//! field by field, little-endian. Plain code over plain data, so the host
//! tests check it against the layout the host tool reads.

use alloc::vec::Vec;

use berth_abi::trace::{CpuSummary, CtrName, DumpHeader, ProcName, Record};

/// What a dump holds; `records[i]` are CPU `cpus[i].cpu`'s, oldest first.
pub struct Contents<'a> {
    pub header: DumpHeader,
    pub cpus: &'a [CpuSummary],
    pub records: &'a [Vec<Record>],
    pub procs: &'a [ProcName],
    pub containers: &'a [CtrName],
}

/// Bytes the dump of `c` takes.
pub fn size(c: &Contents) -> usize {
    64 + 32 * (c.cpus.len() + c.records.iter().map(Vec::len).sum::<usize>())
        + 32 * (c.procs.len() + c.containers.len())
}

/// The dump of `c`, its header's counts filled in from `c`.
pub fn encode(c: &Contents) -> Vec<u8> {
    let mut out = Vec::with_capacity(size(c));
    let h = &c.header;
    out.extend_from_slice(&h.magic);
    put32(&mut out, h.version);
    put32(&mut out, c.cpus.len() as u32);
    put64(&mut out, h.tsc_hz);
    put32(&mut out, h.tsc_source);
    put32(&mut out, h.clock_read_cycles);
    put64(&mut out, h.start_tsc);
    put64(&mut out, h.stop_tsc);
    put32(&mut out, c.procs.len() as u32);
    put32(&mut out, c.containers.len() as u32);
    put64(&mut out, h.event_mask);
    for s in c.cpus {
        put32(&mut out, s.cpu);
        put32(&mut out, 0);
        put64(&mut out, s.produced);
        put64(&mut out, s.kept);
        put64(&mut out, s.dropped);
    }
    for r in c.records.iter().flatten() {
        put64(&mut out, r.tsc);
        put32(&mut out, r.pid as u32);
        put32(&mut out, r.container as u32);
        out.extend_from_slice(&r.event.to_le_bytes());
        out.extend_from_slice(&r.cpu.to_le_bytes());
        put32(&mut out, r.a);
        put64(&mut out, r.b);
    }
    for p in c.procs {
        put32(&mut out, p.pid as u32);
        put32(&mut out, p.container as u32);
        out.extend_from_slice(&p.name);
    }
    for k in c.containers {
        put32(&mut out, k.id as u32);
        put32(&mut out, k.weight);
        out.extend_from_slice(&k.name);
    }
    out
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use berth_abi::trace::{event, DUMP_MAGIC, DUMP_VERSION, NAME_LEN};

    #[test]
    fn layout_matches_the_abi() {
        let rec = Record {
            tsc: 0x1122_3344_5566_7788,
            pid: -1,
            container: 2,
            event: event::SWITCH,
            cpu: 1,
            a: 9,
            b: 0xffff_ffff,
        };
        let mut name = [0u8; NAME_LEN];
        name[..2].copy_from_slice(b"sh");
        let c = Contents {
            header: DumpHeader {
                magic: DUMP_MAGIC,
                version: DUMP_VERSION,
                tsc_hz: 2_600_000_000,
                start_tsc: 5,
                stop_tsc: 6,
                ..DumpHeader::default()
            },
            cpus: &[
                CpuSummary::default(),
                CpuSummary {
                    cpu: 1,
                    _pad: 0,
                    produced: 3,
                    kept: 1,
                    dropped: 2,
                },
            ],
            records: &[vec![], vec![rec]],
            procs: &[ProcName {
                pid: 7,
                container: 0,
                name,
            }],
            containers: &[],
        };
        let b = encode(&c);
        assert_eq!(b.len(), size(&c));
        assert_eq!(b.len(), 64 + 2 * 32 + 32 + 32);
        assert_eq!(&b[..8], b"BERTHTRC");
        assert_eq!(u32::from_le_bytes(b[12..16].try_into().unwrap()), 2, "cpus");
        assert_eq!(
            u32::from_le_bytes(b[48..52].try_into().unwrap()),
            1,
            "procs"
        );
        // CPU 1's summary, then its one record.
        assert_eq!(
            u64::from_le_bytes(b[104..112].try_into().unwrap()),
            3,
            "produced"
        );
        assert_eq!(
            u64::from_le_bytes(b[112..120].try_into().unwrap()),
            1,
            "kept"
        );
        assert_eq!(u64::from_le_bytes(b[128..136].try_into().unwrap()), rec.tsc);
        assert_eq!(i32::from_le_bytes(b[136..140].try_into().unwrap()), -1);
        assert_eq!(
            u16::from_le_bytes(b[144..146].try_into().unwrap()),
            event::SWITCH
        );
        assert_eq!(&b[168..170], b"sh");
    }
}

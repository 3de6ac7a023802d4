//! The dump parser: round trips, every error, and no panic on any input.

mod common;

use berth_abi::trace::{DUMP_MAGIC, DUMP_VERSION};
use berth_trace::dump::{encode, parse, Dump, DumpError, COUNTS_LEN, HEADER_LEN, TAIL_LEN};
use berth_trace::{chrome, model, perfetto, report, svg, synth};

#[test]
fn round_trip() {
    for d in [common::hand_dump(), synth::dump()] {
        let bytes = encode(&d);
        assert_eq!(
            bytes.len(),
            64 + 32 * (d.cpus.len() + d.records.len() + d.procs.len() + d.containers.len())
                + TAIL_LEN
                + COUNTS_LEN * d.cpus.len()
                + 32 * (d.usage.len() + d.locks.len())
        );
        assert_eq!(parse(&bytes).unwrap(), d);
        // A version 1 dump: the same without the tail.
        let mut v1 = d.clone();
        v1.header.version = 1;
        v1.counts.clear();
        v1.usage.clear();
        v1.locks.clear();
        let bytes = encode(&v1);
        assert_eq!(
            bytes.len(),
            64 + 32 * (d.cpus.len() + d.records.len() + d.procs.len() + d.containers.len())
        );
        assert_eq!(parse(&bytes).unwrap(), v1);
    }
}

#[test]
fn layout_is_little_endian_in_order() {
    let d = common::hand_dump();
    let b = encode(&d);
    assert_eq!(&b[0..8], b"BERTHTRC");
    assert_eq!(
        u32::from_le_bytes(b[8..12].try_into().unwrap()),
        DUMP_VERSION
    );
    assert_eq!(u32::from_le_bytes(b[12..16].try_into().unwrap()), 2);
    assert_eq!(
        u64::from_le_bytes(b[16..24].try_into().unwrap()),
        1_000_000_000
    );
    // The first record starts after the header and two CPU summaries.
    let r0 = HEADER_LEN + 2 * 32;
    assert_eq!(
        u64::from_le_bytes(b[r0..r0 + 8].try_into().unwrap()),
        d.records[0].tsc
    );
    // CPU 1's summary: dropped at offset 24 of it.
    let c1 = HEADER_LEN + 32;
    assert_eq!(
        u64::from_le_bytes(b[c1 + 24..c1 + 32].try_into().unwrap()),
        5
    );
}

#[test]
fn empty_dump_parses() {
    let mut d = Dump::default();
    d.header.magic = DUMP_MAGIC;
    d.header.version = DUMP_VERSION;
    let got = parse(&encode(&d)).unwrap();
    assert_eq!(got, d);
    // Nothing to show, nothing to crash on.
    let r = report::compute(&got);
    assert_eq!(r.cpus, 0);
    assert!(!report::render(&r).is_empty());
}

#[test]
fn too_short() {
    let e = parse(&DUMP_MAGIC[..]).unwrap_err();
    assert_eq!(e, DumpError::TooShort { len: 8 });
    assert!(e.to_string().contains("shorter than a 64-byte header"));
    assert_eq!(parse(&[]).unwrap_err(), DumpError::TooShort { len: 0 });
}

#[test]
fn wrong_magic() {
    let mut b = encode(&common::hand_dump());
    b[0] = b'X';
    let e = parse(&b).unwrap_err();
    assert_eq!(e, DumpError::BadMagic);
    assert_eq!(e.to_string(), "not a berth trace");
    // A short foreign file is foreign, not short.
    assert_eq!(parse(b"[package]\n").unwrap_err(), DumpError::BadMagic);
}

#[test]
fn newer_version() {
    let mut d = common::hand_dump();
    d.header.version = DUMP_VERSION + 1;
    let e = parse(&encode(&d)).unwrap_err();
    assert_eq!(e, DumpError::TooNew { version: 3 });
    assert_eq!(
        e.to_string(),
        "made by a newer berth: version 3, this tool reads up to 2"
    );
}

#[test]
fn truncated_sections() {
    let d = common::hand_dump();
    let b = encode(&d);
    let records = d.records.len();
    // The tail: its 32 bytes, two CPUs' counts, no usage, no locks.
    let tail = TAIL_LEN + 2 * COUNTS_LEN;
    let names_end = b.len() - tail;
    let cases = [
        (HEADER_LEN + 10, "CPU summary", 64, 10),
        (HEADER_LEN + 64 + 31, "record", 32 * records as u128, 31),
        (names_end - 32 * 3 - 1, "process name", 96, 95),
        (names_end - 1, "container name", 96, 95),
        (names_end + 31, "tail", 32, 31),
        (b.len() - 1, "event count", 256, 255),
    ];
    for (len, section, expected, present) in cases {
        let e = parse(&b[..len]).unwrap_err();
        assert_eq!(
            e,
            DumpError::Truncated {
                section,
                expected,
                present
            },
            "cut at {len}"
        );
        assert!(e.to_string().contains(section));
        assert!(e
            .to_string()
            .contains(&format!("needs {expected} bytes, {present} present")));
    }
    // Every cut short of the end is refused.
    for len in 0..b.len() {
        assert!(parse(&b[..len]).is_err(), "cut at {len}");
    }
}

#[test]
fn counts_must_add_up() {
    let mut d = common::hand_dump();
    d.cpus[1].produced += 1;
    let e = parse(&encode(&d)).unwrap_err();
    assert!(matches!(e, DumpError::BadCounts { cpu: 1, .. }), "{e:?}");
    assert!(e.to_string().contains("kept 10 + dropped 5 != produced 16"));
}

#[test]
fn record_in_the_wrong_section() {
    let mut d = common::hand_dump();
    d.records[3].cpu = 1; // still in CPU 0's section
    let e = parse(&encode(&d)).unwrap_err();
    assert_eq!(
        e,
        DumpError::WrongCpu {
            index: 3,
            section_cpu: 0,
            record_cpu: 1
        }
    );
}

/// xorshift64*: deterministic noise.
struct Noise(u64);
impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Runs every consumer on a parsed dump: none may panic either.
fn consume(d: &Dump) {
    let m = model::build(d);
    let r = report::compute_with(d, &m);
    let _ = report::render(&r);
    let _ = perfetto::encode(d);
    let _ = chrome::encode(d, &m);
    let _ = svg::render(d, &m, &r);
}

#[test]
fn random_bytes_never_panic() {
    let mut n = Noise(0x1234_5678_9abc_def1);
    for i in 0..3000u32 {
        let len = (n.next() % 700) as usize;
        let mut b: Vec<u8> = (0..len).map(|_| n.next() as u8).collect();
        // Half of them get past the magic and version check, with small
        // counts, to reach the later checks.
        if i.is_multiple_of(2) && b.len() >= HEADER_LEN {
            b[..8].copy_from_slice(&DUMP_MAGIC);
            b[8..12].copy_from_slice(&(1 + (i / 2) % 2).to_le_bytes());
            b[12..16].copy_from_slice(&((n.next() % 4) as u32).to_le_bytes());
            b[48..52].copy_from_slice(&((n.next() % 4) as u32).to_le_bytes());
            b[52..56].copy_from_slice(&((n.next() % 4) as u32).to_le_bytes());
        }
        if let Ok(d) = parse(&b) {
            consume(&d);
        }
    }
}

#[test]
fn damaged_dumps_never_panic() {
    let good = encode(&synth::dump());
    let mut n = Noise(42);
    for _ in 0..1500 {
        let mut b = good.clone();
        for _ in 0..1 + n.next() % 8 {
            let at = (n.next() as usize) % b.len();
            b[at] = n.next() as u8;
        }
        let cut = if n.next().is_multiple_of(4) {
            (n.next() as usize) % b.len()
        } else {
            b.len()
        };
        if let Ok(d) = parse(&b[..cut]) {
            consume(&d);
        }
    }
}

#[test]
fn synth_is_deterministic_and_consistent() {
    let (a, b) = (synth::dump(), synth::dump());
    assert_eq!(a, b);
    assert_eq!(a.cpus.len(), 2);
    assert_eq!(a.cpus[1].dropped, 3);
    assert_eq!(parse(&encode(&a)).unwrap(), a);
    let r = report::compute(&a);
    assert!(r.switches > 10);
    assert!(r.wakeup.count > 3);
    assert!(!r.syscalls.is_empty());
    let weights: Vec<_> = r.containers.iter().map(|c| c.weight).collect();
    assert_eq!(weights, [Some(100), Some(100), Some(200)]);
}

//! One CPU's trace ring: fixed-size records in a fixed array, written by
//! that CPU alone and read only while tracing is stopped.
//!
//! The write side takes no lock and does no atomic read-modify-write: a
//! record's four words are plain (relaxed) stores into the slot at
//! `produced % capacity`, then `produced` is stored (Release) one higher.
//! The kernel writes with interrupts off on its own CPU (see `mod.rs`), so
//! an interrupt cannot nest inside a write and tear a record. A full ring
//! overwrites its oldest record: `kept = min(produced, capacity)` and
//! `dropped = produced - kept`, so `produced = kept + dropped` exactly.
//!
//! The reader (the dump) runs only after tracing was switched off and each
//! CPU's in-flight probe finished: a writer marks the ring busy, then
//! checks the switch again (`push_if`); the stopper switches off, then
//! waits for `busy` to clear (all four SeqCst), so either the writer sees
//! the switch off or the stopper sees it busy. It never races a writer: the Acquire load of
//! `produced` makes every record before it visible. Words are atomics so
//! that none of this needs `unsafe`.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use spin::Once;

use berth_abi::trace::{ProcName, Record, NAME_LEN};

/// Words of one entry: a [`Record`] or a [`ProcName`] (32 bytes each).
const WORDS: usize = 4;

pub struct Ring {
    /// Allocated once ([`Ring::allocate`]), so a ring can sit in a static.
    slots: Once<Box<[[AtomicU64; WORDS]]>>,
    produced: AtomicU64,
    /// A probe is writing (set and cleared by the owner CPU only).
    busy: AtomicBool,
}

#[inline(always)]
fn pack(r: &Record) -> [u64; WORDS] {
    [
        r.tsc,
        u64::from(r.pid as u32) | u64::from(r.container as u32) << 32,
        u64::from(r.event) | u64::from(r.cpu) << 16 | u64::from(r.a) << 32,
        r.b,
    ]
}

fn pack_name(n: &ProcName) -> [u64; WORDS] {
    let mut w = [
        u64::from(n.pid as u32) | u64::from(n.container as u32) << 32,
        0,
        0,
        0,
    ];
    for (i, chunk) in n.name.chunks(8).enumerate() {
        let mut b = [0u8; 8];
        b[..chunk.len()].copy_from_slice(chunk);
        w[1 + i] = u64::from_le_bytes(b);
    }
    w
}

fn unpack_name(w: [u64; WORDS]) -> ProcName {
    let mut name = [0u8; NAME_LEN];
    for (i, chunk) in name.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&w[1 + i].to_le_bytes()[..chunk.len()]);
    }
    ProcName {
        pid: w[0] as u32 as i32,
        container: (w[0] >> 32) as u32 as i32,
        name,
    }
}

fn unpack(w: [u64; WORDS]) -> Record {
    Record {
        tsc: w[0],
        pid: w[1] as u32 as i32,
        container: (w[1] >> 32) as u32 as i32,
        event: w[2] as u16,
        cpu: (w[2] >> 16) as u16,
        a: (w[2] >> 32) as u32,
        b: w[3],
    }
}

impl Ring {
    /// A ring with no slots yet: pushes are dropped uncounted until
    /// [`Ring::allocate`].
    pub const fn unallocated() -> Ring {
        Ring {
            slots: Once::new(),
            produced: AtomicU64::new(0),
            busy: AtomicBool::new(false),
        }
    }

    /// Gives the ring `capacity` slots, rounded up to a power of two (so a
    /// slot index is a mask, not a division); once (later calls keep the
    /// first allocation). False when the heap cannot spare them.
    pub fn allocate(&self, capacity: usize) -> bool {
        if self.slots.get().is_some() {
            return true;
        }
        let n = capacity.max(1).next_power_of_two();
        let mut v: Vec<[AtomicU64; WORDS]> = Vec::new();
        if v.try_reserve_exact(n).is_err() {
            return false;
        }
        v.extend((0..n).map(|_| core::array::from_fn(|_| AtomicU64::new(0))));
        // A racing caller's allocation wins; ours is dropped.
        self.slots.call_once(|| v.into_boxed_slice());
        true
    }

    /// An allocated ring of `capacity` records (see [`Ring::allocate`]).
    pub fn new(capacity: usize) -> Ring {
        let r = Ring::unallocated();
        r.allocate(capacity);
        r
    }

    pub fn capacity(&self) -> usize {
        self.slots.get().map_or(0, |s| s.len())
    }

    /// Appends record `r` (the owner CPU only, interrupts off).
    pub fn push(&self, r: &Record) {
        self.push_words(pack(r), || true);
    }

    /// [`Ring::push`] if `still_on()`, asked once the ring is marked busy:
    /// a stopper that switches recording off and then sees the ring idle
    /// (both SeqCst) knows no push is left to land (Dekker's pattern on
    /// the switch and `busy`).
    #[inline(always)]
    pub fn push_if(&self, r: &Record, still_on: impl FnOnce() -> bool) -> bool {
        self.push_words(pack(r), still_on)
    }

    /// Appends name `n` (a name ring), as [`Ring::push_if`].
    pub fn push_name_if(&self, n: &ProcName, still_on: impl FnOnce() -> bool) {
        self.push_words(pack_name(n), still_on);
    }

    #[cfg(test)]
    fn push_name(&self, n: &ProcName) {
        self.push_words(pack_name(n), || true);
    }

    #[inline(always)]
    /// Whether the entry landed.
    fn push_words(&self, words: [u64; WORDS], still_on: impl FnOnce() -> bool) -> bool {
        let Some(slots) = self.slots.get() else {
            return false;
        };
        self.busy.store(true, Ordering::SeqCst);
        if !still_on() {
            self.busy.store(false, Ordering::Release);
            return false;
        }
        let n = self.produced.load(Ordering::Relaxed);
        let slot = &slots[n as usize & (slots.len() - 1)];
        for (w, v) in slot.iter().zip(words) {
            w.store(v, Ordering::Relaxed);
        }
        self.produced.store(n + 1, Ordering::Release);
        self.busy.store(false, Ordering::Release);
        true
    }

    /// Whether a push is in progress (checked by the stopper).
    pub fn busy(&self) -> bool {
        self.busy.load(Ordering::SeqCst)
    }

    /// Empties the ring (tracing is off).
    pub fn clear(&self) {
        self.produced.store(0, Ordering::Release);
    }

    /// `(produced, kept, dropped)`.
    pub fn counts(&self) -> (u64, u64, u64) {
        let produced = self.produced.load(Ordering::Acquire);
        let kept = produced.min(self.capacity() as u64);
        (produced, kept, produced - kept)
    }

    /// The kept records, oldest first (tracing is off).
    pub fn records(&self) -> impl Iterator<Item = Record> + '_ {
        self.entries().map(unpack)
    }

    /// The kept names, oldest first (a name ring; tracing is off).
    pub fn names(&self) -> impl Iterator<Item = ProcName> + '_ {
        self.entries().map(unpack_name)
    }

    fn entries(&self) -> impl Iterator<Item = [u64; WORDS]> + '_ {
        let (produced, kept, _) = self.counts();
        let slots: &[[AtomicU64; WORDS]] = self.slots.get().map_or(&[], |s| s);
        let cap = slots.len().max(1) as u64;
        (produced - kept..produced).map(move |i| {
            let slot = &slots[(i % cap) as usize];
            core::array::from_fn(|k| slot[k].load(Ordering::Relaxed))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn rec(i: u64) -> Record {
        Record {
            tsc: 1000 + i,
            pid: i as i32 - 3,
            container: -1,
            event: (i % 12) as u16 + 1,
            cpu: 7,
            a: u32::MAX - i as u32,
            b: i.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        }
    }

    #[test]
    fn records_round_trip_exactly() {
        let r = Ring::new(8);
        for i in 0..5 {
            r.push(&rec(i));
        }
        let got: Vec<Record> = r.records().collect();
        assert_eq!(got, (0..5).map(rec).collect::<Vec<_>>());
        assert_eq!(r.counts(), (5, 5, 0));
    }

    #[test]
    fn an_unallocated_ring_drops_pushes_uncounted() {
        let r = Ring::unallocated();
        r.push(&rec(0));
        assert_eq!((r.capacity(), r.counts()), (0, (0, 0, 0)));
        assert_eq!(r.records().count(), 0);
        r.allocate(3);
        r.allocate(100);
        assert_eq!(r.capacity(), 4);
        r.push(&rec(1));
        assert_eq!(r.counts(), (1, 1, 0));
    }

    #[test]
    fn names_round_trip() {
        let r = Ring::new(2);
        let mut name = [0u8; NAME_LEN];
        name[..12].copy_from_slice(b"stress-sched");
        let n = ProcName {
            pid: 42,
            container: 3,
            name,
        };
        r.push_name(&n);
        assert_eq!(r.names().collect::<Vec<_>>(), [n]);
    }

    #[test]
    fn a_full_ring_keeps_the_newest_and_counts_the_rest() {
        let r = Ring::new(4);
        for i in 0..11 {
            r.push(&rec(i));
        }
        let (produced, kept, dropped) = r.counts();
        assert_eq!((produced, kept, dropped), (11, 4, 7));
        assert_eq!(produced, kept + dropped);
        let got: Vec<u64> = r.records().map(|x| x.tsc).collect();
        assert_eq!(got, [1007, 1008, 1009, 1010]);
        r.clear();
        assert_eq!(r.counts(), (0, 0, 0));
        assert_eq!(r.records().count(), 0);
    }
}

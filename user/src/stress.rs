//! `stress-sched`'s report records and the ledger that judges a run (pure,
//! host-tested).
//!
//! Every process of a run (the pairs, the controller) reports to the
//! checker through one shared pipe in fixed-size [`Record`]s, each written
//! with one `write`: a pipe write copies everything at once unless the pipe
//! is full, so records stay whole as long as the reader keeps up (the
//! writers report about once a second each). A record carries a magic byte
//! and a checksum, so one that was torn anyway is reported, not misread.
//!
//! Time is cut into intervals of fixed length from a start tick all
//! processes know; a pair's pinger reports [`Kind::Progress`] for the first
//! ping answered in each interval. Pairs belong to container slot
//! `pair % slots`; a slot's container is destroyed and made again now and
//! then, each time with a new generation of its pairs. The controller
//! reports when a generation's pairs are all running ([`Kind::Born`]: the
//! first interval that must show progress) and when it was destroyed
//! ([`Kind::Killed`]: that interval and later are not checked). The
//! [`Ledger`] collects the records and, at the end, checks that every pair
//! of every generation made progress in every interval of its life in
//! which the machine ran, that every surviving pair stopped with every
//! ping answered (the pinger's and the ponger's counts agree), and that
//! nothing reported an error or hung.
//!
//! Intervals are real time (`uptime` counts 10 ms of the TSC), and a host
//! that deschedules the guest's vCPUs can leave it nearly no CPU for a
//! whole interval: then a pair without a ping there is the host's doing,
//! not the scheduler's. So an interval is judged only when the median of
//! the round trips its pairs made in it (each pair's count from its
//! progress records; none for a pair without one) is at least
//! [`LIVE_ROUND_TRIPS`]: a pair stalled while most of its peers ran that
//! much is starved. The intervals left unjudged are counted in the summary.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Round trips the median pair must have made in an interval for the
/// interval to be judged (the pinger naps a tick every 16; a pair on an
/// idle host makes over a hundred a second).
pub const LIVE_ROUND_TRIPS: u32 = 16;

/// Bytes of one record on the pipe.
pub const RECORD_BYTES: usize = 16;
/// First byte of every record.
const MAGIC: u8 = 0xb7;

/// What a record says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Pair `pair` answered a ping in interval `a`; `b` pings answered so far.
    Progress = 1,
    /// The pinger stopped at the deadline: `a` pings sent, `b` answered.
    PingDone = 2,
    /// The ponger saw its input end: `a` pings received, `b` answered.
    PongDone = 3,
    /// A pair found something wrong: `a` is a [`Fault`] code, `b` a detail.
    PairError = 4,
    /// Generation `gen` of slot `slot` has all its pairs running; interval
    /// `a` is the first that must show their progress.
    Born = 5,
    /// Generation `gen` of slot `slot` was destroyed in interval `a`.
    Killed = 6,
    /// A controller call failed: `a` is an [`Op`] code, `b` the errno.
    CtrlError = 7,
    /// `a` pair processes had not exited by the end of the grace period.
    Hang = 8,
    /// The controller is done: `a` intervals ran.
    End = 9,
}

impl Kind {
    fn from_u8(b: u8) -> Option<Kind> {
        Some(match b {
            1 => Kind::Progress,
            2 => Kind::PingDone,
            3 => Kind::PongDone,
            4 => Kind::PairError,
            5 => Kind::Born,
            6 => Kind::Killed,
            7 => Kind::CtrlError,
            8 => Kind::Hang,
            9 => Kind::End,
            _ => return None,
        })
    }
}

/// What went wrong in a pair ([`Kind::PairError`]'s `a`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The pong did not echo the ping's sequence number (`b`: the ping).
    WrongReply = 1,
    /// The ponger received a ping out of sequence (`b`: what it expected).
    OutOfSequence = 2,
    /// Writing a ping or pong failed (`b`: the errno).
    Write = 3,
    /// Reading the pong failed or hit the end (`b`: the errno, 0 at end).
    Read = 4,
    /// A pair process exited with status `b` (not 0).
    Exit = 5,
}

impl Fault {
    /// A description of code `a` with detail `b`.
    pub fn describe(a: u32, b: u32) -> String {
        match a {
            1 => format!("a pong did not echo ping {b}"),
            2 => format!("the ponger got a ping out of sequence (expected {b})"),
            3 => format!("a write failed (errno {b})"),
            4 if b == 0 => String::from("the pong pipe ended early"),
            4 => format!("a read failed (errno {b})"),
            5 => format!("a pair process exited with status {}", b as i32),
            _ => format!("fault {a} ({b})"),
        }
    }
}

/// A controller operation ([`Kind::CtrlError`]'s `a`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Create = 1,
    Destroy = 2,
    Pause = 3,
    Resume = 4,
    Update = 5,
    Fork = 6,
    Pipe = 7,
    Join = 8,
    /// The pairs of a generation did not all join in time (`b`: how many did).
    Start = 9,
}

impl Op {
    /// The name of operation code `a`.
    pub fn name(a: u32) -> &'static str {
        match a {
            1 => "create_container",
            2 => "destroy_container",
            3 => "pause_container",
            4 => "resume_container",
            5 => "update_container",
            6 => "fork",
            7 => "pipe",
            8 => "join_container",
            9 => "starting the pairs",
            _ => "?",
        }
    }
}

/// One report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub kind: Kind,
    pub slot: u8,
    pub pair: u16,
    pub gen: u16,
    pub a: u32,
    pub b: u32,
}

impl Record {
    /// A record with the fields `kind` does not use left 0.
    pub fn new(kind: Kind) -> Record {
        Record {
            kind,
            slot: 0,
            pair: 0,
            gen: 0,
            a: 0,
            b: 0,
        }
    }

    /// Sets the pair (and its generation).
    pub fn pair(mut self, pair: u16, gen: u16) -> Record {
        self.pair = pair;
        self.gen = gen;
        self
    }

    /// Sets the slot (and the generation).
    pub fn slot(mut self, slot: u8, gen: u16) -> Record {
        self.slot = slot;
        self.gen = gen;
        self
    }

    /// Sets the two values.
    pub fn values(mut self, a: u32, b: u32) -> Record {
        self.a = a;
        self.b = b;
        self
    }

    /// The bytes written to the pipe.
    pub fn encode(&self) -> [u8; RECORD_BYTES] {
        let mut out = [0u8; RECORD_BYTES];
        out[0] = MAGIC;
        out[1] = self.kind as u8;
        out[2] = self.slot;
        out[4..6].copy_from_slice(&self.pair.to_le_bytes());
        out[6..8].copy_from_slice(&self.gen.to_le_bytes());
        out[8..12].copy_from_slice(&self.a.to_le_bytes());
        out[12..16].copy_from_slice(&self.b.to_le_bytes());
        out[3] = checksum(&out);
        out
    }

    /// The record in `bytes`, or why they are none.
    pub fn decode(bytes: &[u8; RECORD_BYTES]) -> Result<Record, String> {
        if bytes[0] != MAGIC || bytes[3] != checksum(bytes) {
            return Err(format!("a torn or foreign record {bytes:02x?}"));
        }
        let kind =
            Kind::from_u8(bytes[1]).ok_or_else(|| format!("a record of kind {}", bytes[1]))?;
        let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
        let u32_at =
            |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        Ok(Record {
            kind,
            slot: bytes[2],
            pair: u16_at(4),
            gen: u16_at(6),
            a: u32_at(8),
            b: u32_at(12),
        })
    }
}

/// A byte sum over everything but the checksum byte itself, rotated so a
/// swapped pair of bytes changes it too.
fn checksum(bytes: &[u8; RECORD_BYTES]) -> u8 {
    bytes
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != 3)
        .fold(0x5au8, |acc, (_, &b)| acc.rotate_left(1).wrapping_add(b))
}

/// Cuts a byte stream into records (a read may end mid-record).
#[derive(Default)]
pub struct Stream {
    partial: Vec<u8>,
}

impl Stream {
    /// Adds `bytes`; appends every record completed to `out`. A bad record
    /// is an error (the stream cannot be trusted after it).
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Record>) -> Result<(), String> {
        self.partial.extend_from_slice(bytes);
        let whole = self.partial.len() / RECORD_BYTES * RECORD_BYTES;
        let mut result = Ok(());
        for chunk in self.partial[..whole].chunks_exact(RECORD_BYTES) {
            let mut r = [0u8; RECORD_BYTES];
            r.copy_from_slice(chunk);
            match Record::decode(&r) {
                Ok(rec) => out.push(rec),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.partial.drain(..whole);
        result
    }

    /// Bytes of an unfinished record at the end.
    pub fn leftover(&self) -> usize {
        self.partial.len()
    }
}

/// The shape of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Ping-pong pairs (two processes each).
    pub pairs: usize,
    /// Container slots; pair `p` lives in slot `p % slots`.
    pub slots: usize,
    /// Intervals the run lasts.
    pub intervals: u32,
}

impl Plan {
    /// The slot of pair `pair`.
    pub fn slot_of(&self, pair: usize) -> usize {
        pair % self.slots.max(1)
    }

    /// The pairs of slot `slot`.
    pub fn pairs_of(&self, slot: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.pairs).filter(move |&p| self.slot_of(p) == slot)
    }
}

/// What a passing run did, for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Generations (containers made) per slot.
    pub generations: Vec<usize>,
    /// Pings answered, as the surviving pingers counted them at the end.
    pub answered: u64,
    /// Progress checks made: (pair, interval) cells that had to show
    /// progress, in intervals that were judged.
    pub checked: usize,
    /// Intervals not judged: the median pair made fewer than
    /// [`LIVE_ROUND_TRIPS`] round trips in them.
    pub unjudged: Vec<u32>,
}

/// Collects a run's records and judges them once the run has ended.
pub struct Ledger {
    plan: Plan,
    /// (pair, generation, interval) -> pings answered at the pair's first
    /// ping of that interval.
    progress: BTreeMap<(u16, u16, u32), u32>,
    born: BTreeMap<(u8, u16), u32>,
    killed: BTreeMap<(u8, u16), u32>,
    ping_done: BTreeMap<(u16, u16), (u32, u32)>,
    pong_done: BTreeMap<(u16, u16), (u32, u32)>,
    errors: Vec<String>,
    /// A pair's write or read failures, judged at the end: a generation
    /// destroyed under its pair may see its partner die first (a broken
    /// pipe, an early end) before its own kill lands.
    pair_faults: Vec<(u16, u16, u32, u32)>,
    hung: u32,
    ended: bool,
}

/// Most problems of one kind a verdict lists.
const LIST: usize = 4;

impl Ledger {
    /// An empty ledger for `plan`.
    pub fn new(plan: Plan) -> Ledger {
        Ledger {
            plan,
            progress: BTreeMap::new(),
            born: BTreeMap::new(),
            killed: BTreeMap::new(),
            ping_done: BTreeMap::new(),
            pong_done: BTreeMap::new(),
            errors: Vec::new(),
            pair_faults: Vec::new(),
            hung: 0,
            ended: false,
        }
    }

    /// Whether the controller's [`Kind::End`] has come.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Notes one record.
    pub fn record(&mut self, r: &Record) {
        match r.kind {
            Kind::Progress => {
                self.progress.entry((r.pair, r.gen, r.a)).or_insert(r.b);
            }
            Kind::PingDone => {
                self.ping_done.insert((r.pair, r.gen), (r.a, r.b));
            }
            Kind::PongDone => {
                self.pong_done.insert((r.pair, r.gen), (r.a, r.b));
            }
            Kind::PairError if matches!(r.a, 3 | 4) => {
                self.pair_faults.push((r.pair, r.gen, r.a, r.b));
            }
            Kind::PairError => self.errors.push(format!(
                "pair {} (generation {}): {}",
                r.pair,
                r.gen,
                Fault::describe(r.a, r.b)
            )),
            Kind::Born => {
                self.born.insert((r.slot, r.gen), r.a);
            }
            Kind::Killed => {
                self.killed.insert((r.slot, r.gen), r.a);
            }
            Kind::CtrlError if r.a == Op::Start as u32 => self.errors.push(format!(
                "slot {} generation {}: only {} pair processes joined in time",
                r.slot, r.gen, r.b
            )),
            Kind::CtrlError => self.errors.push(format!(
                "{} (slot {}) failed with errno {}",
                Op::name(r.a),
                r.slot,
                r.b
            )),
            Kind::Hang => self.hung += r.a,
            Kind::End => self.ended = true,
        }
    }

    /// The (pair, generation) cells that must show progress in each
    /// interval: every pair of a generation, from its birth to its kill.
    fn required(&self) -> Vec<Vec<(u16, u16)>> {
        let mut cells = alloc::vec![Vec::new(); self.plan.intervals as usize];
        for (&(slot, gen), &first) in &self.born {
            for pair in self.plan.pairs_of(usize::from(slot)) {
                for k in self.life(slot, gen, first) {
                    cells[k as usize].push((pair as u16, gen));
                }
            }
        }
        cells
    }

    /// The intervals generation `gen` of `slot`, born to show progress
    /// from `first`, must show it in: up to its kill, or the run's end.
    fn life(&self, slot: u8, gen: u16, first: u32) -> core::ops::Range<u32> {
        let last = self.killed.get(&(slot, gen)).copied();
        first..last.unwrap_or(self.plan.intervals).min(self.plan.intervals)
    }

    /// Round trips pair `p` of generation `gen` made in interval `k`: from
    /// its count at its first ping there to its count at its next
    /// interval's first ping (or its final count); 1 when its progress
    /// there is known but not how much (it was destroyed); 0 without a
    /// record there.
    fn round_trips(&self, p: u16, gen: u16, k: u32) -> u32 {
        let Some(&at) = self.progress.get(&(p, gen, k)) else {
            return 0;
        };
        let next = self
            .progress
            .range((p, gen, k + 1)..=(p, gen, u32::MAX))
            .next()
            .map(|(_, &n)| n)
            .or_else(|| self.ping_done.get(&(p, gen)).map(|&(_, answered)| answered));
        match next {
            Some(n) if n > at => n - at,
            _ => 1,
        }
    }

    /// The intervals judged: those in which the median pair that had to
    /// show progress made at least [`LIVE_ROUND_TRIPS`] round trips.
    fn live_intervals(&self) -> Vec<u32> {
        self.required()
            .iter()
            .enumerate()
            .filter_map(|(k, cells)| {
                let k = k as u32;
                let mut counts: Vec<u32> = cells
                    .iter()
                    .map(|&(p, gen)| self.round_trips(p, gen, k))
                    .collect();
                if counts.is_empty() {
                    return Some(k);
                }
                counts.sort_unstable();
                (counts[counts.len() / 2] >= LIVE_ROUND_TRIPS).then_some(k)
            })
            .collect()
    }

    /// The verdict: what the run did, or everything that was wrong.
    pub fn verdict(&self) -> Result<Summary, String> {
        let mut why: Vec<String> = Vec::new();
        if !self.ended {
            why.push(String::from("the controller never reported its end"));
        }
        let mut errors = self.errors.clone();
        for &(pair, gen, a, b) in &self.pair_faults {
            let slot = self.plan.slot_of(usize::from(pair)) as u8;
            if !self.killed.contains_key(&(slot, gen)) {
                errors.push(format!(
                    "pair {pair} (generation {gen}): {}",
                    Fault::describe(a, b)
                ));
            }
        }
        let errors = &errors;
        why.extend(errors.iter().take(LIST).cloned());
        if errors.len() > LIST {
            why.push(format!("{} more errors", errors.len() - LIST));
        }
        if self.hung > 0 {
            why.push(format!(
                "{} pair processes had not exited after the deadline and its grace",
                self.hung
            ));
        }
        let mut summary = Summary {
            generations: alloc::vec![0; self.plan.slots],
            ..Summary::default()
        };
        let live = self.live_intervals();
        summary.unjudged = (0..self.plan.intervals)
            .filter(|k| !live.contains(k))
            .collect();
        let mut stalled: Vec<String> = Vec::new();
        let mut stalled_cells = 0usize;
        let mut unfinished: Vec<String> = Vec::new();
        for slot in 0..self.plan.slots {
            let slot8 = slot as u8;
            if !self.born.contains_key(&(slot8, 0)) {
                why.push(format!(
                    "slot {slot}'s first pairs were never reported running"
                ));
            }
            for (&(s, gen), &first) in self.born.range((slot8, 0)..=(slot8, u16::MAX)) {
                debug_assert_eq!(s, slot8);
                summary.generations[slot] += 1;
                let killed = self.killed.get(&(slot8, gen)).copied();
                for pair in self.plan.pairs_of(slot) {
                    let p = pair as u16;
                    let judged = self.life(slot8, gen, first).filter(|k| live.contains(k));
                    let missing: Vec<u32> = judged
                        .clone()
                        .filter(|&k| !self.progress.contains_key(&(p, gen, k)))
                        .collect();
                    summary.checked += judged.count();
                    if !missing.is_empty() {
                        stalled_cells += missing.len();
                        stalled.push(format!(
                            "pair {pair} (slot {slot}, generation {gen}) made no progress in interval{} {}",
                            if missing.len() == 1 { "" } else { "s" },
                            list_numbers(&missing)
                        ));
                    }
                    if killed.is_some() {
                        continue;
                    }
                    match (
                        self.ping_done.get(&(p, gen)),
                        self.pong_done.get(&(p, gen)),
                    ) {
                        (Some(&(sent, answered)), Some(&(received, echoed))) => {
                            if sent != answered || received != sent || echoed != received {
                                unfinished.push(format!(
                                    "pair {pair} (generation {gen}): {sent} pings sent, {answered} answered; \
                                     the ponger received {received}, answered {echoed}"
                                ));
                            }
                            summary.answered += u64::from(answered);
                        }
                        (ping, pong) => unfinished.push(format!(
                            "pair {pair} (slot {slot}, generation {gen}) never reported its end ({})",
                            match (ping, pong) {
                                (None, None) => "neither side",
                                (None, Some(_)) => "the pinger",
                                _ => "the ponger",
                            }
                        )),
                    }
                }
            }
        }
        if !stalled.is_empty() {
            let n = stalled.len();
            let mut s = format!(
                "{n} pair generations missed progress in {stalled_cells} of {} intervals checked: ",
                summary.checked
            );
            s += &stalled[..n.min(LIST)].join("; ");
            if n > LIST {
                s += &format!("; and {} more", n - LIST);
            }
            why.push(s);
        }
        if !unfinished.is_empty() {
            let n = unfinished.len();
            let mut s = unfinished[..n.min(LIST)].join("; ");
            if n > LIST {
                s += &format!("; and {} more pairs", n - LIST);
            }
            why.push(s);
        }
        if why.is_empty() {
            Ok(summary)
        } else {
            Err(why.join("; "))
        }
    }
}

/// `1, 2, 5` (at most eight, then `...`).
fn list_numbers(ks: &[u32]) -> String {
    let mut s: Vec<String> = ks.iter().take(8).map(|k| format!("{k}")).collect();
    if ks.len() > 8 {
        s.push(String::from("..."));
    }
    s.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_torn_ones_are_caught() {
        let r = Record::new(Kind::Progress).pair(513, 7).values(19, 123_456);
        let bytes = r.encode();
        assert_eq!(Record::decode(&bytes), Ok(r));
        let c = Record::new(Kind::CtrlError)
            .slot(5, 2)
            .values(Op::Pause as u32, 22);
        assert_eq!(Record::decode(&c.encode()), Ok(c));
        for i in 0..RECORD_BYTES {
            let mut bad = bytes;
            bad[i] ^= 0x10;
            assert!(Record::decode(&bad).is_err(), "flipped byte {i}");
        }
        // Half of one record followed by half of another.
        let other = Record::new(Kind::PongDone).pair(1, 0).values(5, 5).encode();
        let mut torn = [0u8; RECORD_BYTES];
        torn[..8].copy_from_slice(&bytes[..8]);
        torn[8..].copy_from_slice(&other[8..]);
        assert!(Record::decode(&torn).is_err());
    }

    #[test]
    fn the_stream_reassembles_records_across_reads() {
        let a = Record::new(Kind::Born).slot(1, 0).values(0, 0).encode();
        let b = Record::new(Kind::End).values(20, 0).encode();
        let all = [a, b].concat();
        let mut s = Stream::default();
        let mut out = Vec::new();
        s.feed(&all[..5], &mut out).unwrap();
        assert!(out.is_empty());
        assert_eq!(s.leftover(), 5);
        s.feed(&all[5..20], &mut out).unwrap();
        assert_eq!(out.len(), 1);
        s.feed(&all[20..], &mut out).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].kind, Kind::End);
        assert_eq!(s.leftover(), 0);
        let mut junk = a;
        junk[0] = 0;
        assert!(s.feed(&junk, &mut out).is_err());
    }

    /// A run of 4 pairs in 2 slots over 3 intervals where everything went
    /// right; slot 1 was destroyed in interval 1 and made again, its second
    /// generation running from interval 2.
    fn good_run() -> (Plan, Vec<Record>) {
        let plan = Plan {
            pairs: 4,
            slots: 2,
            intervals: 3,
        };
        let mut rs = vec![
            Record::new(Kind::Born).slot(0, 0).values(0, 0),
            Record::new(Kind::Born).slot(1, 0).values(0, 0),
        ];
        for k in 0..3 {
            for p in [0u16, 2] {
                rs.push(
                    Record::new(Kind::Progress)
                        .pair(p, 0)
                        .values(k, k * 100 + 1),
                );
            }
        }
        for p in [1u16, 3] {
            rs.push(Record::new(Kind::Progress).pair(p, 0).values(0, 4));
        }
        rs.push(Record::new(Kind::Killed).slot(1, 0).values(1, 0));
        rs.push(Record::new(Kind::Born).slot(1, 1).values(2, 0));
        for p in [1u16, 3] {
            rs.push(Record::new(Kind::Progress).pair(p, 1).values(2, 3));
        }
        for (p, gen) in [(0u16, 0u16), (2, 0), (1, 1), (3, 1)] {
            rs.push(Record::new(Kind::PingDone).pair(p, gen).values(300, 300));
            rs.push(Record::new(Kind::PongDone).pair(p, gen).values(300, 300));
        }
        rs.push(Record::new(Kind::End).values(3, 0));
        (plan, rs)
    }

    fn judge(plan: Plan, rs: &[Record]) -> Result<Summary, String> {
        let mut l = Ledger::new(plan);
        for r in rs {
            l.record(r);
        }
        l.verdict()
    }

    #[test]
    fn a_good_run_passes() {
        let (plan, rs) = good_run();
        let s = judge(plan, &rs).unwrap();
        assert_eq!(s.generations, [1, 2]);
        assert_eq!(s.answered, 1200);
        // Slot 0: 2 pairs x 3 intervals; slot 1: 2 x 1 (gen 0) + 2 x 1 (gen 1).
        assert_eq!(s.checked, 10);
        assert!(s.unjudged.is_empty());
    }

    #[test]
    fn a_stalled_pair_fails_naming_it_and_the_intervals() {
        let (plan, mut rs) = good_run();
        rs.retain(|r| !(r.kind == Kind::Progress && r.pair == 2 && r.a >= 1));
        let why = judge(plan, &rs).unwrap_err();
        assert!(
            why.contains("1 pair generations missed progress in 2 of 10 intervals checked")
                && why.contains("pair 2 (slot 0, generation 0) made no progress in intervals 1, 2"),
            "{why}"
        );
    }

    #[test]
    fn an_interval_the_guest_hardly_ran_in_is_not_judged() {
        // Interval 1: pair 2 made no ping, and pair 0 only 3 (the host
        // gave the guest next to no CPU): not a stall, but not judged.
        let (plan, mut rs) = good_run();
        rs.retain(|r| !(r.kind == Kind::Progress && r.pair == 2 && r.a == 1));
        for r in rs.iter_mut() {
            if r.kind == Kind::Progress && r.pair == 0 && r.a == 2 {
                r.b = 104; // 101 at interval 1's first ping: 3 round trips there
            }
        }
        let s = judge(plan, &rs).unwrap();
        assert_eq!(s.unjudged, [1]);
        assert_eq!(s.checked, 8);
        // The same stall while pair 0 ran a hundred round trips is one.
        let (plan, mut rs) = good_run();
        rs.retain(|r| !(r.kind == Kind::Progress && r.pair == 2 && r.a == 1));
        let why = judge(plan, &rs).unwrap_err();
        assert!(
            why.contains("pair 2 (slot 0, generation 0) made no progress in interval 1"),
            "{why}"
        );
    }

    #[test]
    fn unanswered_pings_missing_ends_errors_and_hangs_fail() {
        let (plan, rs) = good_run();
        let mut r1 = rs.clone();
        for r in r1.iter_mut() {
            if r.kind == Kind::PingDone && r.pair == 0 {
                r.b = 299;
            }
        }
        let why = judge(plan, &r1).unwrap_err();
        assert!(
            why.contains("pair 0 (generation 0): 300 pings sent, 299 answered"),
            "{why}"
        );

        let mut r2 = rs.clone();
        r2.retain(|r| !(r.kind == Kind::PongDone && r.pair == 3));
        let why = judge(plan, &r2).unwrap_err();
        assert!(
            why.contains("pair 3 (slot 1, generation 1) never reported its end (the ponger)"),
            "{why}"
        );

        let mut r3 = rs.clone();
        r3.push(
            Record::new(Kind::PairError)
                .pair(1, 1)
                .values(Fault::WrongReply as u32, 17),
        );
        r3.push(
            Record::new(Kind::CtrlError)
                .slot(1, 0)
                .values(Op::Destroy as u32, 16),
        );
        r3.push(Record::new(Kind::Hang).values(2, 0));
        let why = judge(plan, &r3).unwrap_err();
        assert!(
            why.contains("pair 1 (generation 1): a pong did not echo ping 17"),
            "{why}"
        );
        assert!(
            why.contains("destroy_container (slot 1) failed with errno 16"),
            "{why}"
        );
        assert!(why.contains("2 pair processes had not exited"), "{why}");

        let mut r4 = rs.clone();
        r4.retain(|r| r.kind != Kind::End);
        assert!(judge(plan, &r4)
            .unwrap_err()
            .contains("never reported its end"));

        let mut r5 = rs;
        r5.retain(|r| !(r.kind == Kind::Born && r.slot == 0));
        let why = judge(plan, &r5).unwrap_err();
        assert!(
            why.contains("slot 0's first pairs were never reported running"),
            "{why}"
        );
    }

    #[test]
    fn killed_generations_need_no_end_and_late_intervals_are_not_checked() {
        let (plan, rs) = good_run();
        // Generation 0 of slot 1 never reported an end, and no progress after
        // interval 0 (it was destroyed in interval 1): fine, as in good_run.
        assert!(!rs
            .iter()
            .any(|r| r.kind == Kind::PingDone && r.gen == 0 && r.pair % 2 == 1));
        // A generation born after the last interval has nothing to show but its end.
        let mut rs2 = rs.clone();
        rs2.push(Record::new(Kind::Killed).slot(1, 1).values(2, 0));
        rs2.push(Record::new(Kind::Born).slot(1, 2).values(3, 0));
        for p in [1u16, 3] {
            rs2.push(Record::new(Kind::PingDone).pair(p, 2).values(0, 0));
            rs2.push(Record::new(Kind::PongDone).pair(p, 2).values(0, 0));
        }
        let s = judge(plan, &rs2).unwrap();
        assert_eq!(s.generations, [1, 3]);
    }

    #[test]
    fn plan_assigns_pairs_round_robin() {
        let plan = Plan {
            pairs: 5,
            slots: 2,
            intervals: 1,
        };
        assert_eq!(plan.pairs_of(0).collect::<Vec<_>>(), [0, 2, 4]);
        assert_eq!(plan.pairs_of(1).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(plan.slot_of(7), 1);
    }
}

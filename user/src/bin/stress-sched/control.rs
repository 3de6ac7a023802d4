//! The controller: makes the containers, starts the pairs, then works the
//! containers over interval by interval, and at the end waits for the pairs
//! to finish and destroys everything. It is a host process of its own (the
//! checker only reads), reporting to the checker like the pairs do.
//!
//! In every interval `k`, from its start:
//! - tick 0: pause one container; tick 25: resume it;
//! - tick 40: give one container a new CPU weight (50, 100, 200 or 400);
//! - tick 60, every third interval: destroy one container (every sixth,
//!   pause it first, so a frozen container is destroyed), make it again
//!   under the same name and start a new generation of its pairs there.
//!
//! Which container is picked is a fixed pseudo-random sequence, so a run
//! can be repeated. Each interval's actions are printed on one line.

use ulib::container::{self, Cid, Spec};
use ulib::fd::Fd;
use ulib::prelude::*;
use ulib::process::{self, Pid};
use ulib::stress::{Fault, Kind, Op, Plan, Record};

use crate::clock::{sleep_until, Clock};
use crate::pairs::{errno_value, report, Pair};

/// The weights a re-weighted container gets, in turn.
const WEIGHTS: [u32; 4] = [50, 100, 200, 400];
/// Ticks into each interval of the actions.
const PAUSE_AT: u64 = 0;
const RESUME_AT: u64 = 25;
const REWEIGHT_AT: u64 = 40;
const DESTROY_AT: u64 = 60;
/// Ticks a new generation's processes have to join their container.
const JOIN_TICKS: u64 = 1000;
/// Ticks after the end the pairs have to finish before they count as hung.
const GRACE_TICKS: u64 = 1000;

/// One container slot.
struct Slot {
    name: String,
    id: Cid,
    gen: u16,
    /// Host pids of its current generation's processes.
    pids: Vec<Pid>,
}

struct Controller {
    plan: Plan,
    clock: Clock,
    report: Fd,
    slots: Vec<Slot>,
    rng: u64,
}

/// The controller's life; returns its exit status.
pub fn run(plan: Plan, clock: Clock, report: Fd) -> i32 {
    let mut c = Controller {
        plan,
        clock,
        report,
        slots: Vec::new(),
        rng: 0x2545_f491_4f6c_dd1d,
    };
    for s in 0..plan.slots {
        let name = format!("ss{s}");
        match c.create(&name, s) {
            Some(id) => c.slots.push(Slot {
                name,
                id,
                gen: 0,
                pids: Vec::new(),
            }),
            None => return c.finish(),
        }
    }
    for s in 0..plan.slots {
        c.start(s);
    }
    for k in 0..clock.intervals {
        c.interval(k);
    }
    c.finish()
}

impl Controller {
    fn error(&self, slot: usize, op: Op, e: Errno) {
        let gen = self.slots.get(slot).map_or(0, |s| s.gen);
        report(
            self.report,
            Record::new(Kind::CtrlError)
                .slot(slot as u8, gen)
                .values(op as u32, errno_value(e)),
        );
    }

    /// A pseudo-random number below `n`.
    fn pick(&mut self, n: usize) -> usize {
        self.rng = self
            .rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.rng >> 33) % n.max(1) as u64) as usize
    }

    /// Makes container `name` (weight 100) for slot `slot`.
    fn create(&self, name: &str, slot: usize) -> Option<Cid> {
        let spec = match Spec::new().name(name) {
            Ok(s) => s.cpu_weight(100).build(),
            Err(e) => {
                self.error(slot, Op::Create, e);
                return None;
            }
        };
        match container::create(&spec) {
            Ok(id) => Some(id),
            Err(e) => {
                self.error(slot, Op::Create, e);
                None
            }
        }
    }

    /// Starts slot `s`'s current generation of pairs and waits until all
    /// have joined (or the run is over); reports it born.
    fn start(&mut self, s: usize) {
        let (cid, gen) = (self.slots[s].id, self.slots[s].gen);
        let pairs: Vec<usize> = self.plan.pairs_of(s).collect();
        for p in pairs {
            let pair = Pair {
                index: p as u16,
                gen,
                slot: s as u8,
                cid,
                clock: self.clock,
                report: self.report,
            };
            match pair.spawn() {
                Ok(pids) => self.slots[s].pids.extend_from_slice(&pids),
                Err((op, e)) => {
                    self.error(s, op, e);
                    return;
                }
            }
        }
        let want = self.slots[s].pids.len() as u32;
        let deadline = process::uptime() + JOIN_TICKS;
        loop {
            let joined = match container::info(cid) {
                Ok(Some(info)) => info.procs,
                Ok(None) => 0,
                Err(e) => {
                    self.error(s, Op::Start, e);
                    return;
                }
            };
            // After the end a pair stops at once, so the count no longer
            // tells who joined: its final counts will.
            if joined >= want || process::uptime() >= self.clock.end() {
                break;
            }
            if process::uptime() > deadline {
                report(
                    self.report,
                    Record::new(Kind::CtrlError)
                        .slot(s as u8, gen)
                        .values(Op::Start as u32, joined),
                );
                return;
            }
            let _ = process::sleep(1);
        }
        report(
            self.report,
            Record::new(Kind::Born)
                .slot(s as u8, gen)
                .values(self.clock.first_full(), 0),
        );
    }

    fn at(&self, k: u32, offset: u64) {
        sleep_until(self.clock.start_of(k) + offset);
    }

    fn interval(&mut self, k: u32) {
        let n = self.slots.len();
        let mut said: Vec<String> = Vec::new();
        self.at(k, PAUSE_AT);
        let p = self.pick(n);
        let id = self.slots[p].id;
        if let Err(e) = container::pause(id) {
            self.error(p, Op::Pause, e);
        }
        self.at(k, RESUME_AT);
        if let Err(e) = container::resume(id) {
            self.error(p, Op::Resume, e);
        }
        said.push(format!(
            "paused {} for {} ticks",
            self.slots[p].name,
            RESUME_AT - PAUSE_AT
        ));
        self.at(k, REWEIGHT_AT);
        let q = self.pick(n);
        let w = WEIGHTS[self.pick(WEIGHTS.len())];
        let spec = Spec::new()
            .flags(ulib::abi::container::UPDATE_CPU_WEIGHT)
            .cpu_weight(w)
            .build();
        if let Err(e) = container::update(self.slots[q].id, &spec) {
            self.error(q, Op::Update, e);
        }
        said.push(format!("{} weight {w}", self.slots[q].name));
        if k % 3 == 2 {
            self.at(k, DESTROY_AT);
            let r = self.pick(n);
            let frozen = k % 6 == 5;
            said.push(self.renew(r, k, frozen));
        }
        println!("stress-sched: interval {k}: {}", said.join(", "));
    }

    /// Destroys slot `r`'s container (paused first if `frozen`), makes it
    /// again and starts the next generation of its pairs there.
    fn renew(&mut self, r: usize, k: u32, frozen: bool) -> String {
        let old = self.slots[r].id;
        if frozen {
            if let Err(e) = container::pause(old) {
                self.error(r, Op::Pause, e);
            }
        }
        if let Err(e) = container::destroy(old) {
            self.error(r, Op::Destroy, e);
            return format!("could not destroy {}", self.slots[r].name);
        }
        // destroy took the processes from their parent: none is ours to wait for.
        self.slots[r].pids.clear();
        report(
            self.report,
            Record::new(Kind::Killed)
                .slot(r as u8, self.slots[r].gen)
                .values(k, 0),
        );
        let name = self.slots[r].name.clone();
        let Some(id) = self.create(&name, r) else {
            return format!("destroyed {name}, could not make it again");
        };
        self.slots[r].id = id;
        self.slots[r].gen += 1;
        self.start(r);
        format!(
            "destroyed {name}{} and restarted its {} pairs (generation {})",
            if frozen { " (paused)" } else { "" },
            self.plan.pairs_of(r).count(),
            self.slots[r].gen
        )
    }

    /// After the last interval: waits (with a grace period) for every pair
    /// to finish, destroys the containers, reports the end; the exit status.
    fn finish(&mut self) -> i32 {
        let mut live: Vec<Pid> = self.slots.iter().flat_map(|s| s.pids.clone()).collect();
        let grace = self.clock.end() + GRACE_TICKS;
        // An alarm child: its exit ends the wait for the pairs.
        let alarm = process::spawn(move || {
            sleep_until(grace);
            0
        });
        if let Ok(alarm) = alarm {
            while !live.is_empty() {
                let Ok((pid, status)) = process::wait() else {
                    break;
                };
                if pid == alarm {
                    break;
                }
                if let Some(i) = live.iter().position(|&p| p == pid) {
                    live.swap_remove(i);
                    if status != 0 {
                        report(
                            self.report,
                            Record::new(Kind::PairError).values(Fault::Exit as u32, status as u32),
                        );
                    }
                }
            }
            let _ = process::kill(alarm);
        } else if let Err(e) = alarm {
            self.error(0, Op::Fork, e);
        }
        if !live.is_empty() {
            report(
                self.report,
                Record::new(Kind::Hang).values(live.len() as u32, 0),
            );
        }
        for s in 0..self.slots.len() {
            if let Err(e) = container::destroy(self.slots[s].id) {
                self.error(s, Op::Destroy, e);
            }
        }
        process::wait_all();
        report(
            self.report,
            Record::new(Kind::End).values(self.clock.intervals, 0),
        );
        0
    }
}

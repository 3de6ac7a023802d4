//! A ping-pong pair: the pinger writes a sequence number to the ponger's
//! pipe and blocks reading the pong pipe until the ponger echoes it back.
//! Both run in the pair's container; both report to the checker.
//!
//! The pinger reports [`Kind::Progress`] for the first ping answered in
//! each interval, stops sending at the end of the run and reports its
//! counts ([`Kind::PingDone`]); closing its end of the ping pipe ends the
//! ponger, which reports its own counts ([`Kind::PongDone`]). Anything
//! wrong (a pong that does not echo the ping, a ping out of sequence, a
//! failed read or write) is reported as [`Kind::PairError`] and ends the
//! process with status 1.

use ulib::container::{self, Cid};
use ulib::fd::{self, Fd};
use ulib::prelude::*;
use ulib::process::{self, Pid};
use ulib::stress::{Fault, Kind, Op, Record};

use crate::clock::Clock;

/// Pings between the pinger's one-tick sleeps.
const PINGS_PER_NAP: u32 = 16;

/// Sends one record to the checker (one write: a record is never torn
/// while the pipe has room, see `ulib::stress`).
pub fn report(to: Fd, r: Record) {
    let _ = fd::write_all(to, &r.encode());
}

/// A failed call's errno as a record value.
pub fn errno_value(e: Errno) -> u32 {
    (-e.as_return()) as u32
}

/// Who a pair is.
#[derive(Clone, Copy)]
pub struct Pair {
    pub index: u16,
    pub gen: u16,
    pub slot: u8,
    pub cid: Cid,
    pub clock: Clock,
    /// Write end of the report pipe.
    pub report: Fd,
}

impl Pair {
    fn record(&self, kind: Kind) -> Record {
        Record::new(kind).pair(self.index, self.gen)
    }

    fn fault(&self, f: Fault, detail: u32) -> i32 {
        report(
            self.report,
            self.record(Kind::PairError).values(f as u32, detail),
        );
        1
    }

    /// Forks the ponger and the pinger into the pair's container: their pids.
    pub fn spawn(self) -> Result<[Pid; 2], (Op, Errno)> {
        let (ping_r, ping_w) = fd::pipe().map_err(|e| (Op::Pipe, e))?;
        let (pong_r, pong_w) = match fd::pipe() {
            Ok(p) => p,
            Err(e) => {
                let _ = (fd::close(ping_r), fd::close(ping_w));
                return Err((Op::Pipe, e));
            }
        };
        let ponger = process::spawn(move || {
            let _ = (fd::close(ping_w), fd::close(pong_r));
            self.enter().unwrap_or_else(|| self.ponger(ping_r, pong_w))
        });
        let pinger = ponger.and_then(|_| {
            process::spawn(move || {
                let _ = (fd::close(ping_r), fd::close(pong_w));
                self.enter().unwrap_or_else(|| self.pinger(pong_r, ping_w))
            })
        });
        for f in [ping_r, ping_w, pong_r, pong_w] {
            let _ = fd::close(f);
        }
        // Without its pinger a ponger sees its input end at once and exits.
        match (ponger, pinger) {
            (Ok(a), Ok(b)) => Ok([a, b]),
            (_, Err(e)) | (Err(e), _) => Err((Op::Fork, e)),
        }
    }

    /// Joins the container; `Some(status)` if that failed.
    fn enter(&self) -> Option<i32> {
        match container::join(self.cid) {
            Ok(()) => None,
            Err(e) => {
                report(
                    self.report,
                    Record::new(Kind::CtrlError)
                        .slot(self.slot, self.gen)
                        .values(Op::Join as u32, errno_value(e)),
                );
                Some(1)
            }
        }
    }

    fn pinger(&self, pong: Fd, ping: Fd) -> i32 {
        let (mut seq, mut answered) = (0u32, 0u32);
        let mut reported: Option<u32> = None;
        while process::uptime() < self.clock.end() {
            seq += 1;
            if let Err(e) = fd::write_all(ping, &seq.to_le_bytes()) {
                return self.fault(Fault::Write, errno_value(e));
            }
            let mut b = [0u8; 4];
            match fd::read_exact(pong, &mut b) {
                Ok(()) => {}
                Err(Errno::EIO) => return self.fault(Fault::Read, 0),
                Err(e) => return self.fault(Fault::Read, errno_value(e)),
            }
            if u32::from_le_bytes(b) != seq {
                return self.fault(Fault::WrongReply, seq);
            }
            answered += 1;
            if let Some(k) = self.clock.now() {
                if reported != Some(k) && k < self.clock.intervals {
                    report(self.report, self.record(Kind::Progress).values(k, answered));
                    reported = Some(k);
                }
            }
            if seq % PINGS_PER_NAP == 0 {
                let _ = process::sleep(1);
            }
        }
        report(
            self.report,
            self.record(Kind::PingDone).values(seq, answered),
        );
        let _ = fd::close(ping);
        0
    }

    fn ponger(&self, ping: Fd, pong: Fd) -> i32 {
        let (mut received, mut answered) = (0u32, 0u32);
        loop {
            let mut b = [0u8; 4];
            match fd::read(ping, &mut b) {
                Ok(0) => break,
                Ok(4) => {}
                Ok(n) => {
                    if let Err(e) = fd::read_exact(ping, &mut b[n..]) {
                        return self.fault(Fault::Read, errno_value(e));
                    }
                }
                Err(e) => return self.fault(Fault::Read, errno_value(e)),
            }
            received += 1;
            if u32::from_le_bytes(b) != received {
                return self.fault(Fault::OutOfSequence, received);
            }
            if let Err(e) = fd::write_all(pong, &b) {
                return self.fault(Fault::Write, errno_value(e));
            }
            answered += 1;
        }
        report(
            self.report,
            self.record(Kind::PongDone).values(received, answered),
        );
        0
    }
}

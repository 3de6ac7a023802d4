//! The `pingpong` scenario: pairs under a controller that pauses,
//! re-weights, destroys and re-creates their containers (see `pairs.rs`
//! and `control.rs`); the checker is the calling process.

use ulib::fd;
use ulib::prelude::*;
use ulib::process;
use ulib::stress::{Ledger, Plan};

use crate::check::{self, Before};
use crate::clock::Clock;
use crate::control;
use crate::Options;

/// Ticks per interval.
const INTERVAL_TICKS: u64 = 100;
/// Ticks from now to interval 0: room to make the containers and fork the
/// first pairs (which play from the moment they are forked).
const LEAD_TICKS: u64 = 300;

pub fn run(opts: &Options) -> Result<String, String> {
    let plan = Plan {
        pairs: opts.procs / 2,
        slots: opts.containers,
        intervals: opts.secs,
    };
    println!(
        "stress-sched: pingpong: {} pairs ({} processes) in {} containers for {} intervals of {} s",
        plan.pairs,
        2 * plan.pairs,
        plan.slots,
        plan.intervals,
        INTERVAL_TICKS / 100
    );
    let before = Before::take()?;
    let clock = Clock {
        t0: process::uptime() + LEAD_TICKS,
        len: INTERVAL_TICKS,
        intervals: plan.intervals,
    };
    let (r, w) = fd::pipe().map_err(|e| format!("pipe: {}", e.description()))?;
    let controller = process::spawn(move || {
        let _ = fd::close(r);
        control::run(plan, clock, w)
    });
    let _ = fd::close(w);
    let controller = match controller {
        Ok(pid) => pid,
        Err(e) => {
            let _ = fd::close(r);
            return Err(format!("fork the controller: {}", e.description()));
        }
    };
    let mut ledger = Ledger::new(plan);
    let collected = check::collect(r, &mut ledger);
    let _ = fd::close(r);
    let mut others = Vec::new();
    let status = process::wait_for(controller, &mut others)
        .map_err(|e| format!("wait for the controller: {}", e.description()))?;
    collected?;
    let verdict = ledger.verdict();
    let left = before.unchanged();
    let mut why = Vec::new();
    if status != 0 {
        why.push(format!("the controller exited with status {status}"));
    }
    if let Err(e) = &verdict {
        why.push(e.clone());
    }
    if let Err(e) = left {
        why.push(format!("left behind: {e}"));
    }
    match verdict {
        Ok(s) if why.is_empty() => Ok(format!(
            "{} pings answered by the surviving pairs; progress in all {} pair-intervals checked{}; \
             containers made per slot: {:?}",
            s.answered,
            s.checked,
            if s.unjudged.is_empty() {
                String::new()
            } else {
                format!(
                    " ({} of {} intervals not judged: their median pair made under {} round trips)",
                    s.unjudged.len(),
                    plan.intervals,
                    ulib::stress::LIVE_ROUND_TRIPS
                )
            },
            s.generations
        )),
        _ => Err(why.join("; ")),
    }
}

//! What tracing costs: the same operation timed with every trace event
//! recorded and without, in alternating blocks of one boot.
//!
//! Under TCG a boot's speed is bimodal (a pipe round trip takes about
//! 102K or about 150K cycles, by boot and sometimes within one), so a
//! traced figure from one boot against an untraced one from another
//! measures the machine, not the tracer. Here each of `ROUNDS` rounds
//! times a block of `BLOCK` operations untraced and a block traced, in
//! alternating order, and each side's samples are summarised: rows
//! `untraced_NAME` and `traced_NAME`. The traced row also says how many
//! records an operation produced (`events=`, from the dump header's
//! per-CPU counts, less the recording's own start and stop), so the
//! runner can state a cost per recorded event.

use ulib::abi::trace::{CpuSummary, DumpHeader};
use ulib::prelude::*;
use ulib::process;
use ulib::sys::{self, result};

use crate::benches::{err, tsc, PingPong};
use crate::stats::{report, samples, Summary};

/// Rounds of one untraced and one traced block.
const ROUNDS: usize = 20;
/// Operations (samples) per block.
const BLOCK: usize = 50;
/// getpid calls a null-syscall sample times.
const BATCH: u64 = 100;

/// Records the recording's own calls leave: trace_start's exit and
/// trace_stop's entry.
const OWN_RECORDS: u64 = 2;

/// The two sides' samples and the traced blocks' record counts.
struct Paired {
    off: Vec<u64>,
    on: Vec<u64>,
    records: u64,
    ops: u64,
}

impl Paired {
    /// Runs the rounds: `op` is one timed sample of `per` operations.
    fn run(per: u64, mut op: impl FnMut() -> Result<u64, String>) -> Result<Paired, String> {
        let mut p = Paired {
            off: samples(ROUNDS * BLOCK),
            on: samples(ROUNDS * BLOCK),
            records: 0,
            ops: 0,
        };
        for _ in 0..BLOCK {
            op()?;
        }
        for round in 0..ROUNDS {
            // Alternate which side goes first, so a drift within a round
            // falls on both.
            for traced in [round % 2 == 1, round % 2 == 0] {
                if traced {
                    ulib::trace::start(0, -1).map_err(|e| err("trace_start", e))?;
                }
                let mut r = Ok(());
                for _ in 0..BLOCK {
                    match op() {
                        Ok(t) if traced => p.on.push(t),
                        Ok(t) => p.off.push(t),
                        Err(e) => {
                            r = Err(e);
                            break;
                        }
                    }
                }
                if traced {
                    ulib::trace::stop().map_err(|e| err("trace_stop", e))?;
                    p.records += produced()?.saturating_sub(OWN_RECORDS);
                    p.ops += BLOCK as u64 * per;
                }
                r?;
            }
        }
        Ok(p)
    }

    /// Prints both rows (per operation when a sample times `per`).
    fn report(mut self, name: &str, per: u64) {
        let events = self.records as f64 / self.ops.max(1) as f64;
        report(
            &format!("untraced_{name}"),
            &Summary::of(&mut self.off).per(per),
            &format!("paired_with=traced_{name}"),
        );
        report(
            &format!("traced_{name}"),
            &Summary::of(&mut self.on).per(per),
            &format!("paired_with=untraced_{name} events={events:.2}"),
        );
    }
}

/// Records the last recording produced on all CPUs (kept or dropped),
/// from the dump's header and CPU summaries.
fn produced() -> Result<u64, String> {
    const HEADER: usize = core::mem::size_of::<DumpHeader>();
    const SUMMARY: usize = core::mem::size_of::<CpuSummary>();
    let mut buf = [0u8; HEADER + 64 * SUMMARY];
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    result(unsafe { sys::trace_dump(buf.as_mut_ptr(), buf.len()) })
        .map_err(|e| err("trace_dump", e))?;
    let word = |at: usize| u64::from_le_bytes(buf[at..at + 8].try_into().unwrap_or([0; 8]));
    let cpus = u32::from_le_bytes([buf[12], buf[13], buf[14], buf[15]]) as usize;
    // `produced` is the second word of a summary.
    Ok((0..cpus.min(64))
        .map(|i| word(HEADER + i * SUMMARY + 8))
        .sum())
}

/// (a) untraced and traced: samples of 100 getpid calls.
pub fn null_syscall() -> Result<(), String> {
    let p = Paired::run(BATCH, || {
        let t0 = tsc();
        for _ in 0..BATCH {
            process::getpid();
        }
        Ok(tsc() - t0)
    })?;
    p.report("null_syscall", BATCH);
    Ok(())
}

/// (d) untraced and traced: one-byte round trips through two pipes.
pub fn pipe_rtt() -> Result<(), String> {
    let mut pp = PingPong::start()?;
    let r = Paired::run(1, || pp.trip());
    let reaped = pp.finish();
    let p = r?;
    reaped?;
    p.report("pipe_rtt", 1);
    Ok(())
}

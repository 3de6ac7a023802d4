//! kill: of a child asleep in the kernel and of one spinning in user mode.

use ulib::abi::limits::KILLED_STATUS;
use ulib::prelude::*;
use ulib::process::{self, Pid};
use ulib::test::{errno, reap, TestResult};
use ulib::{ensure, ensure_eq, fd};

/// Ticks a killed sleeper may take to die (its sleep lasts 1000).
const PROMPT: u64 = 500;

/// Starts `body` in a child that first reports on a pipe that it runs;
/// returns once it has.
fn start_and_wait(body: fn() -> i32) -> Result<Pid, String> {
    let (r, w) = fd::pipe().map_err(errno("pipe"))?;
    let pid = process::spawn(|| {
        let _ = fd::write_all(w, b"r");
        body()
    });
    let _ = fd::close(w);
    let mut b = [0u8; 1];
    let read = fd::read_exact(r, &mut b);
    let _ = fd::close(r);
    let pid = pid.map_err(errno("fork"))?;
    read.map_err(errno("read"))?;
    Ok(pid)
}

/// A child in a 10 s sleep is killed at once and reaped with status -1.
pub fn sleeping_child() -> TestResult {
    let pid = start_and_wait(|| {
        let _ = process::sleep(1000);
        0
    })?;
    // Give it time to fall asleep (killing it earlier is fine too).
    let _ = process::sleep(2);
    let t0 = process::uptime();
    process::kill(pid).map_err(errno("kill"))?;
    let status = reap(pid)?;
    let took = process::uptime() - t0;
    ensure_eq!(status, KILLED_STATUS, "status of the killed sleeper");
    ensure!(
        took < PROMPT,
        "the killed sleeper took {took} ticks to die: its sleep was not interrupted"
    );
    Ok(())
}

/// Cycles a busy child spins at most (about 10 s at 3 GHz) before giving up.
const SPIN_CYCLES: u64 = 1 << 35;

fn rdtsc() -> u64 {
    // SAFETY: rdtsc reads the time-stamp counter; no memory is touched.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// A child spinning in user mode without system calls is killed (the kernel
/// must act on the kill when it next takes the CPU from it).
pub fn running_child() -> TestResult {
    let pid = start_and_wait(|| {
        let t0 = rdtsc();
        let mut n = 0u64;
        loop {
            for _ in 0..4096 {
                n = core::hint::black_box(n.wrapping_add(1));
            }
            if rdtsc().wrapping_sub(t0) > SPIN_CYCLES {
                return 3;
            }
        }
    })?;
    process::kill(pid).map_err(errno("kill"))?;
    let status = reap(pid)?;
    ensure_eq!(
        status,
        KILLED_STATUS,
        "status of the killed spinner (3: it spun to the end)"
    );
    Ok(())
}

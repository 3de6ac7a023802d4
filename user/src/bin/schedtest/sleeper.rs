//! `sleeper`: a container that slept must not bank CPU credit.
//!
//! Container S's processes sleep 5 s while container A's spin; then S's
//! become CPU-bound too. A scheduler that let S's virtual time stand still
//! while it slept would now run S alone until it caught up (5 s of every
//! CPU), so over the next window A would get almost nothing; a fair one
//! gives A its half at once. The window starts one tick before S wakes, so
//! it holds the whole catch-up burst, and is short (3 s, or `-t` if
//! shorter) so the burst is not averaged away.
//!
//! Tolerance ±5 % relative (A between 47.5 % and 52.5 %), looser than the
//! 10 s scenarios' ±2 % because every fixed error weighs more than three
//! times as much in a 3 s window. On C CPUs A should get 1.5 x C
//! CPU-seconds. Cycles are added at switch-out, so at each of the two
//! snapshots every CPU may hold one slice (a 10 ms tick) not yet counted:
//! up to 2 x C x 10 ms, 1.3 % of A's. The tick before S wakes is A's alone
//! (+0.3 %), and on waking S's processes may run up to about a slice per
//! CPU ahead before they are level (EEVDF-style lag, -0.7 %). Together
//! that is about 2.3 %; banked credit of even 75 ms per CPU would push A
//! past 5 %, and the real thing (5 s on every CPU) takes A to near 0 %.

use ulib::fd;
use ulib::prelude::*;
use ulib::process;

use crate::group::{nap, nap_until, spin, Group, Snapshot};
use crate::scenarios::container_rows;
use crate::show;
use crate::Options;

/// How long S sleeps while A runs.
const SLEEP_TICKS: u64 = 500;
/// The window after S wakes (unless `-t` is shorter).
const WINDOW_TICKS: u64 = 300;
/// Tolerance, relative (see the module header).
const TOLERANCE: f64 = 0.05;
/// What S may run while it sleeps, relative to A (its processes' reads
/// and wake-ups; anything more means they were not asleep).
const ASLEEP_SLACK: f64 = 0.01;

pub fn sleeper(opts: &Options) -> Result<(), String> {
    let n = opts.cpus.max(2);
    let window = WINDOW_TICKS.min(opts.window);
    println!(
        "schedtest: sleeper: containers A (st-awake) and S (st-sleep), equal weights, {n} processes \
         each on {} CPUs; S sleeps {} s while A spins, then spins too; window {} s from S's wake-up",
        opts.cpus,
        SLEEP_TICKS / 100,
        window as f64 / 100.0
    );
    let mut awake = Group::create("st-awake", 100)?;
    let mut sleepy = Group::create("st-sleep", 100)?;
    let (r, w) = fd::pipe().map_err(|e| format!("pipe: {}", e.description()))?;
    // S's processes wait for the wake-up tick on the pipe, then sleep until it.
    let spawned = sleepy.spawn(n, move || {
        let _ = fd::close(w);
        let mut b = [0u8; 8];
        if fd::read_exact(r, &mut b).is_err() {
            return;
        }
        let _ = fd::close(r);
        nap_until(u64::from_le_bytes(b));
        spin();
    });
    let _ = fd::close(r);
    let result = spawned.and_then(|()| awake.spin(n)).and_then(|()| {
        let wake = process::uptime() + SLEEP_TICKS;
        let mut msg = Vec::new();
        for _ in 0..n {
            msg.extend_from_slice(&wake.to_le_bytes());
        }
        fd::write_all(w, &msg).map_err(|e| format!("write: {}", e.description()))?;
        Ok(wake)
    });
    let _ = fd::close(w);
    let wake = result?;
    nap(5);
    let asleep = Snapshot::take(false)?;
    nap_until(wake - 1);
    let before = Snapshot::take(false)?;
    let slept = before.container_delta(&asleep, sleepy.id);
    let ran = before.container_delta(&asleep, awake.id);
    println!(
        "  sleeper: while S slept, A ran {} cycles and S {} ({})",
        show::group_digits(ran),
        show::group_digits(slept),
        show::pct(slept as f64 / ran.max(1) as f64)
    );
    if ran == 0 {
        return Err(String::from("A's cycle counter did not move while S slept"));
    }
    if slept as f64 > ASLEEP_SLACK * ran as f64 {
        return Err(format!(
            "S ran {} of A's cycles while it should have slept",
            show::pct(slept as f64 / ran as f64)
        ));
    }
    nap(window);
    let after = Snapshot::take(false)?;
    let groups = [awake, sleepy];
    let rows = container_rows(&groups, opts.cpus, &before, &after)?;
    show::print_rows("sleeper", &rows, TOLERANCE);
    show::judge(&rows, TOLERANCE)
}

//! `ctr stats [--no-stream]`: per container the CPU share over about a
//! second (the change in its `cycles` against the time-stamp counter, in
//! percent of one CPU as `docker stats` counts), context switches in that
//! second, processes, pages against the limit, open files and denied calls
//! (the total, then per call). Without `--no-stream` the table is redrawn
//! every second until ^C.

use ulib::abi::container::{ContainerInfo, DENIED_COUNTED_CALLS};
use ulib::container::{self, cpu_tenths, rdtsc};
use ulib::prelude::*;
use ulib::process;

use crate::show::limit;
use crate::{list, sys_error, usage, CmdResult};

/// Ticks between the two samples (100 per second).
const INTERVAL: i32 = 100;

pub fn stats(args: &[&str]) -> CmdResult {
    let stream = match args {
        [] => true,
        ["--no-stream"] => false,
        [a, ..] => return Err(usage(format!("unexpected argument {a}"))),
    };
    let mut before = sample()?;
    loop {
        process::sleep(INTERVAL).map_err(|e| sys_error("sleep", e))?;
        let after = sample()?;
        let table = render(&before, &after);
        if stream {
            // Home and clear, as docker stats redraws.
            print!("\x1b[H\x1b[2J{table}");
        } else {
            print!("{table}");
            return Ok(());
        }
        before = after;
    }
}

/// The listing and the time-stamp counter read just before it.
fn sample() -> Result<(u64, Vec<ContainerInfo>), crate::Fail> {
    let t = rdtsc();
    Ok((t, list()?))
}

fn render(before: &(u64, Vec<ContainerInfo>), after: &(u64, Vec<ContainerInfo>)) -> String {
    let mut out = String::from(
        "ID  NAME             CPU %   SWITCHES PROCS   PAGES/LIMIT       FILES DENIED\n",
    );
    for c in &after.1 {
        let old = before.1.iter().find(|o| o.id == c.id);
        let (cycles0, switches0) = old.map_or((c.cycles, c.switches), |o| (o.cycles, o.switches));
        let tenths = cpu_tenths(cycles0, c.cycles, before.0, after.0);
        let mut denied = c.denied.to_string();
        let by_call: Vec<String> = (0..DENIED_COUNTED_CALLS)
            .filter(|&n| c.denied_by_call[n] != 0)
            .map(|n| {
                let name = container::call_name(n).map_or_else(|| format!("#{n}"), String::from);
                format!("{name}:{}", c.denied_by_call[n])
            })
            .collect();
        if !by_call.is_empty() {
            denied += &format!(" ({})", by_call.join(" "));
        }
        out += &format!(
            "{:<3} {:<16} {:>5}.{}% {:>8} {:<7} {:<17} {:>5} {}\n",
            c.id,
            container::name_of(c),
            tenths / 10,
            tenths % 10,
            c.switches.saturating_sub(switches0),
            limit(c.procs.into(), c.max_procs.into()),
            limit(c.pages, c.max_pages),
            c.open_files,
            denied
        );
    }
    out
}

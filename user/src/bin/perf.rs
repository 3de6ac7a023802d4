//! perf: record what the kernel did while a command ran, in the spirit of
//! Linux perf.
//!
//! ```text
//! perf record [-s] [-o FILE] [-e EVENT,...] [-c CID] CMD ARGS...
//!     trace while CMD runs (only container CID's processes with -c),
//!     then write the dump to FILE (default perf.data); with -s also to
//!     the trace serial port
//! perf stat [-c CID] CMD ARGS...
//!     trace while CMD runs, then print per-CPU event counts and each
//!     container's CPU cycles and switches (exact counters from the dump,
//!     however much the rings overwrote)
//! perf dump [-s] [FILE]
//!     write the last recording's dump to FILE (default perf.data), or
//!     with -s to the trace serial port (COM2: `make qemu TRACE=path`
//!     puts it in a host file), through the device node /ttyS1
//! ```
//! EVENT names: switch, wakeup, syscall_enter, syscall_exit, irq, ipi,
//! page_fault, fork, exec, exit, container, spin (default: all). The dump
//! is read on the host with `tools/trace` (after pulling it out of
//! fs.img, or from the second serial port: see the README). Exit status:
//! the command's, or 1 when perf itself fails, 2 for bad usage.
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

use berth_tracefmt::DumpView;
use ulib::abi::fcntl::{O_CREATE, O_TRUNC, O_WRONLY};
use ulib::abi::fs::TRACE_SERIAL_MAJOR;
use ulib::abi::trace::{event, CtrName, CtrUsage, EventCounts};
use ulib::fd;
use ulib::prelude::*;
use ulib::process::{self, Fork};
use ulib::trace;

entry!(main);

const DEFAULT_FILE: &str = "perf.data";
const USAGE: &str =
    "usage: perf record [-s] [-o FILE] [-e EVENT,...] [-c CID] CMD ARGS...\n       \
                     perf stat [-c CID] CMD ARGS...\n       perf dump [-s] [FILE]";
/// The trace serial port's device node.
const SERIAL_NODE: &str = "/ttyS1";

fn main(args: Args) -> i32 {
    let args: Vec<&str> = args.skip(1).collect();
    let r = match args.split_first() {
        Some((&"record", rest)) => record(rest),
        Some((&"stat", rest)) => stat(rest),
        Some((&"dump", ["-s"])) => dump_to_serial().map(|()| 0),
        Some((&"dump", rest)) if rest.len() <= 1 && !rest.iter().any(|a| a.starts_with('-')) => {
            dump_to(rest.first().copied().unwrap_or(DEFAULT_FILE)).map(|()| 0)
        }
        _ => Err(Failure::Usage(String::new())),
    };
    match r {
        Ok(status) => status,
        Err(Failure::Usage(why)) => {
            if !why.is_empty() {
                eprintln!("perf: {why}");
            }
            eprintln!("{USAGE}");
            2
        }
        Err(Failure::Failed(why)) => {
            eprintln!("perf: {why}");
            1
        }
    }
}

enum Failure {
    Usage(String),
    Failed(String),
}

fn failed(what: &str, e: Errno) -> Failure {
    Failure::Failed(format!("{what}: {}", e.description()))
}

struct Options<'a> {
    file: &'a str,
    serial: bool,
    events: u64,
    cid: i32,
    cmd: &'a [&'a str],
}

fn options<'a>(args: &'a [&'a str], file_allowed: bool) -> Result<Options<'a>, Failure> {
    let mut o = Options {
        file: DEFAULT_FILE,
        serial: false,
        events: 0,
        cid: -1,
        cmd: &[],
    };
    let mut i = 0;
    while i < args.len() {
        let value = |i: usize| {
            args.get(i + 1)
                .copied()
                .ok_or_else(|| Failure::Usage(format!("{} needs a value", args[i])))
        };
        match args[i] {
            "-s" if file_allowed => {
                o.serial = true;
                i += 1;
                continue;
            }
            "-o" if file_allowed => o.file = value(i)?,
            "-e" if file_allowed => {
                for name in value(i)?.split(',') {
                    let e = trace::event_named(name)
                        .ok_or_else(|| Failure::Usage(format!("no event named {name:?}")))?;
                    o.events |= 1 << e;
                }
            }
            "-c" => {
                let v = value(i)?;
                o.cid = v
                    .parse::<i32>()
                    .ok()
                    .filter(|&c| c >= 0)
                    .ok_or_else(|| Failure::Usage(format!("-c {v}: not a container id")))?;
            }
            a if a.starts_with('-') => return Err(Failure::Usage(format!("unknown option {a}"))),
            _ => break,
        }
        i += 2;
    }
    o.cmd = &args[i..];
    if o.cmd.is_empty() {
        return Err(Failure::Usage(String::from("no command given")));
    }
    Ok(o)
}

/// Traces while `cmd` runs; its exit status.
fn traced_run(o: &Options) -> Result<i32, Failure> {
    trace::start(o.events, o.cid).map_err(|e| failed("trace_start", e))?;
    let status = run(o.cmd);
    let stopped = trace::stop().map_err(|e| failed("trace_stop", e));
    let status = status?;
    stopped?;
    Ok(status)
}

fn run(cmd: &[&str]) -> Result<i32, Failure> {
    let path = if cmd[0].contains('/') {
        String::from(cmd[0])
    } else {
        format!("/{}", cmd[0])
    };
    match process::fork().map_err(|e| failed("fork", e))? {
        Fork::Child => {
            let e = process::exec(&path, cmd);
            eprintln!("perf: {}: {}", cmd[0], e.description());
            process::exit(127)
        }
        Fork::Parent(pid) => {
            let mut others = Vec::new();
            process::wait_for(pid, &mut others).map_err(|e| failed("wait", e))
        }
    }
}

fn record(args: &[&str]) -> Result<i32, Failure> {
    let o = options(args, true)?;
    let status = traced_run(&o)?;
    dump_to(o.file)?;
    if o.serial {
        dump_to_serial()?;
    }
    Ok(status)
}

/// Sends the last dump out of the trace serial port.
fn dump_to_serial() -> Result<(), Failure> {
    let bytes = trace::dump().map_err(|e| failed("trace_dump", e))?;
    match fd::mknod(SERIAL_NODE, i32::from(TRACE_SERIAL_MAJOR), 0) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(failed(SERIAL_NODE, e)),
    }
    let f = fd::open(SERIAL_NODE, O_WRONLY).map_err(|e| failed(SERIAL_NODE, e))?;
    let written = fd::write_all(f, &bytes).map_err(|e| failed(SERIAL_NODE, e));
    let _ = fd::close(f);
    written?;
    eprintln!("perf: {} bytes out of the trace serial port", bytes.len());
    Ok(())
}

fn dump_to(file: &str) -> Result<(), Failure> {
    let bytes = trace::dump().map_err(|e| failed("trace_dump", e))?;
    let f = fd::open(file, O_CREATE | O_WRONLY | O_TRUNC).map_err(|e| failed(file, e))?;
    let written = fd::write_all(f, &bytes).map_err(|e| failed(file, e));
    let _ = fd::close(f);
    written?;
    let d = parsed(&bytes)?;
    let (kept, dropped) = d
        .cpus()
        .fold((0, 0), |(k, x), c| (k + c.kept, x + c.dropped));
    eprintln!(
        "perf: {kept} records from {} CPUs ({dropped} dropped) in {file} ({} bytes)",
        d.header().cpus,
        bytes.len()
    );
    Ok(())
}

/// The dump, checked by the codec the host tool reads it with too.
fn parsed(bytes: &[u8]) -> Result<DumpView<'_>, Failure> {
    DumpView::parse(bytes).map_err(|e| Failure::Failed(format!("the dump: {e}")))
}

fn stat(args: &[&str]) -> Result<i32, Failure> {
    let o = options(args, false)?;
    let status = traced_run(&o)?;
    let bytes = trace::dump().map_err(|e| failed("trace_dump", e))?;
    print_stat(&parsed(&bytes)?)?;
    Ok(status)
}

/// Per-CPU event counts and per-container CPU time, from the dump's exact
/// counters (every record produced, and the scheduler's own accounting),
/// not from the records the rings kept.
fn print_stat(d: &DumpView) -> Result<(), Failure> {
    let h = d.header();
    if d.tail().is_none() {
        return Err(Failure::Failed(String::from("a dump without counts")));
    }
    let hz = h.tsc_hz.max(1);
    let secs = h.stop_tsc.saturating_sub(h.start_tsc) as f64 / hz as f64;
    println!(
        "perf stat: {:.3} s, {} CPUs, TSC {:.1} MHz",
        secs,
        h.cpus,
        hz as f64 / 1e6
    );
    let counts: Vec<EventCounts> = d.event_counts().collect();
    print!("{:>14}", "event");
    for c in d.cpus() {
        print!(" {:>9}", format!("cpu{}", c.cpu));
    }
    println!(" {:>10}", "total");
    for e in 1..=event::LAST as usize {
        let total: u64 = counts.iter().map(|c| c.produced[e]).sum();
        if total == 0 {
            continue;
        }
        print!("{:>14}", event::name(e as u16));
        for c in &counts {
            print!(" {:>9}", c.produced[e]);
        }
        println!(" {total:>10}");
    }
    let (produced, dropped) = d
        .cpus()
        .fold((0, 0), |(p, x), c| (p + c.produced, x + c.dropped));
    println!("records: {produced} produced, {dropped} of them overwritten in the rings");
    let usage: Vec<CtrUsage> = d.usage().collect();
    let busy: u64 = usage.iter().map(|u| u.cycles).sum::<u64>().max(1);
    println!(
        "{:>9} {:<16} {:>6} {:>14} {:>7} {:>9}",
        "container", "name", "weight", "cycles", "busy %", "switches"
    );
    let names: Vec<CtrName> = d.containers().collect();
    for u in &usage {
        let known = names.iter().find(|c| c.id == u.id);
        let name = known.map_or(String::from("(destroyed)"), |c| name_str(&c.name));
        let weight = known.map_or(String::from("-"), |c| c.weight.to_string());
        println!(
            "{:>9} {:<16} {:>6} {:>14} {:>7.2} {:>9}",
            u.id,
            name,
            weight,
            u.cycles,
            u.cycles as f64 * 100.0 / busy as f64,
            u.switches
        );
    }
    Ok(())
}

fn name_str(n: &[u8]) -> String {
    let end = n.iter().position(|&b| b == 0).unwrap_or(n.len());
    String::from_utf8_lossy(&n[..end]).into_owned()
}

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
//!     container's CPU cycles
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

use ulib::abi::fcntl::{O_CREATE, O_TRUNC, O_WRONLY};
use ulib::abi::fs::TRACE_SERIAL_MAJOR;
use ulib::abi::trace::{event, DUMP_MAGIC};
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
    let d = Dump::parse(&bytes).ok_or_else(|| Failure::Failed(String::from("a malformed dump")))?;
    let (kept, dropped) = d
        .cpus()
        .fold((0, 0), |(k, x), c| (k + c.kept, x + c.dropped));
    eprintln!(
        "perf: {kept} records from {} CPUs ({dropped} dropped) in {file} ({} bytes)",
        d.ncpus,
        bytes.len()
    );
    Ok(())
}

fn stat(args: &[&str]) -> Result<i32, Failure> {
    let o = options(args, false)?;
    let status = traced_run(&o)?;
    let bytes = trace::dump().map_err(|e| failed("trace_dump", e))?;
    let d = Dump::parse(&bytes).ok_or_else(|| Failure::Failed(String::from("a malformed dump")))?;
    print_stat(&d);
    Ok(status)
}

/// Just enough of a dump's decoding for `perf stat` and the summary line
/// (the host tool `tools/trace` reads all of it).
struct Dump<'a> {
    bytes: &'a [u8],
    ncpus: usize,
    tsc_hz: u64,
    start: u64,
    stop: u64,
}

struct CpuCounts {
    cpu: u32,
    produced: u64,
    kept: u64,
    dropped: u64,
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]))
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap_or([0; 4]))
}

impl<'a> Dump<'a> {
    fn parse(bytes: &'a [u8]) -> Option<Dump<'a>> {
        if bytes.len() < 64 || bytes[..8] != DUMP_MAGIC {
            return None;
        }
        let d = Dump {
            bytes,
            ncpus: le32(bytes, 12) as usize,
            tsc_hz: le64(bytes, 16).max(1),
            start: le64(bytes, 32),
            stop: le64(bytes, 40),
        };
        let records: u64 = d.cpus().map(|c| c.kept).sum();
        let need = 64 + 32 * (d.ncpus as u64 + records);
        (bytes.len() as u64 >= need).then_some(d)
    }

    fn cpus(&self) -> impl Iterator<Item = CpuCounts> + '_ {
        (0..self.ncpus).map(|i| {
            let at = 64 + 32 * i;
            CpuCounts {
                cpu: le32(self.bytes, at),
                produced: le64(self.bytes, at + 8),
                kept: le64(self.bytes, at + 16),
                dropped: le64(self.bytes, at + 24),
            }
        })
    }

    /// `(cpu, tsc, pid, container, event, a, b)` of each record, CPU by CPU.
    fn records(&self) -> impl Iterator<Item = (u16, u64, i32, i32, u16, u32, u64)> + '_ {
        let total: u64 = self.cpus().map(|c| c.kept).sum();
        let base = 64 + 32 * self.ncpus;
        (0..total as usize).map(move |i| {
            let at = base + 32 * i;
            let b = self.bytes;
            (
                u16::from_le_bytes([b[at + 18], b[at + 19]]),
                le64(b, at),
                le32(b, at + 8) as i32,
                le32(b, at + 12) as i32,
                u16::from_le_bytes([b[at + 16], b[at + 17]]),
                le32(b, at + 20),
                le64(b, at + 24),
            )
        })
    }
}

fn print_stat(d: &Dump) {
    let secs = d.stop.saturating_sub(d.start) as f64 / d.tsc_hz as f64;
    println!(
        "perf stat: {:.3} s, {} CPUs, TSC {:.1} MHz",
        secs,
        d.ncpus,
        d.tsc_hz as f64 / 1e6
    );
    let events = event::LAST as usize + 1;
    let mut counts = vec![vec![0u64; events]; d.ncpus];
    // Cycles each container ran: from a switch in to the next switch out
    // on the same CPU.
    let mut running: Vec<Option<(u64, i32)>> = vec![None; d.ncpus];
    let mut ctr_cycles: Vec<(i32, u64)> = Vec::new();
    for (cpu, tsc, _pid, container, ev, a, b) in d.records() {
        let c = cpu as usize;
        if c >= d.ncpus {
            continue;
        }
        if let Some(n) = counts[c].get_mut(ev as usize) {
            *n += 1;
        }
        if ev == event::SWITCH {
            if a == u32::MAX {
                if let Some((t0, _)) = running[c].take() {
                    add(&mut ctr_cycles, container, tsc.saturating_sub(t0));
                }
            } else {
                running[c] = Some((tsc, b as u32 as i32));
            }
        }
    }
    print!("{:>14}", "event");
    for c in d.cpus() {
        print!(" {:>9}", format!("cpu{}", c.cpu));
    }
    println!();
    for e in 1..events {
        if counts.iter().all(|c| c[e] == 0) {
            continue;
        }
        print!("{:>14}", event::name(e as u16));
        for c in &counts {
            print!(" {:>9}", c[e]);
        }
        println!();
    }
    print!("{:>14}", "dropped");
    for c in d.cpus() {
        print!(" {:>9}", c.dropped);
    }
    println!();
    let produced: u64 = d.cpus().map(|c| c.produced).sum();
    println!("records: {produced} produced");
    ctr_cycles.sort();
    let total: u64 = ctr_cycles.iter().map(|&(_, c)| c).sum::<u64>().max(1);
    for (id, cycles) in ctr_cycles {
        println!(
            "container {id:>3}: {cycles:>14} cycles  {:>6.2} % of the run time",
            cycles as f64 * 100.0 / total as f64
        );
    }
}

fn add(v: &mut Vec<(i32, u64)>, key: i32, n: u64) {
    match v.iter_mut().find(|(k, _)| *k == key) {
        Some((_, c)) => *c += n,
        None => v.push((key, n)),
    }
}

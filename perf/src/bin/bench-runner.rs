//! bench-runner: boots berth under QEMU, runs the guest `bench` program at
//! the shell and prints its results next to MIT xv6's (BASELINES.md).
//!
//! `bench-runner [--cpus N] [--kvm] [--boots N] [--timeout SECS] [NAME...]`
//!
//! Each boot gets a fresh copy of the file-system image (`$BERTH_FSIMG`,
//! else `build/fs.img`) and the kernel (`$BERTH_KERNEL`, else
//! `build/kernel.elf` after `make -s kernel`). The runner waits for `$ `,
//! types `bench --cpus N [NAME...]`, and collects `bench ...` lines until
//! `bench done`; the table holds the median over boots of each median.
//! TCG is the default (xv6 was measured under TCG). Times are reported,
//! never judged: the exit status is non-zero only when no boot produced
//! results or the arguments are wrong.

use std::process::ExitCode;
use std::time::Duration;

use berth_perf::parse::{Run, PREFIX};
use berth_perf::report::{render, Context};
use berth_tests::shell::PROMPT;
use berth_tests::{expect_banner, fs_image, Accel, ImageCopy, Qemu, QemuConfig, TestFailure};

/// What the command line asked for.
struct Options {
    cpus: usize,
    accel: Accel,
    boots: usize,
    /// Longest wait for the next result line.
    timeout: Duration,
    names: Vec<String>,
}

const USAGE: &str = "usage: bench-runner [--cpus N] [--kvm] [--boots N] [--timeout SECS] [NAME...]";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut o = Options {
        cpus: 1,
        accel: Accel::Tcg,
        boots: 3,
        timeout: Duration::from_secs(600),
        names: Vec::new(),
    };
    let number = |flag: &str, v: Option<String>| -> Result<u64, String> {
        let v = v.ok_or(format!("{flag} needs a number"))?;
        v.parse().map_err(|_| format!("{flag} {v}: not a number"))
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--cpus" => o.cpus = number("--cpus", args.next())? as usize,
            "--boots" => o.boots = number("--boots", args.next())? as usize,
            "--timeout" => o.timeout = Duration::from_secs(number("--timeout", args.next())?),
            "--kvm" => o.accel = Accel::Kvm,
            "--tcg" => o.accel = Accel::Tcg,
            "-h" | "--help" => return Err(USAGE.to_string()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}\n{USAGE}")),
            _ => o.names.push(a),
        }
    }
    if !(1..=berth_tests::MAX_CPUS).contains(&o.cpus) {
        return Err(format!("--cpus {}: berth runs on 1 to 8 CPUs", o.cpus));
    }
    if o.boots == 0 {
        return Err("--boots 0: nothing to measure".to_string());
    }
    Ok(o)
}

/// One boot: returns the guest's results and the kernel's TSC line.
fn one_boot(o: &Options, boot: usize) -> Result<(Run, (f64, String, u64)), TestFailure> {
    let image = ImageCopy::of(&fs_image()?)?;
    let mut qemu = Qemu::spawn(QemuConfig::new(o.cpus, o.accel).disk(image.path()))?;
    let banner = expect_banner(&mut qemu)?;
    qemu.wait_for(PROMPT, berth_tests::TIMEOUT)?;
    let mut command = format!("bench --cpus {}", o.cpus);
    for n in &o.names {
        command += &format!(" {n}");
    }
    qemu.send_line(&command)?;
    let mut run = Run::default();
    loop {
        let line = qemu.wait_for_line_matching(
            "the next `bench ...` line",
            |l| l.starts_with(PREFIX) || l.starts_with("bench:") || l.starts_with("panic"),
            o.timeout,
        )?;
        if line.starts_with("bench:") || line.starts_with("panic") {
            return Err(qemu.failure(format!("bench failed: {line}")));
        }
        eprintln!("boot {boot}/{}: {line}", o.boots);
        if run.feed(&line) {
            break;
        }
    }
    drop(qemu);
    drop(image);
    let tsc = banner.tsc;
    Ok((run, (tsc.mhz, tsc.source, tsc.read_cycles)))
}

fn main() -> ExitCode {
    let o = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(why) => {
            eprintln!("bench-runner: {why}");
            return ExitCode::from(2);
        }
    };
    if o.accel == Accel::Kvm {
        if let Err(why) = berth_tests::kvm_usable() {
            eprintln!("bench-runner: --kvm but KVM is not usable: {why}");
            return ExitCode::from(2);
        }
    }
    let mut runs = Vec::new();
    let mut kernel_tsc = None;
    for boot in 1..=o.boots {
        eprintln!(
            "boot {boot}/{}: berth on {} CPUs under {}",
            o.boots, o.cpus, o.accel
        );
        match one_boot(&o, boot) {
            Ok((run, tsc)) => {
                runs.push(run);
                kernel_tsc.get_or_insert(tsc);
            }
            Err(failure) => eprintln!("boot {boot}/{} failed:\n{failure}", o.boots),
        }
    }
    let ctx = Context {
        cpus: o.cpus,
        accel: o.accel.to_string(),
        boots: o.boots,
        kernel_tsc,
    };
    println!("{}", render(&ctx, &runs));
    if runs.is_empty() {
        eprintln!("bench-runner: no boot produced results");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

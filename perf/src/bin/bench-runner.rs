//! bench-runner: boots berth under QEMU, runs the guest `bench` program at
//! the shell and prints its results next to MIT xv6's (BASELINES.md).
//!
//! `bench-runner [--cpus N] [--sweep K,K...] [--kvm|--tcg] [--boots N]
//! [--timeout SECS] [NAME...]` (parsed by clap in `berth_perf::cli`; usage
//! errors exit 2).
//!
//! Each boot gets a fresh copy of the file-system image (`$BERTH_FSIMG`,
//! else `build/fs.img`) and the kernel (`$BERTH_KERNEL`, else
//! `build/kernel.elf` after `make -s kernel`). The runner waits for `$ `,
//! types `bench --cpus N [NAME...]`, and collects `bench ...` lines until
//! `bench done`; the table holds the median over boots of each median,
//! and a row for the host wall time from spawning QEMU to that first `$ `.
//! With `--sweep`, the same number of boots follows at each listed CPU
//! count, running only the benchmarks whose results depend on it
//! (`bench --cpus K yield scale wakeup`); their rows join the same table.
//! TCG is the default (xv6 was measured under TCG). Times are reported,
//! never judged: the exit status is non-zero only when no boot produced
//! results or the arguments are wrong.

use std::process::ExitCode;

use berth_perf::cli::Cli;
use berth_perf::parse::{Run, PREFIX};
use berth_perf::render::render_sweep;
use berth_perf::report::Context;
use berth_perf::sweep::{self, Set};
use berth_tests::shell::PROMPT;
use berth_tests::{expect_banner, fs_image, Accel, ImageCopy, Qemu, QemuConfig, TestFailure};
use clap::Parser;

/// What the command line asked for, resolved.
struct Options {
    cpus: usize,
    accel: Accel,
    boots: usize,
    /// CPU counts to boot at after `cpus`.
    sweep: Vec<usize>,
    /// Longest wait for the next result line.
    timeout: std::time::Duration,
    names: Vec<String>,
}

impl From<Cli> for Options {
    fn from(c: Cli) -> Options {
        Options {
            cpus: c.cpus,
            accel: c.accel(),
            boots: c.boots,
            sweep: c.sweep().to_vec(),
            timeout: c.timeout(),
            names: c.names,
        }
    }
}

/// The kernel's boot line: MHz, how it found it, its rdtsc cost.
type KernelTsc = (f64, String, u64);

/// One boot at `cpus` CPUs running `bench --cpus {cpus} {names}`: returns
/// the guest's results and the kernel's TSC line.
fn one_boot(
    o: &Options,
    cpus: usize,
    names: &[String],
    boot: usize,
) -> Result<(Run, KernelTsc), TestFailure> {
    let image = ImageCopy::of(&fs_image()?)?;
    let mut qemu = Qemu::spawn(QemuConfig::new(cpus, o.accel).disk(image.path()))?;
    let banner = expect_banner(&mut qemu)?;
    qemu.wait_for(PROMPT, berth_tests::TIMEOUT)?;
    let to_prompt = qemu.elapsed();
    let mut command = format!("bench --cpus {cpus}");
    for n in names {
        command += &format!(" {n}");
    }
    qemu.send_line(&command)?;
    let mut run = Run {
        to_prompt: Some(to_prompt),
        ..Run::default()
    };
    loop {
        let line = qemu.wait_for_line_matching(
            "the next `bench ...` line",
            |l| l.starts_with(PREFIX) || l.starts_with("bench:") || l.starts_with("panic"),
            o.timeout,
        )?;
        if line.starts_with("bench:") || line.starts_with("panic") {
            return Err(qemu.failure(format!("bench failed: {line}")));
        }
        eprintln!("boot {boot}/{} at CPUS={cpus}: {line}", o.boots);
        if run.feed(&line) {
            break;
        }
    }
    drop(qemu);
    drop(image);
    let tsc = banner.tsc;
    Ok((run, (tsc.mhz, tsc.source, tsc.read_cycles)))
}

/// `o.boots` boots at `cpus` CPUs; the runs that produced results, and
/// the first kernel TSC line.
fn boots(o: &Options, cpus: usize, names: &[String]) -> (Vec<Run>, Option<KernelTsc>) {
    let mut runs = Vec::new();
    let mut kernel_tsc = None;
    for boot in 1..=o.boots {
        eprintln!(
            "boot {boot}/{}: berth on {cpus} CPUs under {}: bench {}",
            o.boots,
            o.accel,
            if names.is_empty() {
                "(all)".to_string()
            } else {
                names.join(" ")
            }
        );
        match one_boot(o, cpus, names, boot) {
            Ok((run, tsc)) => {
                runs.push(run);
                kernel_tsc.get_or_insert(tsc);
            }
            Err(failure) => eprintln!("boot {boot}/{} at CPUS={cpus} failed:\n{failure}", o.boots),
        }
    }
    (runs, kernel_tsc)
}

fn main() -> ExitCode {
    let o = Options::from(Cli::parse());
    if o.accel == Accel::Kvm {
        if let Err(why) = berth_tests::kvm_usable() {
            eprintln!("bench-runner: --kvm but KVM is not usable: {why}");
            return ExitCode::from(2);
        }
    }
    let (runs, kernel_tsc) = boots(&o, o.cpus, &o.names);
    let sweep_names = sweep::names(&o.names);
    let mut sets = Vec::new();
    if !o.sweep.is_empty() && sweep_names.is_empty() {
        eprintln!(
            "bench-runner: --sweep skipped: none of the benchmarks asked for depends on the \
             CPU count (those are {})",
            sweep::PREFIXES.join(", ")
        );
    } else {
        for &cpus in &o.sweep {
            let (runs, _) = boots(&o, cpus, &sweep_names);
            sets.push(Set {
                cpus,
                boots: o.boots,
                runs,
            });
        }
    }
    let ctx = Context {
        cpus: o.cpus,
        accel: o.accel.to_string(),
        boots: o.boots,
        kernel_tsc,
        host_cores: std::thread::available_parallelism().ok().map(usize::from),
    };
    println!("{}", render_sweep(&ctx, &runs, &sets));
    if runs.is_empty() && sets.iter().all(|s| s.runs.is_empty()) {
        eprintln!("bench-runner: no boot produced results");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

//! `trace`: the host side of berth's tracer. Reads a dump written by
//! `perf record` / `perf dump` inside berth (layout: `berth_abi::trace`).
//!
//! ```text
//! trace report   DUMP                 text report: CPU busy %, container shares
//!                                     vs weights, wakeup and syscall latency,
//!                                     top processes, dropped records
//! trace perfetto DUMP -o out.pftrace  Perfetto protobuf (open in ui.perfetto.dev)
//! trace chrome   DUMP -o out.json     Chrome Trace Event JSON (chrome://tracing)
//! trace svg      DUMP -o out.svg      per-CPU timeline and latency histogram
//! trace synth    -o FILE              write a made-up 2-CPU dump to try these on
//! ```
//! Errors are printed as `trace: <message>` and exit with status 1 (2 for
//! a bad command line). A foreign, truncated or newer-version file is
//! refused with a message saying which.

use berth_trace::{chrome, dump, model, perfetto, report, svg, synth};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "trace", version, about = "Read berth trace dumps")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print the text report.
    Report { dump: PathBuf },
    /// Write a Perfetto protobuf trace.
    Perfetto {
        dump: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Write Chrome Trace Event JSON.
    Chrome {
        dump: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Write an SVG timeline.
    Svg {
        dump: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Write a synthetic dump.
    Synth {
        #[arg(short, long)]
        output: PathBuf,
    },
}

fn load(path: &Path) -> Result<dump::Dump, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    dump::parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn run(cmd: Cmd) -> Result<(), String> {
    match cmd {
        Cmd::Report { dump } => {
            let d = load(&dump)?;
            print!("{}", report::render(&report::compute(&d)));
        }
        Cmd::Perfetto { dump, output } => {
            let d = load(&dump)?;
            write(&output, &perfetto::encode(&d))?;
        }
        Cmd::Chrome { dump, output } => {
            let d = load(&dump)?;
            let m = model::build(&d);
            write(&output, chrome::encode(&d, &m).as_bytes())?;
        }
        Cmd::Svg { dump, output } => {
            let d = load(&dump)?;
            let m = model::build(&d);
            let r = report::compute_with(&d, &m);
            write(&output, svg::render(&d, &m, &r).as_bytes())?;
        }
        Cmd::Synth { output } => write(&output, &dump::encode(&synth::dump()))?,
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trace: {e}");
            ExitCode::FAILURE
        }
    }
}

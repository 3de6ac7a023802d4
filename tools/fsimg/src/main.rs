//! `fsimg ls IMAGE [PATH]` and `fsimg get IMAGE PATH [-o OUT]`: the thin
//! command line over the library (which documents both, and the log).
//!
//! Usage errors are clap's message and exit status 2; every other failure
//! is one line `fsimg: IMAGE: ...` (or `fsimg: OUT: ...` for the output)
//! on stderr and exit status 1.

use berth_fsimg::{get, ls, output_path, Cli, Command};
use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run(&Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("fsimg: {msg}");
            ExitCode::from(1)
        }
    }
}

fn run(command: &Command) -> Result<(), String> {
    let shown = command.image().display().to_string();
    let bytes =
        std::fs::read(command.image()).map_err(|e| format!("cannot read '{shown}': {e}"))?;
    let in_image = |msg: String| format!("{shown}: {msg}");
    let replayed = match command {
        Command::Ls { path, .. } => {
            let (text, replayed) = ls(&bytes, path).map_err(in_image)?;
            write_stdout(text.as_bytes())?;
            replayed
        }
        Command::Get { path, output, .. } => {
            let (data, replayed) = get(&bytes, path).map_err(in_image)?;
            match output_path(path, output.as_ref())? {
                None => write_stdout(&data)?,
                Some(out) => std::fs::write(&out, &data)
                    .map_err(|e| format!("cannot write '{}': {e}", out.display()))?,
            }
            replayed
        }
    };
    if replayed > 0 {
        let blocks = if replayed == 1 { "block" } else { "blocks" };
        eprintln!(
            "fsimg: {shown}: read through a committed log of {replayed} {blocks} (replayed in memory)"
        );
    }
    Ok(())
}

fn write_stdout(bytes: &[u8]) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))
}

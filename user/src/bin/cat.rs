//! cat: copies each file named (standard input when none) to standard output.
//!
//! `cat [file...]`. A file that cannot be opened, or is a directory, is
//! reported as `cat: FILE: <reason>` and skipped; the exit status is then 1.
//! A failed write to standard output stops cat at once with status 1.
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

use ulib::abi::fcntl::O_RDONLY;
use ulib::abi::stat::T_DIR;
use ulib::fd::{self, Fd};
use ulib::prelude::*;

entry!(main);

/// Bytes moved per read.
const CHUNK: usize = 4096;

/// Why copying stopped.
enum Failure {
    /// Reading the input failed: report and go on with the next file.
    Read(Errno),
    /// Writing the output failed: nothing more can be done.
    Write(Errno),
}

fn main(args: Args) -> i32 {
    let files: Vec<&str> = args.skip(1).collect();
    if files.is_empty() {
        return match copy(fd::STDIN) {
            Ok(()) => 0,
            Err(Failure::Read(e)) => {
                eprintln!("cat: standard input: {}", e.description());
                1
            }
            Err(Failure::Write(e)) => write_failed(e),
        };
    }
    let mut status = 0;
    for name in files {
        let f = match open_file(name) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("cat: {name}: {}", e.description());
                status = 1;
                continue;
            }
        };
        let copied = copy(f);
        let _ = fd::close(f);
        match copied {
            Ok(()) => {}
            Err(Failure::Read(e)) => {
                eprintln!("cat: {name}: {}", e.description());
                status = 1;
            }
            Err(Failure::Write(e)) => return write_failed(e),
        }
    }
    status
}

/// Opens `name` for reading; a directory is `EISDIR` (its raw entries are no text).
fn open_file(name: &str) -> Result<Fd, Errno> {
    let f = fd::open(name, O_RDONLY)?;
    match fd::fstat(f) {
        Ok(st) if st.kind == T_DIR => {
            let _ = fd::close(f);
            Err(Errno::EISDIR)
        }
        _ => Ok(f),
    }
}

/// Copies `from` to standard output until end of file.
fn copy(from: Fd) -> Result<(), Failure> {
    let mut buf = [0u8; CHUNK];
    loop {
        let n = fd::read(from, &mut buf).map_err(Failure::Read)?;
        if n == 0 {
            return Ok(());
        }
        fd::write_all(fd::STDOUT, &buf[..n]).map_err(Failure::Write)?;
    }
}

fn write_failed(e: Errno) -> i32 {
    eprintln!("cat: write error: {}", e.description());
    1
}

//! echo: prints its arguments separated by single spaces, then a newline.
//!
//! `echo args...`; the whole line goes out in one `write`, so lines of
//! concurrent echoes never mix. Exits 1 (and says why on fd 2) if standard
//! output cannot be written.
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

use ulib::fd;
use ulib::prelude::*;

entry!(main);

fn main(args: Args) -> i32 {
    let words: Vec<&str> = args.skip(1).collect();
    let mut line = words.join(" ");
    line.push('\n');
    match fd::write_all(fd::STDOUT, line.as_bytes()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("echo: write error: {}", e.description());
            1
        }
    }
}

//! rm: removes each name given (files, and directories that are empty).
//!
//! `rm file...`. A name that cannot be removed is reported as
//! `rm: FILE: <reason>`; the others are still removed and the exit status
//! is 1.
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

use ulib::fd;
use ulib::prelude::*;

entry!(main);

fn main(args: Args) -> i32 {
    if args.len() < 2 {
        eprintln!("usage: rm file...");
        return 2;
    }
    let mut status = 0;
    for name in args.skip(1) {
        if let Err(e) = fd::unlink(name) {
            eprintln!("rm: {name}: {}", e.description());
            status = 1;
        }
    }
    status
}

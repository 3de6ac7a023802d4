//! mkdir: creates each directory named.
//!
//! `mkdir dir...`. A directory that cannot be created is reported as
//! `mkdir: DIR: <reason>`; the others are still created and the exit
//! status is 1.
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

use ulib::fd;
use ulib::prelude::*;

entry!(main);

fn main(args: Args) -> i32 {
    if args.len() < 2 {
        eprintln!("usage: mkdir dir...");
        return 2;
    }
    let mut status = 0;
    for dir in args.skip(1) {
        if let Err(e) = fd::mkdir(dir) {
            eprintln!("mkdir: {dir}: {}", e.description());
            status = 1;
        }
    }
    status
}

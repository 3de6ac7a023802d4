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
use ulib::for_each_operand;
use ulib::prelude::*;

entry!(main);

fn main(args: Args) -> i32 {
    for_each_operand(args, "mkdir", "dir...", fd::mkdir)
}

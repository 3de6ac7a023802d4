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
use ulib::for_each_operand;
use ulib::prelude::*;

entry!(main);

fn main(args: Args) -> i32 {
    for_each_operand(args, "rm", "file...", fd::unlink)
}

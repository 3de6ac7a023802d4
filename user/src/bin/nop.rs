//! nop: a program whose `main` only exits (status 0).
//!
//! `bench` execs it to time fork + exec + wait, the trivial program of
//! BASELINES.md's benchmark (c).
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

use ulib::{entry, Args};

entry!(main);

fn main(_args: Args) -> i32 {
    0
}

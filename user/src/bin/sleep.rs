//! sleep: waits for a number of clock ticks (100 per second).
//!
//! `sleep ticks`. A count that is not a non-negative decimal number is
//! reported as `sleep: ARG: invalid argument`, with exit status 1.
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::process;

entry!(main);

fn main(args: Args) -> i32 {
    let words: Vec<&str> = args.skip(1).collect();
    let [arg] = words[..] else {
        eprintln!("usage: sleep ticks");
        return 2;
    };
    let result = match arg.parse::<i32>() {
        Ok(ticks) if ticks >= 0 => process::sleep(ticks),
        _ => Err(Errno::EINVAL),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("sleep: {arg}: {}", e.description());
            1
        }
    }
}

//! echoargs: prints its arguments, one per line, as `argv[i]=...`.
//!
//! The test programs exec it and compare its output, so the format is fixed:
//! `argv[0]=echoargs` first, one line per argument, nothing else.
#![no_std]
#![no_main]

use ulib::fd::{write_all, STDOUT};
use ulib::prelude::*;
use ulib::{entry, Args};

entry!(main);

fn main(args: Args) -> i32 {
    // The bytes as given (not decoded as UTF-8), so tests see exactly what exec passed.
    for i in 0..args.argc() {
        let mut line = format!("argv[{i}]=").into_bytes();
        line.extend_from_slice(args.bytes(i).unwrap_or_default());
        line.push(b'\n');
        if write_all(STDOUT, &line).is_err() {
            return 1;
        }
    }
    0
}

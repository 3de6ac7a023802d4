//! echoargs: prints its arguments, one per line, as `argv[i]=...`.
//!
//! The test programs exec it and compare its output, so the format is fixed:
//! `argv[0]=echoargs` first, one line per argument, nothing else.
#![no_std]
#![no_main]

use ulib::{entry, println, Args};

entry!(main);

fn main(args: Args) -> i32 {
    for (i, a) in args.enumerate() {
        println!("argv[{i}]={a}");
    }
    0
}

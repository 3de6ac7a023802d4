//! hostname: prints or sets the caller's container's hostname (the host's
//! for a host process).
//!
//! `hostname` prints it; `hostname NAME` sets it (at most 31 bytes). A
//! failure is reported as `hostname: <reason>` with status 1; more than one
//! argument prints the usage line and exits 2.
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

use ulib::container;
use ulib::prelude::*;

entry!(main);

fn main(args: Args) -> i32 {
    let argv: Vec<&str> = args.skip(1).collect();
    let r = match argv.as_slice() {
        [] => container::hostname().map(|h| println!("{h}")),
        [name] => container::set_hostname(name),
        _ => {
            eprintln!("usage: hostname [NAME]");
            return 2;
        }
    };
    match r {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("hostname: {}", e.description());
            1
        }
    }
}

//! ln: gives a file a second name.
//!
//! `ln old new`. On failure prints `ln: NAME: <reason>`, naming `old` when
//! the problem is with it (it does not exist, or is a directory) and `new`
//! otherwise, and exits 1.
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

use ulib::abi::fcntl::O_RDONLY;
use ulib::fd;
use ulib::prelude::*;

entry!(main);

fn main(args: Args) -> i32 {
    let names: Vec<&str> = args.skip(1).collect();
    let [old, new] = names[..] else {
        eprintln!("usage: ln old new");
        return 2;
    };
    let Err(e) = fd::link(old, new) else {
        return 0;
    };
    // The kernel's errno does not say which name it is about: look at `old`.
    let culprit = match e {
        Errno::EPERM => old,
        _ => match fd::open(old, O_RDONLY) {
            Ok(f) => {
                let _ = fd::close(f);
                new
            }
            Err(_) => old,
        },
    };
    eprintln!("ln: {culprit}: {}", e.description());
    1
}

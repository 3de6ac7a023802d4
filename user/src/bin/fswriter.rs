//! fswriter: a write-heavy workload for the crash test.
//!
//! `fswriter COUNT SIZE` creates files `cw0`, `cw1`, ... of SIZE bytes each
//! (written in 1000-byte pieces, so writes straddle blocks), closes each, and
//! only then prints `fswriter: closed cwK`. Every byte is a function of the
//! file number and offset ([`pattern`]), so the host can check a surviving
//! file after QEMU is killed at any moment. Every fifth file it also makes a
//! directory, to mix metadata-only operations into the log.
#![no_std]
#![no_main]

use berth_abi::fcntl::{O_CREATE, O_TRUNC, O_WRONLY};
use ulib::prelude::*;
use ulib::{fd, Args};

entry!(main);

/// Byte `off` of file `k` (the host test computes the same).
fn pattern(k: usize, off: usize) -> u8 {
    (k.wrapping_mul(31) + off.wrapping_mul(7) + off / 251) as u8
}

fn main(mut args: Args) -> i32 {
    let _ = args.next();
    let count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let size: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    for k in 0..count {
        let name = format!("cw{k}");
        let f = match fd::open(&name, O_CREATE | O_WRONLY | O_TRUNC) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("fswriter: {name}: {}", e.description());
                return 1;
            }
        };
        let mut off = 0;
        while off < size {
            let n = (size - off).min(1000);
            let piece: Vec<u8> = (off..off + n).map(|o| pattern(k, o)).collect();
            if let Err(e) = fd::write_all(f, &piece) {
                eprintln!("fswriter: {name}: {}", e.description());
                return 1;
            }
            off += n;
        }
        if let Err(e) = fd::close(f) {
            eprintln!("fswriter: {name}: {}", e.description());
            return 1;
        }
        println!("fswriter: closed {name}");
        if k % 5 == 4 {
            let _ = fd::mkdir(&format!("cwdir{k}"));
        }
    }
    println!("fswriter: done");
    0
}

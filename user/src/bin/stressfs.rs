//! stressfs: several processes write and read their own files at once.
//!
//! Like xv6's stressfs, with checking: `stressfs` forks [`WORKERS`]
//! children; child i writes `stressfs.i` in [`ROUNDS`] writes of [`BLOCK`]
//! bytes whose contents depend on i and the round, reads it back and
//! compares every byte, then removes it. The parent waits for all of them
//! and prints `stressfs ok` (exit 0), or one line per failed child and
//! `stressfs FAILED` (exit 1).
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

use ulib::abi::fcntl::{O_CREATE, O_RDONLY, O_TRUNC, O_WRONLY};
use ulib::fd;
use ulib::prelude::*;
use ulib::process::{self, Fork};

entry!(main);

/// Child processes.
const WORKERS: usize = 4;
/// Writes per child.
const ROUNDS: usize = 40;
/// Bytes per write.
const BLOCK: usize = 512;

fn main(_args: Args) -> i32 {
    println!("stressfs starting");
    let mut children = Vec::new();
    let mut ok = true;
    for i in 0..WORKERS {
        match process::fork() {
            Ok(Fork::Child) => process::exit(match work(i) {
                Ok(()) => 0,
                Err(why) => {
                    println!("stressfs: worker {i}: {why}");
                    1
                }
            }),
            Ok(Fork::Parent(pid)) => children.push(pid),
            Err(e) => {
                println!("stressfs: fork: {}", e.description());
                ok = false;
            }
        }
    }
    for _ in 0..children.len() {
        match process::wait() {
            Ok((_, 0)) => {}
            Ok((pid, status)) => {
                println!("stressfs: process {pid} exited with status {status}");
                ok = false;
            }
            Err(e) => {
                println!("stressfs: wait: {}", e.description());
                ok = false;
                break;
            }
        }
    }
    if ok {
        println!("stressfs ok");
        0
    } else {
        println!("stressfs FAILED");
        1
    }
}

/// The bytes of round `round` of worker `worker`.
fn block(worker: usize, round: usize) -> [u8; BLOCK] {
    let mut b = [0u8; BLOCK];
    for (j, x) in b.iter_mut().enumerate() {
        *x = (worker * 61 + round * 7 + j) as u8;
    }
    b
}

fn work(i: usize) -> Result<(), String> {
    let path = format!("stressfs.{i}");
    let err = |what: &str| {
        let what = format!("{what} {path}");
        move |e: Errno| format!("{what}: {}", e.description())
    };
    let f = fd::open(&path, O_CREATE | O_TRUNC | O_WRONLY).map_err(err("create"))?;
    for round in 0..ROUNDS {
        fd::write_all(f, &block(i, round)).map_err(err("write"))?;
    }
    fd::close(f).map_err(err("close"))?;

    let f = fd::open(&path, O_RDONLY).map_err(err("open"))?;
    let mut buf = [0u8; BLOCK];
    for round in 0..ROUNDS {
        fd::read_exact(f, &mut buf).map_err(err("read"))?;
        if buf != block(i, round) {
            return Err(format!("{path}: round {round} reads back wrong"));
        }
    }
    let extra = fd::read(f, &mut buf).map_err(err("read"))?;
    fd::close(f).map_err(err("close"))?;
    if extra != 0 {
        return Err(format!("{path}: {extra} bytes past the end"));
    }
    fd::unlink(&path).map_err(err("unlink"))
}

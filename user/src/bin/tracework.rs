//! tracework: a workload with known counts, for the trace tests (`perf
//! record tracework`, then the host tool checks the dump's counts).
//!
//! It creates two containers (`tw-light`, weight 100, and `tw-heavy`,
//! weight 200). In each it forks one member, which joins the container,
//! forks `FORKS` children that each exec `/nop`, waits for them, and then
//! answers `ROUNDS` one-byte pipe round trips with the parent, who
//! destroys both containers at the end. So the recording holds exactly:
//! 2 container creates, 2 joins, 2 destroys; `2 + 2 × FORKS` forks by
//! tracework and its members (perf's own fork of tracework adds one);
//! `2 × FORKS` execs of `nop` (perf's exec of tracework adds one); and
//! `2 × ROUNDS` round trips. It prints `tracework: done` and exits 0, or
//! `tracework: <what> failed` and exits 1.
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

use ulib::container::{self, Spec};
use ulib::fd;
use ulib::prelude::*;
use ulib::process::{self, Fork};

entry!(main);

/// Children each member forks (each execs `/nop`).
pub const FORKS: usize = 5;
/// Pipe round trips with each member.
pub const ROUNDS: usize = 50;

fn main(_args: Args) -> i32 {
    match run() {
        Ok(()) => {
            println!("tracework: done");
            0
        }
        Err(what) => {
            println!("tracework: {what} failed");
            1
        }
    }
}

fn run() -> Result<(), String> {
    let mut ids = Vec::new();
    for (name, weight) in [("tw-light", 100), ("tw-heavy", 200)] {
        let spec = Spec::new()
            .cpu_weight(weight)
            .name(name)
            .map_err(|e| format!("name {name}: {}", e.description()))?
            .build();
        ids.push(container::create(&spec).map_err(|e| format!("create: {}", e.description()))?);
    }
    let mut members = Vec::new();
    for &id in &ids {
        let (to_member_r, to_member_w) = fd::pipe().map_err(|_| "pipe")?;
        let (back_r, back_w) = fd::pipe().map_err(|_| "pipe")?;
        match process::fork().map_err(|_| "fork")? {
            Fork::Child => {
                let _ = fd::close(to_member_w);
                let _ = fd::close(back_r);
                process::exit(member(id, to_member_r, back_w))
            }
            Fork::Parent(_) => {
                let _ = fd::close(to_member_r);
                let _ = fd::close(back_w);
                members.push((to_member_w, back_r));
            }
        }
    }
    for &(w, r) in &members {
        let mut b = [0u8; 1];
        for _ in 0..ROUNDS {
            if fd::write(w, b"x") != Ok(1) || fd::read(r, &mut b) != Ok(1) {
                return Err(String::from("round trip"));
            }
        }
        let _ = fd::close(w);
    }
    // A member that joined a container is not the host's to wait for: it
    // sends its status down the pipe once it sees EOF (destroy reaps it).
    for &(_, r) in &members {
        let mut b = [0u8; 1];
        let got = fd::read(r, &mut b);
        let _ = fd::close(r);
        if got != Ok(1) || b[0] != 0 {
            return Err(format!("member (status {})", b[0]));
        }
    }
    for id in ids {
        container::destroy(id).map_err(|e| format!("destroy: {}", e.description()))?;
    }
    Ok(())
}

/// A member: joins `id`, runs its children, answers round trips until
/// EOF, then sends its status (0: all went well).
fn member(id: i32, r: fd::Fd, w: fd::Fd) -> i32 {
    let status = member_work(id, r, w);
    let _ = fd::write(w, &[status]);
    i32::from(status)
}

fn member_work(id: i32, r: fd::Fd, w: fd::Fd) -> u8 {
    if container::join(id).is_err() {
        return 2;
    }
    for _ in 0..FORKS {
        match process::fork() {
            Ok(Fork::Child) => {
                let e = process::exec("/nop", &["nop"]);
                eprintln!("tracework: exec nop: {}", e.description());
                process::exit(3)
            }
            Ok(Fork::Parent(_)) => {}
            Err(_) => return 4,
        }
    }
    for _ in 0..FORKS {
        if !matches!(process::wait(), Ok((_, 0))) {
            return 5;
        }
    }
    let mut b = [0u8; 1];
    while fd::read(r, &mut b) == Ok(1) {
        if fd::write(w, &b) != Ok(1) {
            return 6;
        }
    }
    0
}

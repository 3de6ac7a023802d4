//! init: the first process. Starts a program and reaps orphans forever.
//!
//! `init PROG ARGS...` runs `PROG ARGS...`; plain `init` runs `sh`. The
//! program runs as init's child with fds 0, 1 and 2 (the console, opened by
//! the kernel) inherited. When it exits, init prints its status and starts
//! it again, like xv6's init restarts the shell. If it cannot be started
//! (exec fails: for example there is no `sh` yet), the child reports why
//! and exits with [`EXEC_FAILED`]; init then stops restarting it but keeps
//! running, reaping the orphans the kernel hands it.
//!
//! init never exits: the kernel treats that as fatal.
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::process::{self, Fork};

entry!(main);

/// Exit status of init's child when exec failed (the shells' convention).
const EXEC_FAILED: i32 = 127;
/// Shortest time between two starts of the program, and the pause between
/// reaping rounds when init has no children: 1 s in ticks.
const RESTART_TICKS: i32 = 100;

fn main(args: Args) -> i32 {
    println!("init: starting");
    let mut command: Vec<&str> = args.skip(1).collect();
    if command.is_empty() {
        command.push("sh");
    }
    loop {
        let started = process::uptime();
        let pid = match process::fork() {
            Ok(Fork::Child) => {
                let e = process::exec(command[0], &command);
                eprintln!("init: cannot run {}: {}", command[0], e.description());
                process::exit(EXEC_FAILED);
            }
            Ok(Fork::Parent(pid)) => pid,
            Err(e) => {
                eprintln!("init: fork failed: {}", e.description());
                let _ = process::sleep(RESTART_TICKS);
                continue;
            }
        };
        let status = reap_until(pid);
        if status == EXEC_FAILED {
            println!("init: {} could not start; not restarting it", command[0]);
            reap_forever();
        }
        println!(
            "init: {} exited with status {status}; restarting it",
            command[0]
        );
        // At most one restart per RESTART_TICKS, so a program that dies at
        // once does not make init spin.
        let ran = process::uptime().saturating_sub(started);
        if ran < RESTART_TICKS as u64 {
            let _ = process::sleep(RESTART_TICKS - ran as i32);
        }
    }
}

/// Reaps children (orphans included) until `pid` exits; returns its status.
fn reap_until(pid: process::Pid) -> i32 {
    loop {
        match process::wait() {
            Ok((p, status)) if p == pid => return status,
            Ok(_) => {}
            // Cannot happen while `pid` is our child; do not spin if it does.
            Err(_) => {
                let _ = process::sleep(RESTART_TICKS);
            }
        }
    }
}

/// Reaps orphans forever; sleeps while there are none.
fn reap_forever() -> ! {
    loop {
        if process::wait().is_err() {
            let _ = process::sleep(RESTART_TICKS);
        }
    }
}

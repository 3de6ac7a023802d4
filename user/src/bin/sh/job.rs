//! Process groups, so that ^C interrupts the running command and not the
//! shell.
//!
//! The kernel kills the console's foreground process group on ^C
//! (`tcsetpgrp`). An interactive shell (one reading the console) puts
//! every command line item it forks into a new group led by that child and
//! makes a foreground item's group the foreground group while waiting for
//! it; at the prompt no group is in the foreground, so ^C there kills
//! nothing. Processes a job forks later (pipeline stages, the items of a
//! group) join the job's group explicitly, without relying on `fork` to
//! inherit it. A shell that is not interactive leaves groups alone: it
//! runs in its caller's job and ^C stops it together with that job.

use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use ulib::process::{self, Pid};
use ulib::sys;

/// Whether this shell manages process groups (set once at start).
static INTERACTIVE: AtomicBool = AtomicBool::new(false);
/// The group of the job this process belongs to; 0 in the shell itself.
static JOB: AtomicI32 = AtomicI32::new(0);

/// Turns group management on (the shell reads the console).
pub fn set_interactive() {
    INTERACTIVE.store(true, Ordering::Relaxed);
}

/// Whether this process is an interactive shell that is not inside a job.
fn is_shell() -> bool {
    INTERACTIVE.load(Ordering::Relaxed) && JOB.load(Ordering::Relaxed) == 0
}

/// What a forking process decided about its new child's group.
#[derive(Clone, Copy)]
pub struct Placement {
    /// The child leads a new job.
    leader: bool,
    /// The new job is to be the foreground group.
    foreground: bool,
}

/// Decides, before `fork`, where the child goes: a new job when this is
/// the shell itself, else the job this process is part of.
pub fn placement(foreground: bool) -> Placement {
    Placement {
        leader: is_shell(),
        foreground,
    }
}

/// In the new child, right after `fork`.
pub fn enter_child(p: Placement) {
    if p.leader {
        JOB.store(process::getpid(), Ordering::Relaxed);
        setpgid(0, 0);
    } else if INTERACTIVE.load(Ordering::Relaxed) {
        setpgid(0, JOB.load(Ordering::Relaxed));
    }
}

/// In the parent, right after `fork` created `child`. Both sides set the
/// group, so whichever runs first, the group exists before the parent
/// hands the console to it.
pub fn enter_parent(p: Placement, child: Pid) {
    if p.leader {
        setpgid(child, child);
        if p.foreground {
            tcsetpgrp(child);
        }
    }
}

/// In the parent, after waiting for the child: the console back to no group.
pub fn leave_parent(p: Placement) {
    if p.leader && p.foreground {
        tcsetpgrp(0);
    }
}

/// At the prompt: no group in the foreground, so ^C spares the shell.
pub fn at_prompt() {
    if is_shell() {
        tcsetpgrp(0);
    }
}

/// Errors are ignored: a child that already exited has no group to set.
fn setpgid(pid: Pid, pgid: Pid) {
    // SAFETY: no memory is involved.
    let _ = unsafe { sys::setpgid(pid, pgid) };
}

fn tcsetpgrp(pgid: Pid) {
    // SAFETY: no memory is involved.
    let _ = unsafe { sys::tcsetpgrp(pgid) };
}

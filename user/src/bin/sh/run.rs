//! Running parsed lines: builtins in the shell, everything else in children.
//!
//! - A line's pipelines run one after the other. A foreground one is run
//!   by a child the shell waits for; a lone `cd` or `exit` runs in the
//!   shell itself (as xv6 does for `cd`), so it changes the shell.
//! - A background pipeline (`&`) is run by a grandchild: the child the
//!   shell forks forks again and exits at once, and the shell reaps it
//!   right away. The grandchild, now an orphan, is reaped by init when it
//!   ends, so background jobs never pile up as zombies in the shell and the
//!   shell's `wait` only ever sees its foreground children.
//! - A pipeline of n commands is one child that forks n stages joined by
//!   pipes, waits for them all and exits with the last stage's status.
//! - A group `( ... )` runs its line in a child, so its `cd` stays inside.
//! - A simple command applies its redirections in order (the last one for
//!   a descriptor wins, as in POSIX shells) and execs `/NAME` when NAME has
//!   no slash, NAME itself otherwise.
//!
//! Every fork goes through `job`, which keeps process groups so that ^C
//! on the console interrupts the foreground job only.
//!
//! Exit statuses: 127 for a program that does not exist, 126 when exec
//! fails otherwise, 1 for a redirection that cannot be opened or a failed
//! fork; a process killed by `kill` reads as -1.

use ulib::abi::fcntl::{O_APPEND, O_CREATE, O_RDONLY, O_TRUNC, O_WRONLY};
use ulib::fd::{self, Fd};
use ulib::prelude::*;
use ulib::process::{self, Fork, Pid};

use crate::job;
use crate::parse::{Command, Item, Line, Redir, RedirKind};

/// Status of a command that was not found.
pub const NOT_FOUND: i32 = 127;
/// Status of a command found but not executable.
pub const CANNOT_EXEC: i32 = 126;

/// What the shell should do after a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Read the next line; the last foreground status.
    Continue(i32),
    /// The `exit` builtin ran: leave with this status.
    Exit(i32),
}

/// Runs every item of `line` in this process's context.
pub fn run_line(line: &Line) -> Next {
    let mut status = 0;
    for item in &line.0 {
        match run_item(item) {
            Next::Continue(s) => status = s,
            exit => return exit,
        }
    }
    Next::Continue(status)
}

fn run_item(item: &Item) -> Next {
    let stages = &item.pipeline.0;
    if item.background {
        return Next::Continue(background(item));
    }
    if let [Command::Simple { argv, redirs }] = &stages[..] {
        if let Some(next) = builtin(argv, redirs) {
            return next;
        }
    }
    Next::Continue(in_child(true, || run_pipeline(stages)).unwrap_or(1))
}

/// Starts `item` in an orphaned grandchild (see the module header).
fn background(item: &Item) -> i32 {
    let stages = &item.pipeline.0;
    in_child(false, || {
        let place = job::placement(false);
        match process::fork() {
            Ok(Fork::Child) => {
                job::enter_child(place);
                process::exit(run_pipeline(stages))
            }
            Ok(Fork::Parent(_)) => 0,
            Err(e) => {
                eprintln!("sh: fork: {}", e.description());
                1
            }
        }
    })
    .unwrap_or(1)
}

/// Runs `f` in a child and waits for it; its exit status, or `None`
/// (reported) if fork failed. From the interactive shell the child leads a
/// new job, in the foreground if `foreground` (see `job`).
fn in_child(foreground: bool, f: impl FnOnce() -> i32) -> Option<i32> {
    let place = job::placement(foreground);
    match process::fork() {
        Ok(Fork::Child) => {
            job::enter_child(place);
            process::exit(f())
        }
        Ok(Fork::Parent(pid)) => {
            job::enter_parent(place, pid);
            let status = wait_for(pid);
            job::leave_parent(place);
            Some(status)
        }
        Err(e) => {
            eprintln!("sh: fork: {}", e.description());
            None
        }
    }
}

/// Waits until `pid` exits; its status. Other children reaped meanwhile are forgotten.
fn wait_for(pid: Pid) -> i32 {
    loop {
        match process::wait() {
            Ok((p, status)) if p == pid => return status,
            Ok(_) => {}
            Err(_) => return 1,
        }
    }
}

/// Runs a pipeline in this (child) process: its exit status.
fn run_pipeline(stages: &[Command]) -> i32 {
    if let [only] = stages {
        return run_command(only);
    }
    let mut pids = Vec::with_capacity(stages.len());
    // Read end of the pipe from the previous stage.
    let mut input: Option<Fd> = None;
    let mut failed = false;
    for (i, cmd) in stages.iter().enumerate() {
        let pipe = if i + 1 < stages.len() {
            match fd::pipe() {
                Ok(p) => Some(p),
                Err(e) => {
                    eprintln!("sh: pipe: {}", e.description());
                    failed = true;
                    break;
                }
            }
        } else {
            None
        };
        let place = job::placement(true);
        match process::fork() {
            Ok(Fork::Child) => {
                job::enter_child(place);
                if let Some(r) = input {
                    move_fd(r, fd::STDIN);
                }
                if let Some((r, w)) = pipe {
                    let _ = fd::close(r);
                    move_fd(w, fd::STDOUT);
                }
                process::exit(run_command(cmd));
            }
            Ok(Fork::Parent(pid)) => pids.push(pid),
            Err(e) => {
                eprintln!("sh: fork: {}", e.description());
                failed = true;
            }
        }
        if let Some(r) = input.take() {
            let _ = fd::close(r);
        }
        if let Some((r, w)) = pipe {
            let _ = fd::close(w);
            input = Some(r);
        }
        if failed {
            break;
        }
    }
    if let Some(r) = input {
        let _ = fd::close(r);
    }
    let last = pids.last().copied();
    let mut status = 1;
    for _ in 0..pids.len() {
        match process::wait() {
            Ok((p, s)) if Some(p) == last => status = s,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    if failed {
        1
    } else {
        status
    }
}

/// Makes `to` refer to what `from` does and closes `from`.
fn move_fd(from: Fd, to: Fd) {
    if from != to {
        let _ = fd::redirect(from, to);
        let _ = fd::close(from);
    }
}

/// Runs one command in this (child) process; returns its status when it
/// could not replace the process (exec failed, builtin, group).
fn run_command(cmd: &Command) -> i32 {
    match cmd {
        Command::Group { body, redirs } => {
            if !apply_redirs(redirs) {
                return 1;
            }
            match run_line(body) {
                Next::Continue(s) | Next::Exit(s) => s,
            }
        }
        Command::Simple { argv, redirs } => {
            if !apply_redirs(redirs) {
                return 1;
            }
            if let Some(next) = builtin(argv, &[]) {
                return match next {
                    Next::Continue(s) | Next::Exit(s) => s,
                };
            }
            match argv.first() {
                Some(name) => exec(name, argv),
                None => 0,
            }
        }
    }
}

/// Execs `name` (as `/name` when it has no slash); returns the status to
/// exit with when that fails, after saying why.
fn exec(name: &str, argv: &[String]) -> i32 {
    let path = if name.contains('/') {
        String::from(name)
    } else {
        format!("/{name}")
    };
    let args: Vec<&str> = argv.iter().map(String::as_str).collect();
    match process::exec(&path, &args) {
        Errno::ENOENT if !name.contains('/') => {
            eprintln!("sh: {name}: command not found");
            NOT_FOUND
        }
        Errno::ENOENT => {
            eprintln!("sh: {name}: {}", Errno::ENOENT.description());
            NOT_FOUND
        }
        e => {
            eprintln!("sh: {name}: {}", e.description());
            CANNOT_EXEC
        }
    }
}

/// Opens each redirection's file and moves it to its descriptor; false
/// (reported) if one cannot be opened.
fn apply_redirs(redirs: &[Redir]) -> bool {
    for r in redirs {
        let (flags, target) = redir_target(r.kind);
        match fd::open(&r.file, flags) {
            Ok(f) => move_fd(f, target),
            Err(e) => {
                eprintln!("sh: cannot open {}: {}", r.file, e.description());
                return false;
            }
        }
    }
    true
}

fn redir_target(kind: RedirKind) -> (u32, Fd) {
    match kind {
        RedirKind::In => (O_RDONLY, fd::STDIN),
        RedirKind::Out => (O_WRONLY | O_CREATE | O_TRUNC, fd::STDOUT),
        RedirKind::Append => (O_WRONLY | O_CREATE | O_APPEND, fd::STDOUT),
    }
}

/// Runs `cd` or `exit` in this process; `None` for any other command.
/// Their redirections only create (or empty) the files named: neither
/// builtin reads input or writes output other than error messages.
fn builtin(argv: &[String], redirs: &[Redir]) -> Option<Next> {
    let name = argv.first()?.as_str();
    if name != "cd" && name != "exit" {
        return None;
    }
    for r in redirs {
        match fd::open(&r.file, redir_target(r.kind).0) {
            Ok(f) => {
                let _ = fd::close(f);
            }
            Err(e) => {
                eprintln!("sh: cannot open {}: {}", r.file, e.description());
                return Some(Next::Continue(1));
            }
        }
    }
    let args = &argv[1..];
    Some(match (name, args) {
        ("cd", [] | [_]) => {
            let dir = args.first().map_or("/", String::as_str);
            match fd::chdir(dir) {
                Ok(()) => Next::Continue(0),
                Err(e) => {
                    eprintln!("sh: cd: {dir}: {}", e.description());
                    Next::Continue(1)
                }
            }
        }
        ("cd", _) => {
            eprintln!("sh: cd: too many arguments");
            Next::Continue(2)
        }
        (_, []) => Next::Exit(0),
        (_, [n]) => match n.parse::<i32>() {
            Ok(status) => Next::Exit(status),
            Err(_) => {
                eprintln!("sh: exit: {n}: {}", Errno::EINVAL.description());
                Next::Continue(2)
            }
        },
        _ => {
            eprintln!("sh: exit: too many arguments");
            Next::Continue(2)
        }
    })
}

//! ctr: the container manager, shaped like the docker CLI.
//!
//! ```text
//! ctr create [OPTIONS]                 make a container, print its id
//! ctr run [OPTIONS] [--rm] CMD ARGS... create, run CMD in it, wait, print its status
//! ctr exec CID|NAME CMD ARGS...        run CMD in an existing container
//! ctr ps [CID|NAME]                    processes (on the host: CTR and both pids)
//! ctr ls                               containers
//! ctr stats [--no-stream]              CPU %, switches, procs, pages, files, denied calls
//! ctr diff CID|NAME                    A/C/D lines of its file changes
//! ctr pause|resume CID|NAME...         the freezer
//! ctr update [OPTIONS] CID|NAME        change weight, limits, deny set
//! ctr rm [-f] CID|NAME...              destroy (-f: even with live processes)
//! ctr log sched|mem on|off             the assignment's console logs
//! ```
//!
//! OPTIONS: `--name N`, `--cpu-weight W` (1..10000), `--pids-limit P`,
//! `--memory PAGES`, `--deny CALL,...`, `--pid=host`, `--allow-leave`
//! (update takes the first four and `--deny`). Every command takes
//! `--help`. Errors are `ctr: <what went wrong>` on fd 2; the exit status is
//! 0 on success, 1 on an error, 2 on a usage error (with the usage line).
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

mod lifecycle;
mod show;
mod stats;

use ulib::abi::container::ContainerInfo;
use ulib::container;
use ulib::prelude::*;

entry!(main);

/// How a command failed.
pub enum Fail {
    /// Bad command line: the message, then the command's usage (status 2).
    Usage(String),
    /// Something went wrong (status 1).
    Error(String),
    /// Failed, and already said so (status 1, no further message).
    Quiet,
}

/// What a command returns.
pub type CmdResult = Result<(), Fail>;

/// One subcommand: name, usage line (after `ctr `), what it does, the code.
struct Command {
    name: &'static str,
    usage: &'static str,
    about: &'static str,
    run: fn(&[&str]) -> CmdResult,
}

const OPTIONS: &str = "OPTIONS: --name N, --cpu-weight W (1..10000), --pids-limit P, \
--memory PAGES, --deny CALL,..., --pid=host, --allow-leave";

const COMMANDS: &[Command] = &[
    Command {
        name: "create",
        usage: "create [OPTIONS]",
        about: "make a container and print its id",
        run: lifecycle::create,
    },
    Command {
        name: "run",
        usage: "run [OPTIONS] [--rm] CMD ARGS...",
        about: "create a container, run CMD in it, wait and print its exit status",
        run: lifecycle::run,
    },
    Command {
        name: "exec",
        usage: "exec CID|NAME CMD ARGS...",
        about: "run CMD in a container, wait and print its exit status",
        run: lifecycle::exec,
    },
    Command {
        name: "ps",
        usage: "ps [CID|NAME]",
        about: "list processes (all, or one container's)",
        run: show::ps,
    },
    Command {
        name: "ls",
        usage: "ls",
        about: "list containers",
        run: show::ls,
    },
    Command {
        name: "stats",
        usage: "stats [--no-stream]",
        about: "CPU %, switches, processes, pages, files, denied calls (refreshed until ^C)",
        run: stats::stats,
    },
    Command {
        name: "diff",
        usage: "diff CID|NAME",
        about: "the container's file changes (A added, C changed, D deleted)",
        run: show::diff,
    },
    Command {
        name: "pause",
        usage: "pause CID|NAME...",
        about: "freeze containers",
        run: lifecycle::pause,
    },
    Command {
        name: "resume",
        usage: "resume CID|NAME...",
        about: "thaw containers",
        run: lifecycle::resume,
    },
    Command {
        name: "update",
        usage:
            "update [--cpu-weight W] [--pids-limit P] [--memory PAGES] [--deny CALL,...] CID|NAME",
        about: "change a container's weight, limits or deny set",
        run: lifecycle::update,
    },
    Command {
        name: "rm",
        usage: "rm [-f] CID|NAME...",
        about: "destroy containers (-f: even with live processes)",
        run: lifecycle::rm,
    },
    Command {
        name: "log",
        usage: "log sched|mem on|off",
        about: "turn the scheduler or memory log on or off",
        run: lifecycle::log,
    },
];

fn main(args: Args) -> i32 {
    let argv: Vec<&str> = args.collect();
    let Some(&name) = argv.get(1) else {
        print_overview(true);
        return 2;
    };
    if name == "--help" || name == "-h" || name == "help" {
        print_overview(false);
        return 0;
    }
    let Some(cmd) = COMMANDS.iter().find(|c| c.name == name) else {
        eprintln!("ctr: unknown command {name}");
        print_overview(true);
        return 2;
    };
    let rest = &argv[2..];
    // `--help` anywhere before an operand that is a command line (run/exec's CMD).
    if rest.first() == Some(&"--help")
        || (rest.contains(&"--help") && !matches!(name, "run" | "exec"))
    {
        println!("usage: ctr {}", cmd.usage);
        println!("{}", cmd.about);
        if matches!(name, "create" | "run") {
            println!("{OPTIONS}");
        }
        return 0;
    }
    match (cmd.run)(rest) {
        Ok(()) => 0,
        Err(Fail::Error(why)) => {
            eprintln!("ctr: {why}");
            1
        }
        Err(Fail::Quiet) => 1,
        Err(Fail::Usage(why)) => {
            eprintln!("ctr: {why}");
            eprintln!("usage: ctr {}", cmd.usage);
            2
        }
    }
}

/// The command list, on fd 2 after a usage error or fd 1 for `--help`.
fn print_overview(to_stderr: bool) {
    let mut text = String::from("usage: ctr COMMAND [ARGS...] (ctr COMMAND --help for more)\n");
    for c in COMMANDS {
        text += &format!("  ctr {}\n", c.usage);
    }
    if to_stderr {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
}

/// A usage failure.
pub fn usage(why: impl Into<String>) -> Fail {
    Fail::Usage(why.into())
}

/// A failure naming what was being done and the kernel's reason.
pub fn sys_error(what: &str, e: Errno) -> Fail {
    Fail::Error(format!("{what}: {}", e.description()))
}

/// The containers the caller can see.
pub fn list() -> Result<Vec<ContainerInfo>, Fail> {
    container::containers().map_err(|e| sys_error("listing containers", e))
}

/// The container `arg` (an id or a name) names.
pub fn resolve(arg: &str) -> Result<ContainerInfo, Fail> {
    let all = list()?;
    container::find(arg, &all)
        .copied()
        .ok_or_else(|| Fail::Error(format!("no such container: {arg}")))
}

/// `name (id)` for messages.
pub fn label(c: &ContainerInfo) -> String {
    format!("{} ({})", container::name_of(c), c.id)
}

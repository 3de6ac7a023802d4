//! The commands that change containers: create, run, exec, pause, resume,
//! update, rm, and the console logs.

use ulib::abi::container::{ContainerInfo, UPDATE_FLAGS};
use ulib::abi::limits::KILLED_STATUS;
use ulib::container::{self, Cid, SpecArgs, SpecCommand};
use ulib::prelude::*;
use ulib::process::{self, Fork};

use crate::{label, resolve, sys_error, usage, CmdResult, Fail};

/// Status of a child whose program could not be found (as the shell's).
const NOT_FOUND: i32 = 127;
/// Status of a child whose program could not be run.
const CANNOT_EXEC: i32 = 126;

/// Creates the container `spec` asks for; returns its id.
fn make(spec: &ulib::abi::container::ContainerSpec) -> Result<Cid, Fail> {
    container::create(spec).map_err(|e| match e {
        Errno::EEXIST => Fail::Error(format!(
            "create: the id or name is taken ({})",
            e.description()
        )),
        Errno::EAGAIN => Fail::Error(format!(
            "create: all containers are in use ({})",
            e.description()
        )),
        e => sys_error("create", e),
    })
}

/// `ctr create [OPTIONS]`: prints the new id.
pub fn create(args: &[&str]) -> CmdResult {
    let opts = SpecArgs::parse(args, SpecCommand::Create).map_err(usage)?;
    if let Some(extra) = args.get(opts.consumed) {
        return Err(usage(format!("unexpected argument {extra}")));
    }
    let id = make(&opts.spec)?;
    println!("{id}");
    Ok(())
}

/// `ctr run [OPTIONS] [--rm] CMD ARGS...`.
pub fn run(args: &[&str]) -> CmdResult {
    let opts = SpecArgs::parse(args, SpecCommand::Run).map_err(usage)?;
    let cmd = &args[opts.consumed..];
    if cmd.is_empty() {
        return Err(usage("no command to run"));
    }
    let id = make(&opts.spec)?;
    let ran = run_in(id, cmd);
    if opts.rm {
        // Whatever is left (children the command left behind) goes with it.
        if let Err(e) = container::destroy(id) {
            let rm = sys_error(&format!("rm {id}"), e);
            return ran.and(Err(rm));
        }
    }
    ran
}

/// `ctr exec CID|NAME CMD ARGS...`.
pub fn exec(args: &[&str]) -> CmdResult {
    let Some((target, cmd)) = args.split_first() else {
        return Err(usage("no container given"));
    };
    if cmd.is_empty() {
        return Err(usage("no command to run"));
    }
    let c = resolve(target)?;
    run_in(c.id, cmd)
}

/// Forks a child that joins container `id` and execs `cmd`; waits for it
/// and prints `exit status N`. Fails unless the command exited with 0.
fn run_in(id: Cid, cmd: &[&str]) -> CmdResult {
    let child = match process::fork().map_err(|e| sys_error("fork", e))? {
        Fork::Child => process::exit(child_exec(id, cmd)),
        Fork::Parent(pid) => pid,
    };
    let mut others = Vec::new();
    let status = process::wait_for(child, &mut others).map_err(|e| sys_error("wait", e))?;
    if status == KILLED_STATUS {
        println!("exit status {status} (killed)");
    } else {
        println!("exit status {status}");
    }
    if status == 0 {
        Ok(())
    } else {
        // `exit status N` said it.
        Err(Fail::Quiet)
    }
}

/// In the child: join, then exec (`/CMD` when it has no slash, as the shell does).
fn child_exec(id: Cid, cmd: &[&str]) -> i32 {
    if let Err(e) = container::join(id) {
        eprintln!("ctr: joining container {id}: {}", e.description());
        return CANNOT_EXEC;
    }
    let path = if cmd[0].contains('/') {
        String::from(cmd[0])
    } else {
        format!("/{}", cmd[0])
    };
    let e = process::exec(&path, cmd);
    eprintln!("ctr: {}: {}", cmd[0], e.description());
    if e == Errno::ENOENT {
        NOT_FOUND
    } else {
        CANNOT_EXEC
    }
}

/// Applies `op` to every container argument; reports each failure and goes on.
fn each(args: &[&str], what: &str, op: fn(Cid) -> Result<(), Errno>) -> CmdResult {
    if args.is_empty() {
        return Err(usage("no container given"));
    }
    let mut failed = None;
    for a in args {
        let r = resolve(a).and_then(|c| op(c.id).map_err(|e| sys_error(&format!("{what} {a}"), e)));
        if let Err(f) = r {
            if let Some(Fail::Error(why)) = failed.replace(f) {
                eprintln!("ctr: {why}");
            }
        }
    }
    failed.map_or(Ok(()), Err)
}

/// `ctr pause CID|NAME...`.
pub fn pause(args: &[&str]) -> CmdResult {
    each(args, "pause", container::pause)
}

/// `ctr resume CID|NAME...`.
pub fn resume(args: &[&str]) -> CmdResult {
    each(args, "resume", container::resume)
}

/// `ctr update [OPTIONS] CID|NAME`.
pub fn update(args: &[&str]) -> CmdResult {
    let opts = SpecArgs::parse(args, SpecCommand::Update).map_err(usage)?;
    let rest = &args[opts.consumed..];
    let [target] = rest else {
        return Err(usage(if rest.is_empty() {
            "no container given"
        } else {
            "give one container"
        }));
    };
    if opts.spec.flags & UPDATE_FLAGS == 0 {
        return Err(usage("nothing to update"));
    }
    let c = resolve(target)?;
    container::update(c.id, &opts.spec).map_err(|e| sys_error(&format!("update {target}"), e))
}

/// `ctr rm [-f] CID|NAME...`: without -f a container with live processes
/// is refused, as `docker rm` refuses a running one.
pub fn rm(args: &[&str]) -> CmdResult {
    let (force, targets) = match args.split_first() {
        Some((&"-f", rest)) | Some((&"--force", rest)) => (true, rest),
        _ => (false, args),
    };
    if targets.is_empty() {
        return Err(usage("no container given"));
    }
    if let Some(opt) = targets.iter().find(|a| a.starts_with('-')) {
        return Err(usage(format!("unknown option {opt}")));
    }
    let mut failed = None;
    for a in targets {
        let r = resolve(a).and_then(|c| remove(&c, force));
        match r {
            Ok(()) => println!("{a}"),
            Err(f) => {
                if let Some(Fail::Error(why)) = failed.replace(f) {
                    eprintln!("ctr: {why}");
                }
            }
        }
    }
    failed.map_or(Ok(()), Err)
}

fn remove(c: &ContainerInfo, force: bool) -> CmdResult {
    if !force && c.procs > 0 {
        return Err(Fail::Error(format!(
            "cannot remove container {}: it has {} live process{} (stop {} or use rm -f)",
            label(c),
            c.procs,
            if c.procs == 1 { "" } else { "es" },
            if c.procs == 1 { "it" } else { "them" },
        )));
    }
    container::destroy(c.id).map_err(|e| sys_error(&format!("rm {}", label(c)), e))
}

/// `ctr log sched|mem on|off`.
pub fn log(args: &[&str]) -> CmdResult {
    let [which, state] = args else {
        return Err(usage("give a log and on or off"));
    };
    let on = match *state {
        "on" => true,
        "off" => false,
        s => return Err(usage(format!("{s}: want on or off"))),
    };
    let r = match *which {
        "sched" => container::scheduler_log(on),
        "mem" => container::memory_log(on),
        w => return Err(usage(format!("no such log: {w} (sched or mem)"))),
    };
    r.map_err(|e| sys_error(&format!("log {which} {state}"), e))
}

//! The commands that only look: ps, ls, diff.

use ulib::abi::container::container_state;
use ulib::abi::limits::NPROC;
use ulib::abi::syscall::{proc_state, ProcInfo};
use ulib::container;
use ulib::prelude::*;
use ulib::process;

use crate::{list, resolve, sys_error, usage, CmdResult};

/// `ctr ps [CID|NAME]`: every visible process, or one container's, with
/// its container and both pids (the caller's numbering and its own).
pub fn ps(args: &[&str]) -> CmdResult {
    let only = match args {
        [] => None,
        [target] => Some(resolve(target)?.id),
        _ => return Err(usage("give at most one container")),
    };
    let mut rows = vec![ProcInfo::default(); NPROC];
    let n = process::ps(&mut rows).map_err(|e| sys_error("ps", e))?;
    println!("CTR   PID  VPID  PPID STATE  NAME");
    for p in rows[..n.min(NPROC)]
        .iter()
        .filter(|p| only.is_none_or(|id| p.container == id))
    {
        println!(
            "{:>3} {:>5} {:>5} {:>5} {:<6} {}",
            p.container,
            p.pid,
            p.vpid,
            p.ppid,
            proc_state::name(p.state),
            process::proc_name(p)
        );
    }
    Ok(())
}

/// `ctr ls`: one row per container.
pub fn ls(args: &[&str]) -> CmdResult {
    if let Some(a) = args.first() {
        return Err(usage(format!("unexpected argument {a}")));
    }
    println!(
        "ID  NAME             STATE   PROCS PAGES/LIMIT       WEIGHT FLAGS            HOSTNAME"
    );
    for c in list()? {
        let procs = limit(c.procs.into(), c.max_procs.into());
        let pages = limit(c.pages, c.max_pages);
        let mut flags = Vec::new();
        if c.flags & ulib::abi::container::SPEC_ALLOW_LEAVE != 0 {
            flags.push("allow-leave");
        }
        if c.flags & ulib::abi::container::SPEC_PID_HOST != 0 {
            flags.push("pid=host");
        }
        let deny = container::deny_names(&c.deny);
        let flags = match (flags.is_empty(), deny.is_empty()) {
            (true, true) => String::from("-"),
            _ => {
                let mut all: Vec<String> = flags.into_iter().map(String::from).collect();
                if !deny.is_empty() {
                    all.push(format!("deny={}", deny.join(",")));
                }
                all.join(" ")
            }
        };
        println!(
            "{:<3} {:<16} {:<7} {:<5} {:<17} {:<6} {:<16} {}",
            c.id,
            container::name_of(&c),
            container_state::name(c.state),
            procs,
            pages,
            c.cpu_weight,
            flags,
            container::field_str(&c.hostname)
        );
    }
    Ok(())
}

/// `used/limit`, `-` for no limit.
pub fn limit(used: u64, max: u64) -> String {
    if max == 0 {
        format!("{used}/-")
    } else {
        format!("{used}/{max}")
    }
}

/// `ctr diff CID|NAME`.
pub fn diff(args: &[&str]) -> CmdResult {
    let [target] = args else {
        return Err(usage("give one container"));
    };
    let c = resolve(target)?;
    let text = container::diff(c.id).map_err(|e| sys_error(&format!("diff {target}"), e))?;
    ulib::fd::write_all(ulib::fd::STDOUT, &text).map_err(|e| sys_error("write", e))
}

//! Managing containers: create, update, destroy, pause, resume, listings,
//! hostname (see `berth_abi::container` for each call's contract). Only
//! host processes manage containers (`EPERM` from inside one).
//!
//! `MANAGE` (a sleep lock) serialises create against create, so a free id
//! or name found stays free until the new container is in the table; it is
//! not held while destroy waits for a container's processes to die, and no
//! scheduling, wakeup or system-call path takes it.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{fence, Ordering};

use berth_abi::container::{c_field, ContainerInfo, ContainerSpec, HOSTNAME_LEN, MAX_CONTAINERS};
use berth_abi::errno::Errno;
use berth_abi::syscall::proc_state;

use super::{all, build, insert, lookup, remove, spec, Container};
use crate::proc::{lifecycle, Proc, State};
use crate::sync::SleepLock;

static MANAGE: SleepLock<()> = SleepLock::new("containers", ());

fn host_only(caller: &Proc) -> Result<(), Errno> {
    if caller.on_host() {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

/// A live container by id argument.
fn target(caller: &Proc, id: i32) -> Result<Arc<Container>, Errno> {
    host_only(caller)?;
    let id = spec::check_id(id)?;
    lookup(id).filter(|c| c.is_alive()).ok_or(Errno::ESRCH)
}

fn name_taken(name: &[u8]) -> bool {
    all().iter().any(|c| c_field(&c.name) == name)
}

/// `create_container(spec)`: the new container's id.
pub fn create(caller: &Proc, spec: &ContainerSpec) -> Result<i32, Errno> {
    host_only(caller)?;
    crate::mm::heap::check_room()?;
    let (want, flags, limits) = spec::check_create(spec)?;
    let name = spec::check_name(&spec.name)?;
    let _one_at_a_time = MANAGE.lock();
    if !name.is_empty() && name_taken(name) {
        return Err(Errno::EEXIST);
    }
    let id = if want == 0 {
        (1..=MAX_CONTAINERS)
            .find(|&i| lookup(i).is_none())
            .ok_or(Errno::EAGAIN)?
    } else if lookup(want).is_some() {
        return Err(Errno::EEXIST);
    } else {
        want
    };
    let default_name;
    let name = if name.is_empty() {
        default_name = unique_default_name(id);
        default_name.as_slice()
    } else {
        name
    };
    insert(build(id, name, flags, &limits))?;
    Ok(id as i32)
}

/// `c<id>`, or `c<id>.<n>` if a container was named that.
fn unique_default_name(id: usize) -> Vec<u8> {
    let mut n = 0;
    loop {
        let s = if n == 0 {
            alloc::format!("c{id}")
        } else {
            alloc::format!("c{id}.{n}")
        };
        if !name_taken(s.as_bytes()) {
            return s.into_bytes();
        }
        n += 1;
    }
}

/// `update_container(id, spec)`.
pub fn update(caller: &Proc, id: i32, spec: &ContainerSpec) -> Result<(), Errno> {
    let c = target(caller, id)?;
    let new = spec::apply_update(&c.limits(), spec)?;
    c.set_limits(&new);
    Ok(())
}

/// `destroy_container(id)`: kill every member, wait until each has exited
/// and is reaped (zombies are taken from their parents), discard the
/// layer, then free the id.
pub fn destroy(caller: &Proc, id: i32) -> Result<(), Errno> {
    let c = target(caller, id)?;
    if !c.begin_destroy() {
        return Err(Errno::ESRCH); // another destroy got there first
    }
    fence(Ordering::SeqCst);
    // Frozen members must run to die.
    c.set_paused(false);
    loop {
        for m in c.member_procs() {
            lifecycle::kill_member(&m);
        }
        let g = c.emptied_lock.lock();
        if c.live_members() == 0 {
            break;
        }
        // Not interruptible: a container half destroyed would be stuck
        // dying; its members are killed and each exit wakes us.
        drop(c.emptied.sleep(g));
    }
    lifecycle::reap_container(c.serial);
    // Its layer goes before the id is free (a failure leaves it to mount).
    if let Some(view) = &c.view {
        if let Err(e) = view.discard_layer() {
            crate::println!("container {}: layer not removed: {}", c.id, e.description());
        }
    }
    remove(c.id as usize);
    Ok(())
}

/// `pause_container(id)`: returns once no member can run user code until
/// resumed. Every way back to user mode passes the freezer (the return
/// from a system call or a trap, a new process's first entry), so a member
/// seen off its CPU once after the flag is set is held; this waits until
/// each has been (one computing is preempted within a tick).
pub fn pause(caller: &Proc, id: i32) -> Result<(), Errno> {
    let c = target(caller, id)?;
    c.set_paused(true);
    // Members on a CPU now reach the freezer at once, not at their next tick.
    crate::proc::sched::kick_group(c.id);
    let mut running = c.member_procs();
    loop {
        running.retain(|p| p.state() == State::Running && p.vstate() != proc_state::FROZEN);
        if running.is_empty() || !c.is_paused() {
            break;
        }
        if crate::time::sleep_ticks(1).is_err() {
            break; // the caller was killed: the container stays paused
        }
    }
    Ok(())
}

/// `resume_container(id)`.
pub fn resume(caller: &Proc, id: i32) -> Result<(), Errno> {
    target(caller, id)?.set_paused(false);
    Ok(())
}

/// `containers(out, max)`: the rows the caller may see.
pub fn list(caller: &Proc, max: usize) -> Vec<ContainerInfo> {
    let mut rows: Vec<ContainerInfo> = if caller.on_host() {
        all().iter().map(|c| c.info()).collect()
    } else {
        alloc::vec![caller.container().info()]
    };
    rows.truncate(max);
    rows
}

/// `sethostname(name)` for the caller's container.
pub fn set_hostname(caller: &Proc, name: &[u8]) -> Result<(), Errno> {
    // Printable ASCII, as container names: `ctr ls` shows it to the host.
    if name.len() >= HOSTNAME_LEN || !name.iter().all(u8::is_ascii_graphic) {
        return Err(Errno::EINVAL);
    }
    caller.container().set_hostname(name);
    Ok(())
}

/// `container_diff(id)`: its changes to the host tree, one `A`/`C`/`D`
/// line each. A container sees the host tree through its layer; until
/// something is written there is nothing to list.
pub fn diff(id: usize) -> Result<Vec<u8>, Errno> {
    let c = lookup(id).filter(|c| c.is_alive()).ok_or(Errno::ESRCH)?;
    c.layer_diff()
}

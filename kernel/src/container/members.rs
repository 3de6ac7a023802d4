//! The process side of containers: a process joining or leaving, a forked
//! child or a new process taking its place, an exiting one leaving, and the
//! freezer's stopping point.
//!
//! Only a process itself changes its container (join, leave, exit), so
//! these run on the process's own kernel stack with nothing else racing on
//! its container fields. A move first takes its place in the new container
//! (process limit, memory charge, a `procReferenceTable` slot), then
//! gives up the old one, so neither limit can be passed meanwhile.
//!
//! Invariant the scheduler relies on: the container a process names
//! (`Proc::container`, the group it is queued for when it gives way) has
//! it in its reference table, the only place a pick looks for it. A move
//! switches table, name and the running CPU's accounting in one step that
//! cannot be preempted ([`crate::proc::sched::unpreempted`]).
//!
//! Against destroy: a process entering a container is in its reference
//! table before it re-checks `containerAlive` (SeqCst on both sides), and
//! destroy clears `containerAlive` before it scans the table; so either
//! destroy sees and kills the newcomer, or the newcomer sees the container
//! dying and marks itself killed.

use alloc::sync::Arc;
use core::sync::atomic::{fence, Ordering};

use berth_abi::container::SPEC_ALLOW_LEAVE;
use berth_abi::errno::Errno;

use super::{host, lookup, spec, Container};
use crate::file::view::ProcFs;
use crate::param::{HOST_RESERVED_PROCS, KSTACK_PAGES};
use crate::proc::{lifecycle, Proc};
use berth_abi::limits::NPROC;

/// Takes a place for one more process in `c`: the process limit and the
/// kernel stack's charge. Undone by [`release_place`].
pub fn take_place(c: &Container) -> Result<(), Errno> {
    if !c.is_alive() {
        return Err(Errno::EAGAIN);
    }
    // The last process slots are the host's: a container at no limit of
    // its own still cannot take them all.
    if !c.is_host() && crate::proc::table::PROCS.live() + HOST_RESERVED_PROCS >= NPROC {
        return Err(Errno::EAGAIN);
    }
    c.try_add_member()?;
    if let Err(e) = c.mem.try_charge(KSTACK_PAGES) {
        c.remove_member();
        return Err(e);
    }
    Ok(())
}

/// Gives back a place taken by [`take_place`].
pub fn release_place(c: &Container) {
    c.mem.uncharge(KSTACK_PAGES);
    c.remove_member();
}

/// Records `p` (complete, not yet started) in its container's reference
/// table; a process forked into a container being destroyed is killed.
pub fn enter(p: &Arc<Proc>, c: &Container) {
    // A table has a slot for every process slot, and a process is in one
    // table (two, for a moment, in `transfer`): there is always room. A
    // process in no table would be queued where no pick can find it.
    let i = c
        .members()
        .insert(p.slot as u32)
        .expect("a container's reference table is full");
    p.ref_index.store(i, Ordering::Relaxed);
    fence(Ordering::SeqCst);
    if !c.is_alive() {
        p.killed.store(true, Ordering::Release);
    }
}

/// An exiting process leaves its container (at its final switch, a zombie
/// under its sched_lock, so nothing here sleeps): out of the reference
/// table, its place given back. It stays visible there as a zombie until
/// reaped.
pub fn exit(p: &Proc) {
    let c = p.container();
    c.members()
        .remove(p.ref_index.load(Ordering::Relaxed), p.slot as u32);
    release_place(&c);
}

/// Moves the calling process `p` from its container to `to`.
fn transfer(p: &Arc<Proc>, to: &Arc<Container>) -> Result<(), Errno> {
    let from = p.container();
    take_place(to)?;
    let vpid = to.next_pid(p.pid);
    if let Some(mm) = p.lock_mm().as_mut() {
        if let Err(e) = mm.move_to(to.mem.clone(), vpid) {
            release_place(to);
            return Err(e);
        }
    }
    let Some(i) = to.members().insert(p.slot as u32) else {
        if let Some(mm) = p.lock_mm().as_mut() {
            // Back to where its frames were charged a moment ago.
            let _ = mm.move_to(from.mem.clone(), p.vpid.load(Ordering::Relaxed));
        }
        release_place(to);
        return Err(Errno::EAGAIN);
    };
    // Unpreempted from here to the scheduler's accounting: a process that
    // gives way is queued for the group `container` names, and a pick
    // finds it only through that group's table. Preempted between leaving
    // `from`'s table and naming `to`, it was queued where no table holds
    // it, counted queued and never claimable: every CPU spun in its pick
    // for good (stress-sched hung that way). Preempted after naming `to`
    // but before `moved_container`, `from`'s running count went below zero.
    let old_pgid = crate::proc::sched::unpreempted(|| {
        from.members()
            .remove(p.ref_index.load(Ordering::Relaxed), p.slot as u32);
        p.ref_index.store(i, Ordering::Relaxed);
        *p.ctr.lock() = to.clone();
        p.vpid.store(vpid, Ordering::Relaxed);
        // A process starts its own group in its new numbering.
        let old_pgid = p.pgid.swap(vpid, Ordering::Relaxed);
        p.ctr_serial.store(to.serial, Ordering::Release);
        p.container.store(to.id, Ordering::Release);
        crate::proc::sched::moved_container(from.id, to.id);
        old_pgid
    });
    lifecycle::foreground_follows(p, from.serial, old_pgid);
    release_place(&from);
    fence(Ordering::SeqCst);
    if !to.is_alive() {
        p.killed.store(true, Ordering::Release);
    }
    // Paths now resolve in the new container's view, from its root.
    let fs = match &to.view {
        Some(v) => ProcFs::at_root(v.clone()).ok(),
        None => ProcFs::host().ok().flatten(),
    };
    let old = core::mem::replace(&mut *p.fs.lock(), fs);
    drop(old);
    Ok(())
}

/// `join_container(id)` by `p` (see `berth_abi::container`).
pub fn join(p: &Arc<Proc>, id: i32) -> Result<(), Errno> {
    if !p.on_host() {
        return Err(Errno::EPERM);
    }
    let id = spec::check_id(id)?;
    let c = lookup(id).filter(|c| c.is_alive()).ok_or(Errno::ESRCH)?;
    transfer(p, &c)
}

/// `leave_container()` by `p`.
pub fn leave(p: &Arc<Proc>) -> Result<(), Errno> {
    let c = p.container();
    if c.is_host() {
        return Err(Errno::EINVAL);
    }
    if c.flags & SPEC_ALLOW_LEAVE == 0 {
        return Err(Errno::EPERM);
    }
    transfer(p, host())
}

/// Whether `p`'s container is paused, so that `p` must stop at
/// [`freeze_point`] before it returns to user mode.
pub fn must_freeze(p: &Proc) -> bool {
    !p.on_host() && p.container().is_paused()
}

/// Where a process returning to user mode stops while its container is
/// paused (the freezer): it sleeps until resume, or until it is killed.
/// Nothing is held here, so a frozen process blocks nobody. Called with
/// interrupts on.
pub fn freeze_point(p: &Proc) {
    if !must_freeze(p) {
        return;
    }
    let c = p.container();
    p.frozen.store(true, Ordering::Relaxed);
    let mut g = c.freeze_lock.lock();
    while c.is_paused() && !p.killed() {
        g = c.thaw.sleep_interruptible(g);
    }
    drop(g);
    p.frozen.store(false, Ordering::Relaxed);
}

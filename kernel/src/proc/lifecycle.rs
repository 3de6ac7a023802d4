//! Process life: the first process, fork, exit, wait, kill and listings.
//!
//! Lock order (outer to inner): a parent's `children` → a process's
//! `sched_lock` → wait-queue locks (run queues take none); the one exception is an
//! exiting process, which holds its own `sched_lock` while it briefly takes
//! its parent's `children` (nothing takes a child's `sched_lock` while
//! holding its parent's `children`, so no cycle). `exit` hands its children
//! to init (pid 1) by moving its `children` list, and tells its parent
//! through the parent's `child_exited` queue after it is a zombie.
//!
//! Every operation that names another process takes the caller, and asks
//! the process table (`table.rs`) what the caller may see: inside a
//! container, only that container's processes, by its pid numbering. A
//! child is complete (container, pids, group, memory charged) before it is
//! published in the table. Init is recognised in one way, [`is_init`].

use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};

use berth_abi::errno::Errno;
use berth_abi::exit::ExitCode;
use berth_abi::limits::KILLED_STATUS;
use berth_abi::syscall::{ProcInfo, PROC_NAME_LEN};
use berth_abi::trace::event;

use super::table::PROCS;
use super::{sched, Identity, KernelStack, Proc, State};
use crate::arch::x86_64::fpu::FpuState;
use crate::arch::x86_64::trap::TrapFrame;
use crate::arch::x86_64::{cpu, debug_exit, paging, percpu, switch};
use crate::container::{self, members, Container};
use crate::file::FdTable;
use crate::mm::uvm::AddressSpace;
use crate::sched::wake::RunState;
use crate::sync::list::Link;
use crate::sync::{SleepLock, SpinLock, WaitQueue};

static INIT: spin::Once<Arc<Proc>> = spin::Once::new();

/// Who a new process is: its reserved slot and pid, its container (a
/// place there already taken), its pid and group in that numbering, its
/// name and parent.
struct Birth {
    slot: usize,
    pid: i32,
    ctr: Arc<Container>,
    vpid: i32,
    pgid: i32,
    name: String,
    parent: Weak<Proc>,
}

/// A complete process (not yet published nor started). On failure the
/// slot is released; the caller gives back the container place.
fn new_proc(
    b: Birth,
    mm: AddressSpace,
    files: FdTable,
    fs: Option<crate::file::view::ProcFs>,
    fpu: FpuState,
    frame: &TrapFrame,
) -> Result<Arc<Proc>, Errno> {
    let Some(kstack) = KernelStack::new() else {
        PROCS.release(b.slot);
        return Err(Errno::ENOMEM);
    };
    // SAFETY: a fresh, unused kernel stack.
    let rsp = unsafe { switch::prepare_first_entry(kstack.top(), frame) };
    Ok(Arc::new(Proc {
        pid: b.pid,
        slot: b.slot,
        run: RunState::new(),
        sched_lock: SpinLock::new("proc", ()),
        on_cpu: AtomicI32::new(0),
        killed: AtomicBool::new(false),
        container: AtomicI32::new(b.ctr.id),
        ctr_serial: AtomicU64::new(b.ctr.serial),
        ctr: SpinLock::new("proc container", b.ctr),
        vpid: AtomicI32::new(b.vpid),
        ref_index: AtomicUsize::new(usize::MAX),
        frozen: AtomicBool::new(false),
        pgid: AtomicI32::new(b.pgid),
        cpu: AtomicI32::new(-1),
        cycles: AtomicU64::new(0),
        saved_rsp: UnsafeCell::new(rsp),
        kstack,
        fpu: UnsafeCell::new(fpu),
        identity: SpinLock::new(
            "proc identity",
            Identity {
                name: b.name,
                parent: b.parent,
                exit_status: 0,
            },
        ),
        page_root: AtomicU64::new(mm.root()),
        mm_pages: AtomicU64::new(mm.size_bytes() / 4096),
        mm: SleepLock::new("proc mm", Some(mm)),
        files: SpinLock::new("fd table", files),
        fs: SpinLock::new("proc fs", fs),
        children: SpinLock::new("children", Vec::new()),
        child_exited: WaitQueue::new(),
        is_test_program: AtomicBool::new(false),
        wait_link: Link::new(),
    }))
}

/// Publishes a complete process: in its container's reference table, then
/// in the process table.
fn publish(p: &Arc<Proc>) {
    members::enter(p, &p.container());
    PROCS.install(p.clone());
}

fn start(p: &Arc<Proc>) {
    p.set_state(State::Runnable);
    sched::enqueue(p);
}

/// Creates pid 1 running `program` with `args`, its fds 0-2 on the console.
pub fn spawn_init(program: &str, args: &[&str]) -> Result<(), Errno> {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    let ctr = container::host().clone();
    members::take_place(&ctr)?;
    let (slot, pid) = PROCS.reserve().ok_or(Errno::EAGAIN)?;
    let fs = crate::file::view::ProcFs::host()?;
    let (mm, frame) =
        super::exec::load_program(fs.as_ref(), program.as_bytes(), &args, ctr.mem.clone(), pid)?;
    let mut files = FdTable::new();
    let console = crate::file::File::device(
        berth_abi::fs::CONSOLE_MAJOR,
        0,
        true,
        true,
        ctr.files.charge()?,
    )?;
    for _ in 0..3 {
        files.alloc(console.clone())?;
    }
    let birth = Birth {
        slot,
        pid,
        ctr,
        vpid: pid,
        pgid: pid,
        name: String::from(program),
        parent: Weak::new(),
    };
    let p = new_proc(birth, mm, files, fs, FpuState::initial(), &frame)?;
    INIT.call_once(|| p.clone());
    publish(&p);
    start(&p);
    Ok(())
}

/// Whether `p` is init (pid 1: it adopts orphans and must never end).
pub fn is_init(p: &Proc) -> bool {
    INIT.get()
        .is_some_and(|init| core::ptr::eq(Arc::as_ptr(init), p))
}

/// `fork`: a copy of the caller, in the caller's container; returns the
/// child's pid in the caller's numbering (the child sees 0). `EAGAIN` at
/// the process table's or the container's process limit, `ENOMEM` at its
/// page limit.
pub fn fork(parent: &Arc<Proc>, frame: &TrapFrame) -> Result<i32, Errno> {
    let ctr = parent.container();
    members::take_place(&ctr)?;
    let child = fork_in(parent, frame, ctr.clone());
    match child {
        Ok(child) => {
            // Read before it runs: a child may join a container (and be
            // renumbered) before we return.
            let pid = child.vpid.load(Ordering::Relaxed);
            parent.children.lock().push(child.clone());
            publish(&child);
            // A kill of the parent's group (^C) scans the table, kills, then
            // scans again (SeqCst both sides): it finds the child, or we
            // see the parent killed and the child goes with it.
            core::sync::atomic::fence(Ordering::SeqCst);
            if parent.killed() {
                child.killed.store(true, Ordering::Release);
            }
            if crate::trace::on(event::FORK) {
                let cid = parent.container.load(Ordering::Relaxed);
                crate::trace::emit(event::FORK, parent.pid, cid, child.pid as u32, 0);
            }
            start(&child);
            Ok(pid)
        }
        Err(e) => {
            members::release_place(&ctr);
            Err(e)
        }
    }
}

fn fork_in(parent: &Arc<Proc>, frame: &TrapFrame, ctr: Arc<Container>) -> Result<Arc<Proc>, Errno> {
    let (slot, pid) = PROCS.reserve().ok_or(Errno::EAGAIN)?;
    let vpid = ctr.next_pid(pid);
    // The parent's own address space, locked with interrupts on: nothing
    // else changes it while it forks.
    let mm = parent
        .lock_mm()
        .as_mut()
        .ok_or(Errno::EFAULT)
        .and_then(|mm| mm.duplicate(vpid));
    let mm = match mm {
        Ok(mm) => mm,
        Err(e) => {
            PROCS.release(slot);
            return Err(e);
        }
    };
    let files = parent.files.lock().clone();
    let fs = parent.fs.lock().clone();
    let mut child_frame = *frame;
    child_frame.rax = 0;
    let name = parent.name();
    // The parent is running: its FPU state is in the registers.
    let mut fpu = FpuState::initial();
    fpu.save();

    // A child starts in its parent's process group (so ^C reaches a whole pipeline).
    let birth = Birth {
        slot,
        pid,
        ctr,
        vpid,
        pgid: parent.pgid.load(Ordering::Relaxed),
        name,
        parent: Arc::downgrade(parent),
    };
    new_proc(birth, mm, files, fs, fpu, &child_frame)
}

/// `exit`: release resources, become a zombie, wake the parent. Never returns.
///
/// `p` must be the last counted reference the calling kernel stack holds:
/// the stack is abandoned, so any other `Arc<Proc>` in a caller's frame is
/// never dropped and the process (its kernel stack, its slot's memory) leaks.
/// Hence exit is called only from the outermost kernel frames (the trap and
/// system-call dispatchers), which move their reference in.
pub fn exit(p: Arc<Proc>, status: i32) -> ! {
    if is_init(&p) {
        panic!("init exiting with status {status}");
    }
    // Files first: closing a pipe end wakes the other side.
    let files = p.files.lock().take_all();
    drop(files);
    let fs = p.fs.lock().take();
    drop(fs);
    // Leave the user address space before freeing it, atomically with taking
    // it out (see exec.rs: a preemption in between would switch us back).
    let mm = {
        let mut slot = p.lock_mm();
        percpu::push_irq_off();
        p.page_root.store(0, Ordering::Relaxed);
        paging::activate_kernel_table();
        let mm = slot.take();
        percpu::pop_irq_off();
        mm
    };
    drop(mm);

    // Hand children to init.
    let orphans = core::mem::take(&mut *p.children.lock());
    if let Some(init) = INIT.get() {
        if !orphans.is_empty() {
            let mut adopted = init.children.lock();
            for c in orphans {
                c.identity.lock().parent = Arc::downgrade(init);
                adopted.push(c);
            }
            drop(adopted);
            init.child_exited.wake_all();
        }
    }

    p.identity.lock().exit_status = status;
    if crate::trace::on(event::EXIT) {
        let cid = p.container.load(Ordering::Relaxed);
        crate::trace::emit(event::EXIT, p.pid, cid, status as u32, 0);
    }
    sched::exit_switch(p, |p| {
        // Out of its container's reference table only now, with no
        // preemption possible before the final switch: a process preempted
        // after leaving the table would be queued in its container's group
        // where no pick (which walks the table) could ever claim it.
        members::exit(p);
        // The parent is read only now that we are a zombie: a parent exiting
        // at the same time either still lists us (and hands us, a zombie, to
        // init, waking it) or has already made init our parent (whom we
        // wake). Read earlier, we could wake a parent that had given us away.
        let parent = p.identity.lock().parent.upgrade();
        if let Some(parent) = parent {
            // A parent in wait() holds its children lock from its zombie
            // check until it is registered on child_exited; taking that lock
            // here (after we became a zombie) means the wakeup below cannot
            // fall between its check and its sleep.
            drop(parent.children.lock());
            parent.child_exited.wake_all();
        }
    })
}

/// `wait`: reaps a zombie child the caller can see; returns its pid (in
/// the caller's numbering) and exit status. `ECHILD` when no child is
/// visible (children that left the caller's container are not).
pub fn wait(p: &Arc<Proc>) -> Result<(i32, i32), Errno> {
    let mut kids = p.children.lock();
    loop {
        if !kids.iter().any(|c| c.pid_seen_by(p).is_some()) {
            return Err(Errno::ECHILD);
        }
        if let Some(i) = kids
            .iter()
            .position(|c| c.state() == State::Zombie && c.pid_seen_by(p).is_some())
        {
            let child = kids.swap_remove(i);
            drop(kids);
            // Make sure the child has fully left its CPU before freeing its stack.
            drop(child.sched_lock.lock());
            let status = child.identity.lock().exit_status;
            let pid = child.pid_seen_by(p).unwrap_or(child.pid);
            reaped_test_program(&child, status);
            PROCS.release(child.slot);
            return Ok((pid, status));
        }
        if p.killed() {
            return Err(Errno::EINTR);
        }
        kids = p.child_exited.sleep_interruptible(kids);
    }
}

/// Test mode: the program named on the command line ends QEMU with its
/// status once reaped (the test's hook, kept out of `exit`).
fn reaped_test_program(child: &Proc, status: i32) {
    if child.is_test_program.load(Ordering::Relaxed) && crate::cmdline::test_mode() {
        crate::println!("test program {} exited with status {status}", child.name());
        debug_exit::exit_qemu(if status == 0 {
            ExitCode::Success
        } else {
            ExitCode::Failure
        });
    }
}

/// `kill(pid)` by `caller`: marks the process the caller calls `pid`
/// killed and wakes it if it sleeps. `ESRCH` for a pid the caller cannot
/// see; init is not killable (`EPERM`): it adopts orphans and restarts the
/// shell, and its end would stop the system.
pub fn kill(caller: &Proc, pid: i32) -> Result<(), Errno> {
    let target = PROCS.find_visible(caller, pid).ok_or(Errno::ESRCH)?;
    if target.state() == State::Zombie {
        return Err(Errno::ESRCH);
    }
    if is_init(&target) {
        return Err(Errno::EPERM);
    }
    kill_member(&target);
    Ok(())
}

/// Destroy's last step, once every member of the container with `serial`
/// has exited: waits until each is a zombie (off its CPU), then takes it
/// from its parent and frees it, so no process of the container is left.
/// A parent waiting for it is woken (and finds it gone: `ECHILD` if it had
/// no other child).
pub fn reap_container(serial: u64) {
    loop {
        let left: Vec<Arc<Proc>> = PROCS
            .visible(None)
            .into_iter()
            .filter(|p| p.ctr_serial.load(Ordering::Acquire) == serial)
            .collect();
        if left.is_empty() {
            return;
        }
        for z in left.iter().filter(|z| z.state() == State::Zombie) {
            let Some(parent) = z.identity.lock().parent.upgrade() else {
                continue;
            };
            let mut kids = parent.children.lock();
            let Some(i) = kids.iter().position(|c| Arc::ptr_eq(c, z)) else {
                continue; // reaped meanwhile, or being handed to init: next round
            };
            kids.swap_remove(i);
            drop(kids);
            parent.child_exited.wake_all();
            drop(z.sched_lock.lock());
            PROCS.release(z.slot);
        }
        drop(left);
        sched::yield_now();
    }
}

/// Marks `p` killed and wakes it (kill, ^C, destroying its container).
pub fn kill_member(p: &Arc<Proc>) {
    sched::kill(p);
}

/// The console's foreground process group (0: none), and the serial of
/// the container whose numbering names it.
static FOREGROUND: SpinLock<(u64, i32)> = SpinLock::new("foreground", (0, 0));

/// `setpgid(pid, pgid)` by `caller`: `pid` (0: the caller) must be the
/// caller or a child it can see; groups are numbered in the caller's
/// container's numbering.
pub fn setpgid(caller: &Arc<Proc>, pid: i32, pgid: i32) -> Result<(), Errno> {
    if pid < 0 || pgid < 0 {
        return Err(Errno::EINVAL);
    }
    let target = if pid == 0 || caller.pid_seen_by(caller) == Some(pid) {
        caller.clone()
    } else {
        caller
            .children
            .lock()
            .iter()
            .find(|c| c.pid_seen_by(caller) == Some(pid))
            .cloned()
            .ok_or(Errno::ESRCH)?
    };
    let group = if pgid == 0 {
        target.vpid.load(Ordering::Relaxed)
    } else {
        pgid
    };
    target.pgid.store(group, Ordering::Relaxed);
    Ok(())
}

/// `tcsetpgrp(pgid)` by `caller`: group `pgid` of the caller's container
/// is what ^C interrupts. The host may always set it; a container only
/// while the console is its own (`EPERM` otherwise): it gets the console
/// when the foreground job joins it (`ctr run`, as `docker run -it`), so a
/// container cannot take ^C away from the host's jobs.
pub fn set_foreground(caller: &Proc, pgid: i32) -> Result<(), Errno> {
    if pgid < 0 {
        return Err(Errno::EINVAL);
    }
    let serial = caller.ctr_serial.load(Ordering::Acquire);
    let mut fg = FOREGROUND.lock();
    if serial != 0 && fg.0 != serial {
        return Err(Errno::EPERM);
    }
    *fg = (serial, pgid);
    Ok(())
}

/// A process moved from the container numbered by `from` (in group
/// `old_pgid` there) to the one numbered by `p`'s serial now: if its group
/// was the console's foreground, the foreground follows it (its new group).
pub fn foreground_follows(p: &Proc, from: u64, old_pgid: i32) {
    let mut fg = FOREGROUND.lock();
    if *fg == (from, old_pgid) {
        *fg = (
            p.ctr_serial.load(Ordering::Acquire),
            p.pgid.load(Ordering::Relaxed),
        );
    }
}

/// ^C: kills every process of the foreground group (never init). Returns how many.
pub fn interrupt_foreground() -> usize {
    let (serial, fg) = *FOREGROUND.lock();
    if fg == 0 {
        return 0;
    }
    let mut n = 0;
    // Twice: a child a victim forks while we kill is published before its
    // parent checks `killed`, so the second scan sees it (see `fork`).
    for _ in 0..2 {
        let victims: Vec<Arc<Proc>> = PROCS
            .visible(None)
            .into_iter()
            .filter(|p| {
                p.ctr_serial.load(Ordering::Acquire) == serial
                    && p.pgid.load(Ordering::Relaxed) == fg
                    && !is_init(p)
                    && !p.killed()
                    && p.state() != State::Zombie
            })
            .collect();
        n += victims.len();
        for v in &victims {
            kill_member(v);
        }
        core::sync::atomic::fence(Ordering::SeqCst);
    }
    n
}

/// Exit status of a killed process.
pub fn exit_killed(p: Arc<Proc>) -> ! {
    // Noticed on the way back from a trap or system call, with interrupts
    // off: exit sleeps (closing files, the log), so it runs with them on.
    assert_eq!(
        percpu::this_cpu().irq_off_depth.get(),
        0,
        "exit with locks held"
    );
    cpu::enable_interrupts();
    exit(p, KILLED_STATUS)
}

/// The process listing behind `ps`: up to `max` rows of what `caller`
/// may see (`None`: everything, for ^P), pids in the caller's numbering.
pub fn process_rows(caller: Option<&Proc>, max: usize) -> Vec<ProcInfo> {
    let mut rows: Vec<ProcInfo> = PROCS
        .visible(caller)
        .into_iter()
        .map(|p| {
            let id = p.identity.lock();
            let mut name = [0u8; PROC_NAME_LEN];
            let n = id.name.len().min(PROC_NAME_LEN - 1);
            name[..n].copy_from_slice(&id.name.as_bytes()[..n]);
            let pages = p.mm_pages.load(Ordering::Relaxed) as u32;
            let seen = |q: &Proc| caller.map_or(Some(q.pid), |c| q.pid_seen_by(c));
            // Inside a container a frozen process reads as sleeping.
            let state = match (caller, p.vstate()) {
                (Some(c), berth_abi::syscall::proc_state::FROZEN) if !c.on_host() => {
                    State::Sleeping as i32
                }
                (_, s) => s,
            };
            ProcInfo {
                pid: seen(&p).unwrap_or(p.pid),
                ppid: id.parent.upgrade().and_then(|pp| seen(&pp)).unwrap_or(0),
                container: p.container.load(Ordering::Relaxed),
                state,
                cpu: p.cpu.load(Ordering::Relaxed),
                pages,
                vpid: p.vpid.load(Ordering::Relaxed),
                pgid: p.pgid.load(Ordering::Relaxed),
                name,
                cycles: p.cycles.load(Ordering::Relaxed),
            }
        })
        .collect();
    rows.sort_unstable_by_key(|r| r.pid);
    rows.truncate(max);
    rows
}

/// ^P: one line per process on the console.
pub fn print_process_list() {
    crate::println!();
    for r in process_rows(None, usize::MAX) {
        let n = r.name.iter().position(|&b| b == 0).unwrap_or(PROC_NAME_LEN);
        let name = core::str::from_utf8(&r.name[..n]).unwrap_or("?");
        crate::println!(
            "{} {} {} cpu {} ctr {} {}K",
            r.pid,
            berth_abi::syscall::proc_state::name(r.state),
            name,
            r.cpu,
            r.container,
            r.pages * 4
        );
    }
    let (heap_used, heap_size) = crate::mm::heap::usage();
    crate::println!(
        "{}{}K of {}K RAM; kernel heap {}K of {}K in use",
        berth_abi::markers::FREE_MEMORY_PREFIX,
        crate::mm::free_frames() * 4,
        crate::mm::usable_bytes() / 1024,
        heap_used / 1024,
        heap_size / 1024
    );
}

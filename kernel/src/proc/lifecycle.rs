//! Process life: the first process, fork, exit, wait, kill and listings.
//!
//! Lock order (outer to inner): a parent's `children` → a process's
//! `sched_lock` → run-queue and wait-queue locks; the one exception is an
//! exiting process, which holds its own `sched_lock` while it briefly takes
//! its parent's `children` (nothing takes a child's `sched_lock` while
//! holding its parent's `children`, so no cycle). `exit` hands its children
//! to init (pid 1) by moving its `children` list, and tells its parent
//! through the parent's `child_exited` queue after it is a zombie.

use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicU8, Ordering};

use berth_abi::errno::Errno;
use berth_abi::exit::ExitCode;
use berth_abi::limits::KILLED_STATUS;
use berth_abi::syscall::{ProcInfo, PROC_NAME_LEN};

use super::{sched, table, Identity, KernelStack, Proc, State};
use crate::arch::x86_64::fpu::FpuState;
use crate::arch::x86_64::trap::TrapFrame;
use crate::arch::x86_64::{debug_exit, paging, percpu, switch};
use crate::file::FdTable;
use crate::mm::uvm::AddressSpace;
use crate::sync::{SleepLock, SpinLock, WaitQueue};

static INIT: spin::Once<Arc<Proc>> = spin::Once::new();

fn new_proc(
    name: String,
    parent: Weak<Proc>,
    mm: AddressSpace,
    files: FdTable,
    fs: Option<crate::file::view::ProcFs>,
    fpu: FpuState,
    frame: &TrapFrame,
) -> Result<Arc<Proc>, Errno> {
    let (slot, pid) = table::reserve().ok_or(Errno::EAGAIN)?;
    let Some(kstack) = KernelStack::new() else {
        table::release(slot);
        return Err(Errno::ENOMEM);
    };
    // SAFETY: a fresh, unused kernel stack.
    let rsp = unsafe { switch::prepare_first_entry(kstack.top(), frame) };
    let p = Arc::new(Proc {
        pid,
        slot,
        state: AtomicU8::new(State::Embryo as u8),
        sched_lock: SpinLock::new("proc", ()),
        killed: AtomicBool::new(false),
        container: AtomicI32::new(0),
        pgid: AtomicI32::new(pid),
        cpu: AtomicI32::new(-1),
        saved_rsp: UnsafeCell::new(rsp),
        kstack,
        fpu: UnsafeCell::new(fpu),
        identity: SpinLock::new(
            "proc identity",
            Identity {
                name,
                parent,
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
    });
    table::install(p.clone());
    Ok(p)
}

fn start(p: &Arc<Proc>) {
    let g = p.sched_lock.lock();
    p.set_state(State::Runnable);
    sched::enqueue(p.clone());
    drop(g);
}

/// Creates pid 1 running `program` with `args`, its fds 0-2 on the console.
pub fn spawn_init(program: &str, args: &[&str]) -> Result<(), Errno> {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    let fs = crate::file::view::ProcFs::host()?;
    let (mm, frame) = super::exec::load_program(fs.as_ref(), program.as_bytes(), &args)?;
    let mut files = FdTable::new();
    let console = crate::file::File::device(berth_abi::fs::CONSOLE_MAJOR, 0, true, true)?;
    for _ in 0..3 {
        files.alloc(console.clone())?;
    }
    let p = new_proc(
        String::from(program),
        Weak::new(),
        mm,
        files,
        fs,
        FpuState::initial(),
        &frame,
    )?;
    INIT.call_once(|| p.clone());
    start(&p);
    Ok(())
}

/// `fork`: a copy of the caller; returns the child's pid (the child sees 0).
pub fn fork(parent: &Arc<Proc>, frame: &TrapFrame) -> Result<i32, Errno> {
    // The parent's own address space, locked with interrupts on: nothing
    // else changes it while it forks.
    let mm = parent
        .lock_mm()
        .as_ref()
        .ok_or(Errno::EFAULT)?
        .duplicate()?;
    let files = parent.files.lock().clone();
    let fs = parent.fs.lock().clone();
    let mut child_frame = *frame;
    child_frame.rax = 0;
    let name = parent.name();
    // The parent is running: its FPU state is in the registers.
    let mut fpu = FpuState::initial();
    fpu.save();
    let child = new_proc(
        name,
        Arc::downgrade(parent),
        mm,
        files,
        fs,
        fpu,
        &child_frame,
    )?;
    child
        .container
        .store(parent.container.load(Ordering::Relaxed), Ordering::Relaxed);
    // A child starts in its parent's process group (so ^C reaches a whole pipeline).
    child
        .pgid
        .store(parent.pgid.load(Ordering::Relaxed), Ordering::Relaxed);
    parent.children.lock().push(child.clone());
    start(&child);
    Ok(child.pid)
}

/// `exit`: release resources, become a zombie, wake the parent. Never returns.
///
/// `p` must be the last counted reference the calling kernel stack holds:
/// the stack is abandoned, so any other `Arc<Proc>` in a caller's frame is
/// never dropped and the process (its kernel stack, its slot's memory) leaks.
/// Hence exit is called only from the outermost kernel frames (the trap and
/// system-call dispatchers), which move their reference in.
pub fn exit(p: Arc<Proc>, status: i32) -> ! {
    if INIT.get().is_some_and(|init| Arc::ptr_eq(init, &p)) {
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

    if p.is_test_program.load(Ordering::Relaxed) && crate::cmdline::test_mode() {
        crate::println!("test program {} exited with status {status}", p.name());
        debug_exit::exit_qemu(if status == 0 {
            ExitCode::Success
        } else {
            ExitCode::Failure
        });
    }

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
    sched::exit_switch(p, |p| {
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

/// `wait`: reaps a zombie child; returns its pid and exit status.
pub fn wait(p: &Arc<Proc>) -> Result<(i32, i32), Errno> {
    let mut kids = p.children.lock();
    loop {
        if kids.is_empty() {
            return Err(Errno::ECHILD);
        }
        if let Some(i) = kids.iter().position(|c| c.state() == State::Zombie) {
            let child = kids.swap_remove(i);
            drop(kids);
            // Make sure the child has fully left its CPU before freeing its stack.
            drop(child.sched_lock.lock());
            let status = child.identity.lock().exit_status;
            table::release(child.slot);
            return Ok((child.pid, status));
        }
        if p.killed() {
            return Err(Errno::EINTR);
        }
        kids = p.child_exited.sleep_interruptible(kids);
    }
}

/// `kill`: marks `pid` killed and wakes it if it sleeps. Init is not
/// killable (`EPERM`): it adopts orphans and restarts the shell, and its
/// end would stop the system.
pub fn kill(pid: i32) -> Result<(), Errno> {
    let target = table::find(pid).ok_or(Errno::ESRCH)?;
    if target.state() == State::Zombie {
        return Err(Errno::ESRCH);
    }
    if INIT.get().is_some_and(|init| Arc::ptr_eq(init, &target)) {
        return Err(Errno::EPERM);
    }
    target.killed.store(true, Ordering::Release);
    sched::make_runnable_if_sleeping(target);
    Ok(())
}

/// The console's foreground process group (0: none).
static FOREGROUND: AtomicI32 = AtomicI32::new(0);

/// `setpgid(pid, pgid)` by `caller`.
pub fn setpgid(caller: &Arc<Proc>, pid: i32, pgid: i32) -> Result<(), Errno> {
    if pid < 0 || pgid < 0 {
        return Err(Errno::EINVAL);
    }
    let target = if pid == 0 || pid == caller.pid {
        caller.clone()
    } else {
        caller
            .children
            .lock()
            .iter()
            .find(|c| c.pid == pid)
            .cloned()
            .ok_or(Errno::ESRCH)?
    };
    let group = if pgid == 0 { target.pid } else { pgid };
    target.pgid.store(group, Ordering::Relaxed);
    Ok(())
}

/// `tcsetpgrp(pgid)`: the group ^C interrupts.
pub fn set_foreground(pgid: i32) -> Result<(), Errno> {
    if pgid < 0 {
        return Err(Errno::EINVAL);
    }
    FOREGROUND.store(pgid, Ordering::Relaxed);
    Ok(())
}

/// ^C: kills every process of the foreground group (never init). Returns how many.
pub fn interrupt_foreground() -> usize {
    let fg = FOREGROUND.load(Ordering::Relaxed);
    if fg <= 1 {
        return 0;
    }
    let victims: Vec<Arc<Proc>> = table::snapshot()
        .into_iter()
        .filter(|p| {
            p.pgid.load(Ordering::Relaxed) == fg && p.pid != 1 && p.state() != State::Zombie
        })
        .collect();
    let n = victims.len();
    for v in victims {
        v.killed.store(true, Ordering::Release);
        sched::make_runnable_if_sleeping(v);
    }
    n
}

/// Exit status of a killed process.
pub fn exit_killed(p: Arc<Proc>) -> ! {
    exit(p, KILLED_STATUS)
}

/// The process listing behind `ps`: up to `max` rows.
pub fn process_rows(max: usize) -> Vec<ProcInfo> {
    let mut rows: Vec<ProcInfo> = table::snapshot()
        .into_iter()
        .map(|p| {
            let id = p.identity.lock();
            let mut name = [0u8; PROC_NAME_LEN];
            let n = id.name.len().min(PROC_NAME_LEN - 1);
            name[..n].copy_from_slice(&id.name.as_bytes()[..n]);
            let pages = p.mm_pages.load(Ordering::Relaxed) as u32;
            ProcInfo {
                pid: p.pid,
                ppid: id.parent.upgrade().map_or(0, |pp| pp.pid),
                container: p.container.load(Ordering::Relaxed),
                state: p.state() as i32,
                cpu: p.cpu.load(Ordering::Relaxed),
                pages,
                name,
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
    for r in process_rows(usize::MAX) {
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

//! Which user page table each CPU has loaded, and the shootdown that makes
//! the others let go of one before it is freed.
//!
//! The scheduler keeps a process's table loaded after the process leaves
//! the CPU (lazy TLB): switching to the kernel's table and back costs two
//! CR3 writes a context switch, and under TCG each write empties QEMU's
//! whole TLB. A CPU in its scheduler loop may therefore hold the table of
//! a process that now runs, execs or exits elsewhere. That is harmless
//! while the table lives (kernel code never touches user addresses, and
//! the scheduler reloads CR3 when it resumes a process that ran on another
//! CPU since, so a stale TLB entry is never used), but a freed table
//! would be walked for kernel addresses. So [`retire`] runs before a
//! table is freed: every other CPU whose loaded table it is gets an IPI,
//! drops its lazy table in the handler and acknowledges; `retire`
//! returns once all have.
//!
//! Ordering: a CPU writes CR3, then publishes the root ([`note_loaded`]),
//! so a published root was loaded; the window in which it still shows
//! the old root only costs an unneeded IPI. A table being retired cannot
//! be loaded anew: its process is the one retiring it (exec, exit) or has
//! never run (a failed fork), and a process runs on one CPU at a time.
//! `retire` reads the roots SeqCst after the caller made the table
//! unreachable. The wait needs the targets' interrupts, never the
//! caller's: a target is a CPU in its scheduler loop, which opens
//! interrupts between picks and halts with them on, and it is waiting for
//! nothing the caller holds (the caller holds no spinlock: exec and exit
//! free their old tables after dropping the process's locks).

use core::sync::atomic::{AtomicU64, Ordering};

use super::{apic, idt, percpu};
use crate::param::MAX_CPUS;

/// Each CPU's loaded user root (0: the kernel's table).
static LOADED: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
/// Shootdowns each CPU has handled.
static ACKS: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
/// Shootdown IPIs sent since boot.
static SENT: AtomicU64 = AtomicU64::new(0);

/// Shootdown IPIs sent since boot.
pub fn shootdowns() -> u64 {
    SENT.load(Ordering::Relaxed)
}

/// Records that this CPU just loaded `root` (0: the kernel's table).
pub fn note_loaded(root: u64) {
    LOADED[percpu::cpu_index()].store(root, Ordering::SeqCst);
}

/// The user root this CPU has loaded (0: the kernel's table).
pub fn loaded() -> u64 {
    LOADED[percpu::cpu_index()].load(Ordering::Relaxed)
}

/// Makes every other CPU drop table `root` (see the module header);
/// returns once they have. `root` must be unreachable for the scheduler.
pub fn retire(root: u64) {
    let me = percpu::cpu_index();
    let mut waits = [None; MAX_CPUS];
    for (c, wait) in waits.iter_mut().enumerate() {
        if c == me || LOADED[c].load(Ordering::SeqCst) != root {
            continue;
        }
        *wait = Some(shoot(c));
    }
    for (c, wait) in waits.iter().enumerate() {
        if let Some(seen) = *wait {
            while ACKS[c].load(Ordering::Acquire) == seen
                && LOADED[c].load(Ordering::SeqCst) == root
            {
                core::hint::spin_loop();
            }
        }
    }
}

/// Sends CPU `c` the shootdown IPI; returns its acknowledgement count from
/// before, which the caller waits to see change.
fn shoot(c: usize) -> u64 {
    let seen = ACKS[c].load(Ordering::Acquire);
    SENT.fetch_add(1, Ordering::Relaxed);
    apic::send_ipi(
        percpu::cpu(c).apic_id.load(Ordering::Relaxed),
        idt::VECTOR_TLB_SHOOTDOWN,
    );
    seen
}

/// The shootdown IPI: `drop_lazy` lets go of a table no process here
/// uses (the scheduler's part); then a CR3 reload drops every non-global
/// translation (for [`flush_everywhere`]); then the acknowledgement.
pub fn on_shootdown(drop_lazy: impl FnOnce()) {
    drop_lazy();
    reload_cr3();
    ACKS[percpu::cpu_index()].fetch_add(1, Ordering::AcqRel);
}

/// Drops this CPU's non-global translations (its table stays).
fn reload_cr3() {
    // SAFETY: writing CR3 its own value changes no mapping.
    unsafe { x86::controlregs::cr3_write(x86::controlregs::cr3()) };
}

/// Makes every CPU drop its non-global translations of kernel addresses
/// that were unmapped before the call (freed kernel stacks): an IPI to
/// every online CPU, this one included, acknowledged. The caller runs with
/// interrupts on and holds no spinlock (the targets may be anywhere).
/// This CPU gets the IPI too rather than a local reload: the caller may be
/// preempted and moved to another CPU at any point, and a CPU skipped as
/// "mine" before the move would keep its translations.
pub fn flush_everywhere() {
    // Its own IPI needs interrupts on: with them off this would wait forever.
    assert!(
        super::cpu::interrupts_enabled(),
        "tlb: flush_everywhere with interrupts off"
    );
    let online = percpu::online_count().min(MAX_CPUS);
    let mut waits = [None; MAX_CPUS];
    for (c, wait) in waits.iter_mut().enumerate().take(online) {
        *wait = Some(shoot(c));
    }
    for (c, wait) in waits.iter().enumerate() {
        if let Some(seen) = *wait {
            while ACKS[c].load(Ordering::Acquire) == seen {
                core::hint::spin_loop();
            }
        }
    }
}

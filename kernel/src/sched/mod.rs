//! Scheduling policy as plain data structures, with no hardware in them:
//! they build and run on the host (unit tests here, `loom` models in
//! `models.rs`), and the kernel's `proc::sched` drives them and does the
//! switch (registers, CR3, TSS, FPU).
//!
//! # Design
//! Tasks are the process table's slots (a stable pool); groups are
//! containers (group 0 is the host). Each task slot has a word
//! (`task.rs`) saying whether it is queued, for which group, on which CPU,
//! and its slot's generation. Each group has its member table with the
//! round-robin cursor (`members.rs`, the `procReferenceTable` and its
//! `lastScheduleProcRefTableIndex`), its weight and its virtual time
//! (TSC cycles run × unit weight / weight), and counts of its queued tasks
//! per CPU. Each CPU's run queue is the set of groups with tasks queued
//! on it (`mask.rs`) with those counts.
//!
//! A pick on CPU `c` (`policy.rs`) is two-level:
//! 1. the group: the one with the least virtual time among the groups
//!    queued on `c`, unless some group queued anywhere is further behind,
//!    in which case that one: a CPU's own queue only breaks ties, so no
//!    group waits on another CPU's queue while this CPU serves one ahead
//!    of it. A group that had nothing queued or running (it slept, or was
//!    paused) comes back no further behind the pack than one lag (a tick
//!    of virtual time), so sleeping banks no credit (EEVDF's lag bound); a
//!    task that only gave way (preempted, yielding) keeps its group's time.
//! 2. the task: from the group's cursor (advanced with `fetch_add`), the
//!    next member whose word says queued for this group, claimed by one
//!    compare-exchange of its word. It may be queued on another CPU (a
//!    steal): strict round robin inside a group is what keeps its tasks
//!    equal when they do not divide evenly over the CPUs. The per-CPU
//!    queues decide which group a CPU serves and whom a wakeup pokes.
//!
//! Placement: a task that gave way goes back on its own CPU's queue when
//! nothing else waits there (that CPU picks again at once). Otherwise a
//! queueing goes to the task's last CPU if that CPU is idle,
//! else to another idle CPU, else to its last CPU unless that one has at
//! least two more tasks queued than the lightest. Taking an idle CPU's
//! flag (a compare-exchange) makes the waker the one that sends the IPI,
//! so concurrent wakeups spread over the idle CPUs. Slices shrink with the
//! number of tasks waiting per CPU, from four ticks down to one, and a task
//! is only preempted when something is queued.
//!
//! A wakeup by a task about to block (a pipe's writer of a short message,
//! which waits for the answer next: `enqueue_beside`) queues the woken
//! task on the waker's CPU as its next pick and wakes no idle CPU, unless
//! something already waits there: a ping-pong stays on one CPU.
//!
//! Wakeup preemption: a task that wakes (not one that only gave way) onto
//! a busy CPU other than the waker's takes that CPU at once when the task
//! running there has had an eighth of a tick and belongs to the same group
//! or to a group ahead of the woken one's by more than that: the CPU is
//! asked to reschedule (IPI) and the woken task is marked as its next pick,
//! ahead of its group's round robin. Woken onto the waker's own CPU it is
//! only marked next (the waker is usually about to block). So a process that sleeps and wakes
//! waits a fraction of a tick, not a slice behind every CPU-bound one,
//! and the granularity bounds how often wakeups can preempt.
//!
//! No lock anywhere here: every operation is a bounded number of atomic
//! steps (scans are bounded by the member table's high-water mark and the
//! group count), and nothing allocates after `Scheduler::new`.
//!
//! # Ordering argument
//! - **Counters before the task, claims before the count-down.** A
//!   queueing raises the per-CPU, per-group and total counters (SeqCst)
//!   and only then stores the task's queued word (Release); a claimer's
//!   winning compare-exchange (AcqRel) comes before it lowers them. So each
//!   counter is at least the number of tasks a claimer can find, never
//!   underflows, and a scan that finds nothing although a counter is up is
//!   only looking at a queueing in flight; `pick` looks again, and an idle
//!   CPU does not halt while the total is above zero.
//! - **One claim per queueing.** The claim compares the whole word, which
//!   includes the generation, group and home: a slot retired and reused, a
//!   task queued again elsewhere, or a claim by another CPU first all make
//!   it fail (no ABA). The payload (the kernel's counted process reference)
//!   is written before the Release store of the word and swapped out only
//!   by the winner, after its Acquire.
//! - **The next mark is a hint.** It holds a task id and the generation
//!   the waker saw; the pick that takes it (one swap) claims the task by
//!   the same compare-exchange as any claim, so a task claimed elsewhere
//!   first, or a slot reused, makes it fail and the pick goes on as usual.
//! - **Masks are hints** kept by the rule in `mask.rs`: a counter above
//!   zero always ends with its bit set.
//! - **Idle handshake.** An idle CPU stores its flag, then loads the total
//!   (both SeqCst); a queueing raises the total, then (if it has not taken
//!   an idle flag already) looks for a set flag (SeqCst). In any order one
//!   of the two sees the other: the idle CPU does not halt, or the waker
//!   takes its flag and sends the IPI. The flag is taken by
//!   compare-exchange, so each halted CPU gets one waker.
//! - **Running on one CPU.** A claim does not make a task runnable on the
//!   claimer at once: the kernel takes the process's `sched_lock`, which
//!   the CPU it last ran on holds until its registers are saved (see
//!   `proc::sched`), so a claimed task is never resumed on a stack that is
//!   still in use.

pub mod atomic;
pub mod mask;
pub mod members;
pub mod policy;
pub mod task;
pub mod timer;
pub mod wake;

#[cfg(all(test, loom))]
mod models;
#[cfg(all(test, not(loom)))]
mod tests;

pub use policy::{Config, Picked, Scheduler};

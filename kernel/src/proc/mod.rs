//! Processes: the process object, its states and "the current process".
//!
//! A process is an `Arc<Proc>`. Who may touch what:
//! - `run` (its state) is the scheduler's word: only the process itself
//!   leaves `Running`, and wakers move it from `Sleeping` to `Runnable`
//!   with a compare-exchange, without a lock (`crate::sched::wake`).
//!   `sched_lock` is the "still on a CPU" token: held from a process's
//!   decision to stop running until its registers are saved, and taken by
//!   the CPU that resumes it, so no CPU resumes a stack still in use.
//! - `killed` and `cpu` are atomics anyone may read.
//! - `mm`, `files` and `fs` (its view and cwd) belong to the process itself
//!   (only it runs on its kernel stack). `files` and `fs` sit under small
//!   spinlocks so
//!   listings and `kill` can look without races; `mm` under a sleep lock
//!   (fork copies it with interrupts on), with what others need kept
//!   beside it in atomics: `page_root` for the scheduler, `mm_pages` for
//!   `ps` and ^P.
//! - `children` (the wait lock): the list of live and zombie children;
//!   the parent's `child_exited` queue is woken when one becomes a zombie.
//! - `wait_link`: the process's links on the one wait queue it sleeps on,
//!   touched only under that queue's lock (`sched.rs` says why a linked
//!   process stays alive and how it takes itself off).
//!
//! There is no lock over all processes: see `table.rs` for how slots and
//! pids are handed out and `sched.rs` (with `crate::sched`) for the
//! per-CPU run queues.

pub mod elf;
#[cfg(target_os = "none")]
mod object;
#[cfg(target_os = "none")]
pub use object::*;
#[cfg(target_os = "none")]
pub mod exec;
#[cfg(target_os = "none")]
pub mod lifecycle;
#[cfg(target_os = "none")]
pub mod programs;
#[cfg(target_os = "none")]
pub mod sched;
#[cfg(target_os = "none")]
pub mod table;

//! Tracing: per-CPU rings of TSC-stamped records (`ring.rs`), the probes
//! that fill them, the control calls (`trace_start` / `trace_stop` /
//! `trace_dump`), and the dump (the layout of `berth_abi::trace`,
//! written by `berth-tracefmt`, the codec `perf` and the host tool read
//! it with).
//!
//! **Probes.** A probe site reads one word: `if trace::on(event) { ... }`
//! is a relaxed load of the enabled-event mask and a branch, so a kernel
//! not tracing pays that and nothing else. An enabled probe writes one
//! record into its own CPU's ring with interrupts off (so an interrupt
//! probe cannot nest inside it and tear the record), with no lock and no
//! atomic read-modify-write (see `ring.rs`). Most probes already run with
//! interrupts off (entry stubs, spinlock holders, wakeups), and pay no
//! cli/sti of their own (under TCG those were a third of a record's
//! cost). Probes are inlined, and everything they touch but the record's
//! slot shares the mask's page (`control.rs`): under TCG a CR3 write
//! empties the whole TLB, so a page or a jump to a function elsewhere
//! first used after a switch costs more than the record; for the same
//! reason the switch-out record is written before the kernel table goes
//! in. Measured (`make bench BENCH="traced_"`, TCG, CPUS=1): about 150
//! cycles a record on a null system call (~700), +3 % on the pipe round
//! trip (14 records a trip). A container filter keeps only
//! records about one container's processes (a switch also when the
//! process coming in is one of them).
//!
//! **Clock.** `rdtsc` costs about 6,000 cycles under this machine's KVM
//! (it traps) and 15-60 under TCG; a probe reads it once, and the
//! switch-out probe takes the scheduler's own read (its switch-out stamp;
//! a wakeup's read also decides its preemption). The switch-in probe
//! reads its own: the charge stamp it could share predates records the
//! scheduler loop makes meanwhile (an interrupt between picks), and each
//! CPU's records are in time order. The read cost measured at
//! boot and the TSC's frequency and source go in the dump header, so the
//! host tool can judge intervals near the cost of the read.
//!
//! **Names.** Records carry pids; `exec` also puts the process's new name
//! in a per-CPU name ring (same ring, same rules). A dump names each pid
//! by its exec, or, for a child that never exec'd, by its parent's name
//! (from the fork records, in time order), then by every live process's
//! name, so the host tool names processes that exited during the
//! recording too; and it lists every container, and the locks of spin
//! records (a table filled as locks are first reported).
//!
//! **Counts.** Besides the rings, each CPU counts the records it produced
//! per event, and the scheduler's own per-container cycles and switches
//! are read at start and stop: a dump (version 2) carries both, exact
//! however much the rings overwrote, for `perf stat` and the report.

pub mod ring;

#[cfg(target_os = "none")]
mod control;
#[cfg(target_os = "none")]
pub use control::*;

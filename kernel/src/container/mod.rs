//! Containers: the kernel's container table, each container's limits,
//! counters, process reference table, pid numbering, hostname, file table
//! and freezer (see `berth_abi::container` for the calls and their errors,
//! and `../shared/CONTAINERS.md` for the assignment and Docker semantics).
//!
//! Container 0 is the host: every process belongs to exactly one
//! container, host processes to the host's, so accounting and visibility
//! have no special case. The table holds the host and up to
//! `MAX_CONTAINERS` containers, one small lock per slot (no lock over all
//! containers). A container is an `Arc`: processes hold it, so a zombie of
//! a destroyed container still names the container it died in; its
//! `serial` (never reused) is what visibility compares, so such a zombie is
//! never visible to a new container that got the same id.
//!
//! Lock order: a slot lock is innermost (held only to read or swap the
//! slot). `freeze_lock` and `emptied_lock` guard only the freezer's and
//! destroy's conditions and are never held across anything but a sleep on
//! their own queue. The process-side operations (join, leave, exit,
//! freeze) are in `members.rs`; create, update, destroy, pause, resume and
//! listings in `manage.rs`; the console logs in `log.rs`.

pub mod spec;

pub mod files;
pub mod log;
#[cfg(target_os = "none")]
pub mod manage;
#[cfg(target_os = "none")]
pub mod members;
#[cfg(target_os = "none")]
mod object;
#[cfg(target_os = "none")]
pub use object::*;

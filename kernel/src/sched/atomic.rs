//! The atomics the scheduler's structures use: `core`'s in the kernel and
//! in host tests, `loom`'s when the models run (`--cfg loom`), so the same
//! code is what the model checker explores.

#[cfg(loom)]
pub use loom::sync::atomic::{
    fence, AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};

#[cfg(not(loom))]
pub use core::sync::atomic::{
    fence, AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};

/// The turn of a Dekker pattern (store one flag, then load the other; see
/// "Idle handshake" in `mod.rs` and the kill race in `wake.rs`): put
/// between the SeqCst store (or read-modify-write) and the SeqCst load.
///
/// In the kernel and the host tests it is nothing: SeqCst accesses fall in
/// one total order, so of two such threads one sees the other's store (on
/// x86 the SeqCst store is an `xchg`, a full barrier already). Loom models
/// SeqCst accesses only as AcqRel (its README: "causing Loom to generate
/// false alarms"), under which both loads may miss both stores, but it
/// models `fence(SeqCst)` exactly; so under `--cfg loom` this is that
/// fence, and the models check the protocol with the order the SeqCst
/// accesses give. The models cannot check that those accesses are SeqCst:
/// weakening one breaks the kernel, not the models.
#[inline(always)]
pub fn dekker_turn() {
    #[cfg(loom)]
    fence(Ordering::SeqCst);
}

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

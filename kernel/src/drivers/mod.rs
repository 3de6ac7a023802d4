//! Device drivers above the raw hardware access in `arch`.

pub mod ide;
pub mod prd;

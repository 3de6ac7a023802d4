//! Host tests for the checker: each class of damage is made by corrupting a
//! fresh mkfs image, then fsck must name it. They live in the library (not
//! `tests/`) so `cargo test --lib`, which `make test` runs, includes them.

mod damage;
mod directories;
mod fuzz;
mod layers;
mod read;
mod replay;
mod util;

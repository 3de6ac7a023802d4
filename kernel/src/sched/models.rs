//! `loom` models of the scheduler's lock-free parts (run with `make loom`).

//! The fuzzer's only source of randomness: `ulib::stresskit`'s splitmix64,
//! seeded per run, so a seed replays the same sequence of choices.

pub use ulib::stresskit::Rng;

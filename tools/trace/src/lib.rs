//! Reads berth trace dumps (the format of `berth_abi::trace`, written by
//! `perf record` / `perf dump`) and turns them into a text report, a
//! Perfetto protobuf trace, Chrome Trace Event JSON or an SVG timeline.
//! The `trace` binary's help lists the commands.

pub mod chrome;
pub mod dump;
pub mod model;
pub mod perfetto;
pub mod report;
pub mod svg;
pub mod synth;

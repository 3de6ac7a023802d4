//! Chrome Trace Event JSON (`trace chrome`), for chrome://tracing and
//! Perfetto's legacy importer: one thread per CPU (pid 0, tid = CPU, named
//! "CPU n"), an "X" complete event per running interval (idle left out)
//! and an "i" instant event per wakeup.

use crate::dump::Dump;
use crate::model::Model;
use berth_abi::trace::event;
use serde_json::{json, Value};

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// The label of a process: name, pid and container.
pub fn label(d: &Dump, pid: i32, container: i32) -> String {
    let name = d.proc_name(pid).unwrap_or_else(|| "?".into());
    format!("{name} {pid} [ctr {container}]")
}

/// Builds the JSON document.
pub fn build(d: &Dump, m: &Model) -> Value {
    let mut ev = vec![json!({
        "name": "process_name", "ph": "M", "pid": 0, "tid": 0,
        "args": { "name": "berth" }
    })];
    for tl in &m.cpus {
        ev.push(json!({
            "name": "thread_name", "ph": "M", "pid": 0, "tid": tl.cpu,
            "args": { "name": format!("CPU {}", tl.cpu) }
        }));
        ev.push(json!({
            "name": "thread_sort_index", "ph": "M", "pid": 0, "tid": tl.cpu,
            "args": { "sort_index": tl.cpu }
        }));
    }
    for iv in m.cpus.iter().flat_map(|t| &t.intervals) {
        if iv.is_idle() {
            continue;
        }
        let start = d.ns_since_start(iv.start_tsc);
        let end = d.ns_since_start(iv.end_tsc);
        ev.push(json!({
            "name": label(d, iv.pid, iv.container),
            "cat": "sched",
            "ph": "X",
            "ts": us(start),
            "dur": us(end.saturating_sub(start)),
            "pid": 0,
            "tid": iv.cpu,
            "args": { "pid": iv.pid, "container": iv.container },
        }));
    }
    for r in d.records.iter().filter(|r| r.event == event::WAKEUP) {
        ev.push(json!({
            "name": format!("wakeup {}", label(d, r.pid, r.container)),
            "cat": "wakeup",
            "ph": "i",
            "s": "t",
            "ts": us(d.ns_since_start(r.tsc)),
            "pid": 0,
            "tid": r.cpu,
            "args": { "pid": r.pid, "queued_on": r.a, "waker": r.b as i64 },
        }));
    }
    json!({ "traceEvents": ev, "displayTimeUnit": "ns" })
}

/// The JSON text.
pub fn encode(d: &Dump, m: &Model) -> String {
    build(d, m).to_string()
}

//! The output formats: Chrome JSON parses back with the right events, the
//! SVG has a row per CPU, the Perfetto file decodes with prost and (when
//! the `perfetto` Python package is installed) with Perfetto's own protos;
//! and the binary's error messages and exit codes.

mod common;

use berth_abi::trace::event;
use berth_trace::perfetto::Trace;
use berth_trace::{chrome, dump, model, perfetto, report, svg, synth};
use prost::Message;
use std::path::PathBuf;
use std::process::Command;

fn tmp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("berth-trace-{name}"))
}

#[test]
fn chrome_json() {
    let d = common::hand_dump();
    let m = model::build(&d);
    let v: serde_json::Value = serde_json::from_str(&chrome::encode(&d, &m)).unwrap();
    assert_eq!(v["displayTimeUnit"], "ns");
    let ev = v["traceEvents"].as_array().unwrap();
    let ph = |p: &str| ev.iter().filter(|e| e["ph"] == p).collect::<Vec<_>>();
    // Running intervals less idle: pid 2 on CPU 0; 3, 4, 3 on CPU 1.
    let x = ph("X");
    assert_eq!(x.len(), 4);
    assert_eq!(x[0]["name"], "sh 2 [ctr 1]");
    assert_eq!(x[0]["tid"], 0);
    assert_eq!(x[0]["pid"], 0);
    assert_eq!(x[0]["ts"], 1000.0); // µs from the start
    assert_eq!(x[0]["dur"], 4000.0);
    assert_eq!(ph("i").len(), 4); // the four WAKEUP records
    let names: Vec<_> = ph("M")
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["CPU 0", "CPU 1"]);
}

#[test]
fn svg_rows() {
    for d in [common::hand_dump(), synth::dump()] {
        let m = model::build(&d);
        let s = svg::render(&d, &m, &report::compute_with(&d, &m));
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        assert_eq!(s.matches(r#"class="cpu-row""#).count(), d.cpus.len());
        assert_eq!(s.matches(r#"class="legend""#).count(), 3);
        let busy = m
            .cpus
            .iter()
            .flat_map(|c| &c.intervals)
            .filter(|i| !i.is_idle())
            .count();
        assert_eq!(
            s.matches("<title>").count() - s.matches(r#"class="bucket""#).count(),
            busy
        );
    }
}

fn counts(d: &dump::Dump) -> (usize, usize) {
    let n = |e| d.records.iter().filter(|r| r.event == e).count();
    (n(event::SWITCH), n(event::WAKEUP))
}

#[test]
fn perfetto_decodes_with_prost() {
    let d = common::hand_dump();
    let t = Trace::decode(perfetto::encode(&d).as_slice()).unwrap();
    assert_eq!(t.packet.len(), 3);
    let tree = t.packet[0].process_tree.as_ref().unwrap();
    assert_eq!(tree.processes[0].cmdline, ["sh [ctr 1]"]);
    let b0 = t.packet[1].ftrace_events.as_ref().unwrap();
    assert_eq!(b0.cpu, Some(0));
    // CPU 0: wakeup at 0.9 ms, switch idle -> sh at 1 ms.
    let w = b0.event[0].sched_waking.as_ref().unwrap();
    assert_eq!(
        (b0.event[0].timestamp, w.pid, w.target_cpu),
        (Some(900_000), Some(2), Some(0))
    );
    let s = b0.event[1].sched_switch.as_ref().unwrap();
    assert_eq!(b0.event[1].timestamp, Some(1_000_000));
    assert_eq!((s.prev_pid, s.next_pid), (Some(0), Some(2)));
    assert_eq!(s.next_comm.as_deref(), Some("sh"));
    // Leaving asleep at 5 ms: Linux's S (1).
    let last = b0.event.last().unwrap().sched_switch.as_ref().unwrap();
    assert_eq!(last.prev_state, Some(1));
}

#[test]
fn perfetto_decodes_with_perfetto_protos() {
    let have = Command::new("python3")
        .args([
            "-c",
            "import perfetto.protos.perfetto.trace.perfetto_trace_pb2",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        println!("skipped: python3 with the `perfetto` package not found (pip install perfetto)");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/check_perfetto.py");
    for (name, d) in [("hand", common::hand_dump()), ("synth", synth::dump())] {
        let path = tmp(&format!("{name}.pftrace"));
        std::fs::write(&path, perfetto::encode(&d)).unwrap();
        let (sw, wk) = counts(&d);
        let out = Command::new("python3")
            .arg(script)
            .arg(&path)
            .args([d.cpus.len().to_string(), sw.to_string(), wk.to_string()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        print!("{name}: {}", String::from_utf8_lossy(&out.stdout));
    }
}

fn trace(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trace"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn binary_end_to_end() {
    let dump = tmp("synth.dump");
    let dump_s = dump.to_str().unwrap();
    assert_eq!(trace(&["synth", "-o", dump_s]).0, 0);
    let (code, out, _) = trace(&["report", dump_s]);
    assert_eq!(code, 0);
    assert!(out.contains("berth trace: 2 CPUs"));
    for (cmd, ext) in [("perfetto", "pftrace"), ("chrome", "json"), ("svg", "svg")] {
        let o = tmp(&format!("out.{ext}"));
        assert_eq!(
            trace(&[cmd, dump_s, "-o", o.to_str().unwrap()]).0,
            0,
            "{cmd}"
        );
        assert!(std::fs::metadata(&o).unwrap().len() > 0);
    }
}

#[test]
fn binary_errors() {
    let bad = |name: &str, bytes: &[u8]| {
        let p = tmp(name);
        std::fs::write(&p, bytes).unwrap();
        let (code, _, err) = trace(&["report", p.to_str().unwrap()]);
        assert_eq!(code, 1, "{name}: {err}");
        assert!(err.starts_with("trace: "), "{err}");
        err
    };
    assert!(bad(
        "foreign",
        b"hello, world, this is not a trace at all......................."
    )
    .contains("not a berth trace"));
    let good = dump::encode(&common::hand_dump());
    assert!(bad("short", &good[..200]).contains("truncated dump"));
    let mut newer = good.clone();
    newer[8] = 9;
    assert!(bad("newer", &newer).contains("made by a newer berth: version 9"));
    let (code, _, err) = trace(&["report", "/nonexistent/dump"]);
    assert_eq!(code, 1);
    assert!(err.starts_with("trace: /nonexistent/dump: "));
    assert_eq!(trace(&["report"]).0, 2);
    assert_eq!(trace(&["frobnicate"]).0, 2);
}

#[test]
fn svg_time_axis_has_round_ticks() {
    use berth_trace::svg::tick_step;
    assert_eq!(tick_step(29.05), 5.0);
    assert_eq!(tick_step(10.0), 1.0);
    assert_eq!(tick_step(0.7), 0.1);
    assert_eq!(tick_step(1500.0), 200.0);
    let d = common::hand_dump();
    let m = berth_trace::model::build(&d);
    let r = berth_trace::report::compute_with(&d, &m);
    let svg = berth_trace::svg::render(&d, &m, &r);
    // 10 ms recorded: ticks 0, 1, ..., 10 ms.
    assert_eq!(svg.matches(r#"class="tick""#).count(), 11, "{svg}");
    assert!(svg.contains(">10 ms</text>") && svg.contains(">0 ms</text>"));
}

//! Perfetto output (`trace perfetto`): a protobuf `Trace` with a
//! `ProcessTree` packet (names, with the container in each process's
//! name) and one `FtraceEventBundle` packet per CPU holding `sched_switch`
//! and `sched_waking` events, so the Perfetto UI and trace processor show
//! the usual CPU tracks. The message structs are hand-written subsets of
//! Perfetto's protos; every field number was checked against the
//! descriptors of the `perfetto` Python package (v0.59.1,
//! `perfetto/protos/perfetto/trace/perfetto_trace_pb2`).

use crate::dump::Dump;
use crate::model::{switch_next, switch_prev_state, IDLE};
use berth_abi::syscall::proc_state;
use berth_abi::trace::event;
use prost::Message;
use std::collections::BTreeMap;

/// `perfetto.protos.Trace`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Trace {
    #[prost(message, repeated, tag = "1")]
    pub packet: Vec<TracePacket>,
}

/// `perfetto.protos.TracePacket` (the fields used; `ftrace_events` and
/// `process_tree` are members of its `data` oneof, so set one per packet).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TracePacket {
    #[prost(message, optional, tag = "1")]
    pub ftrace_events: Option<FtraceEventBundle>,
    #[prost(message, optional, tag = "2")]
    pub process_tree: Option<ProcessTree>,
    #[prost(uint64, optional, tag = "8")]
    pub timestamp: Option<u64>,
    #[prost(uint32, optional, tag = "10")]
    pub trusted_packet_sequence_id: Option<u32>,
}

/// `perfetto.protos.FtraceEventBundle`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FtraceEventBundle {
    #[prost(uint32, optional, tag = "1")]
    pub cpu: Option<u32>,
    #[prost(message, repeated, tag = "2")]
    pub event: Vec<FtraceEvent>,
}

/// `perfetto.protos.FtraceEvent` (`sched_switch` and `sched_waking` are
/// members of its `event` oneof).
#[derive(Clone, PartialEq, prost::Message)]
pub struct FtraceEvent {
    /// Nanoseconds.
    #[prost(uint64, optional, tag = "1")]
    pub timestamp: Option<u64>,
    /// The task that was running when the event happened.
    #[prost(uint32, optional, tag = "2")]
    pub pid: Option<u32>,
    #[prost(message, optional, tag = "4")]
    pub sched_switch: Option<SchedSwitch>,
    #[prost(message, optional, tag = "20")]
    pub sched_waking: Option<SchedWaking>,
}

/// `perfetto.protos.SchedSwitchFtraceEvent`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SchedSwitch {
    #[prost(string, optional, tag = "1")]
    pub prev_comm: Option<String>,
    #[prost(int32, optional, tag = "2")]
    pub prev_pid: Option<i32>,
    #[prost(int32, optional, tag = "3")]
    pub prev_prio: Option<i32>,
    #[prost(int64, optional, tag = "4")]
    pub prev_state: Option<i64>,
    #[prost(string, optional, tag = "5")]
    pub next_comm: Option<String>,
    #[prost(int32, optional, tag = "6")]
    pub next_pid: Option<i32>,
    #[prost(int32, optional, tag = "7")]
    pub next_prio: Option<i32>,
}

/// `perfetto.protos.SchedWakingFtraceEvent`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SchedWaking {
    #[prost(string, optional, tag = "1")]
    pub comm: Option<String>,
    #[prost(int32, optional, tag = "2")]
    pub pid: Option<i32>,
    #[prost(int32, optional, tag = "3")]
    pub prio: Option<i32>,
    #[prost(int32, optional, tag = "4")]
    pub success: Option<i32>,
    #[prost(int32, optional, tag = "5")]
    pub target_cpu: Option<i32>,
}

/// `perfetto.protos.ProcessTree`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProcessTree {
    #[prost(message, repeated, tag = "1")]
    pub processes: Vec<Process>,
    #[prost(message, repeated, tag = "2")]
    pub threads: Vec<Thread>,
}

/// `perfetto.protos.ProcessTree.Process`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Process {
    #[prost(int32, optional, tag = "1")]
    pub pid: Option<i32>,
    #[prost(int32, optional, tag = "2")]
    pub ppid: Option<i32>,
    #[prost(string, repeated, tag = "3")]
    pub cmdline: Vec<String>,
}

/// `perfetto.protos.ProcessTree.Thread`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Thread {
    #[prost(int32, optional, tag = "1")]
    pub tid: Option<i32>,
    #[prost(string, optional, tag = "2")]
    pub name: Option<String>,
    #[prost(int32, optional, tag = "3")]
    pub tgid: Option<i32>,
}

/// The packet sequence every packet claims.
pub const SEQUENCE_ID: u32 = 1;
/// Linux's default nice-0 priority, for the prio fields.
const PRIO: i32 = 120;

/// Linux pid for a berth pid: the idle loop is Linux's pid 0 (swapper).
fn linux_pid(pid: i32) -> i32 {
    if pid == IDLE {
        0
    } else {
        pid
    }
}

/// A berth process state as a Linux `prev_state` (task state bits): R = 0,
/// S = 1, D = 2 (a frozen process, held), Z = 32 (EXIT_ZOMBIE).
fn linux_state(state: u8) -> i64 {
    match i32::from(state) {
        proc_state::SLEEPING => 1,
        proc_state::FROZEN => 2,
        proc_state::ZOMBIE => 32,
        _ => 0,
    }
}

/// Builds the trace.
pub fn build(d: &Dump) -> Trace {
    let comm = |pid: i32| -> String {
        if pid == IDLE {
            "idle".into()
        } else {
            d.proc_name(pid).unwrap_or_else(|| format!("pid {pid}"))
        }
    };

    // Every process seen, with its container: the name table first, then
    // any the records mention that it lacks.
    let mut procs: BTreeMap<i32, i32> = d.procs.iter().map(|p| (p.pid, p.container)).collect();
    for r in &d.records {
        if r.pid != IDLE {
            procs.entry(r.pid).or_insert(r.container);
        }
        if r.event == event::SWITCH {
            let (next, ctr) = switch_next(r);
            if next != IDLE {
                procs.entry(next).or_insert(ctr);
            }
        }
    }
    let tree = ProcessTree {
        processes: procs
            .iter()
            .map(|(&pid, &ctr)| Process {
                pid: Some(pid),
                ppid: None,
                cmdline: vec![format!("{} [ctr {ctr}]", comm(pid))],
            })
            .collect(),
        threads: procs
            .keys()
            .map(|&pid| Thread {
                tid: Some(pid),
                name: Some(comm(pid)),
                tgid: Some(pid),
            })
            .collect(),
    };
    let mut packet = vec![TracePacket {
        process_tree: Some(tree),
        timestamp: Some(0),
        trusted_packet_sequence_id: Some(SEQUENCE_ID),
        ..Default::default()
    }];

    for (cpu, recs) in d.records_by_cpu() {
        let mut events = Vec::new();
        for r in recs {
            let ts = Some(d.ns_since_start(r.tsc));
            match r.event {
                event::SWITCH => {
                    let (next, _) = switch_next(r);
                    events.push(FtraceEvent {
                        timestamp: ts,
                        pid: Some(linux_pid(r.pid) as u32),
                        sched_switch: Some(SchedSwitch {
                            prev_comm: Some(comm(r.pid)),
                            prev_pid: Some(linux_pid(r.pid)),
                            prev_prio: Some(PRIO),
                            prev_state: Some(linux_state(switch_prev_state(r))),
                            next_comm: Some(comm(next)),
                            next_pid: Some(linux_pid(next)),
                            next_prio: Some(PRIO),
                        }),
                        ..Default::default()
                    });
                }
                event::WAKEUP => {
                    let waker = r.b as i64;
                    let waker = if waker < 0 { 0 } else { waker as u32 };
                    events.push(FtraceEvent {
                        timestamp: ts,
                        pid: Some(waker),
                        sched_waking: Some(SchedWaking {
                            comm: Some(comm(r.pid)),
                            pid: Some(linux_pid(r.pid)),
                            prio: Some(PRIO),
                            success: Some(1),
                            target_cpu: Some(r.a as i32),
                        }),
                        ..Default::default()
                    });
                }
                _ => {}
            }
        }
        packet.push(TracePacket {
            ftrace_events: Some(FtraceEventBundle {
                cpu: Some(cpu),
                event: events,
            }),
            trusted_packet_sequence_id: Some(SEQUENCE_ID),
            ..Default::default()
        });
    }
    Trace { packet }
}

/// The trace as protobuf bytes.
/// The `sched_switch` and `sched_waking` events [`build`] writes for `d`
/// (one for each switch and each wakeup record).
pub fn counts(d: &Dump) -> (usize, usize) {
    let n = |e| d.records.iter().filter(|r| r.event == e).count();
    (n(event::SWITCH), n(event::WAKEUP))
}

pub fn encode(d: &Dump) -> Vec<u8> {
    build(d).encode_to_vec()
}

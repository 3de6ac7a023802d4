#!/usr/bin/env python3
"""Decode a `trace perfetto` file with Perfetto's own protos (the `perfetto`
Python package) and check it holds what the tool means to write.

usage: check_perfetto.py FILE CPUS SWITCHES WAKINGS
  CPUS      FtraceEventBundles expected, one per CPU 0..CPUS-1
  SWITCHES  sched_switch events expected in all
  WAKINGS   sched_waking events expected in all
"""
import sys

from perfetto.protos.perfetto.trace import perfetto_trace_pb2 as pb


def main():
    path, cpus, switches, wakings = sys.argv[1], *map(int, sys.argv[2:5])
    trace = pb.Trace()
    with open(path, "rb") as f:
        trace.ParseFromString(f.read())

    bundles = [p.ftrace_events for p in trace.packet if p.HasField("ftrace_events")]
    assert sorted(b.cpu for b in bundles) == list(range(cpus)), [b.cpu for b in bundles]
    assert all(p.trusted_packet_sequence_id == 1 for p in trace.packet)

    n_switch = n_waking = 0
    for b in bundles:
        last = 0
        for e in b.event:
            assert e.timestamp >= last, "events out of order within a bundle"
            last = e.timestamp
            if e.HasField("sched_switch"):
                s = e.sched_switch
                assert s.prev_comm and s.next_comm and s.prev_prio == 120
                assert e.pid == s.prev_pid
                n_switch += 1
            elif e.HasField("sched_waking"):
                w = e.sched_waking
                assert w.comm and w.pid > 0 and w.success == 1
                assert 0 <= w.target_cpu < cpus
                n_waking += 1
            else:
                raise AssertionError(f"unexpected event {e}")
    assert n_switch == switches, (n_switch, switches)
    assert n_waking == wakings, (n_waking, wakings)

    trees = [p.process_tree for p in trace.packet if p.HasField("process_tree")]
    assert len(trees) == 1
    procs = trees[0].processes
    assert procs and all("[ctr " in p.cmdline[0] for p in procs), procs
    assert {t.tid for t in trees[0].threads} == {p.pid for p in procs}
    print(f"ok: {len(bundles)} bundles, {n_switch} sched_switch, "
          f"{n_waking} sched_waking, {len(procs)} processes")


if __name__ == "__main__":
    main()

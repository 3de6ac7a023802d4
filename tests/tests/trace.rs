//! Tracing tests: `perf record` of `tracework` (a workload of known
//! counts), its dump taken out through the trace serial port to a host
//! file and decoded by the host tool's library: the counts of forks,
//! execs, exits and container operations match the workload exactly,
//! `produced = kept + dropped` on every CPU, names are there, and the
//! Perfetto file decodes with Perfetto's own schema (when its Python
//! package is installed: `make test` installs it) with a track per CPU.
//! The dump `perf` wrote into the berth file system is the same bytes.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use berth_abi::trace::{ctr_op, event, Record};
use berth_tests::shell::Shell;
use berth_tests::{Accel, QemuConfig, TestFailure};
use berth_trace::dump;

const CMD: Duration = Duration::from_secs(300);

/// `tracework`'s own counts (see user/src/bin/tracework.rs).
const FORKS_PER_MEMBER: usize = 5;
const MEMBERS: usize = 2;

fn fail(what: String) -> TestFailure {
    TestFailure::new(what)
}

fn count(records: &[Record], ev: u16) -> usize {
    records.iter().filter(|r| r.event == ev).count()
}

fn recorded(cpus: usize) -> Result<(), TestFailure> {
    let serial: PathBuf =
        std::env::temp_dir().join(format!("berth-trace-{}-{cpus}.bin", std::process::id()));
    let _ = std::fs::remove_file(&serial);
    let config = QemuConfig::new(cpus, Accel::Tcg)
        .extra_args(["-serial".to_string(), format!("file:{}", serial.display())]);
    let mut sh = Shell::boot_with(config, CMD)?;
    let out = sh.run("perf record -s -o t.dat tracework", CMD)?;
    sh.qemu.ensure(
        out.contains("tracework: done") && out.contains("bytes out of the trace serial port"),
        || format!("perf record printed {out:?}"),
    )?;
    // perf stat's exact counters: the same workload, the same counts.
    let stat = sh.run("perf stat tracework", CMD)?;
    let total = |name: &str| -> Option<u64> {
        let line = stat
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))?;
        line.split_whitespace().last()?.parse().ok()
    };
    let forks = (1 + MEMBERS + MEMBERS * FORKS_PER_MEMBER) as u64;
    sh.qemu.ensure(
        total("fork") == Some(forks)
            && total("exit") == Some(forks)
            && total("container") == Some(6),
        || format!("perf stat printed {stat:?}"),
    )?;
    let image = sh.power_off_clean("perf record")?;
    let bytes = std::fs::read(&serial).map_err(|e| fail(format!("{}: {e}", serial.display())))?;
    let _ = std::fs::remove_file(&serial);
    let d = dump::parse(&bytes).map_err(|e| fail(format!("the serial dump: {e}")))?;

    // The file perf wrote in the berth file system holds the same dump.
    let in_fs = berth_fsck::read_path(&image, "/t.dat")
        .ok_or_else(|| fail(String::from("no /t.dat in the image")))?;
    if in_fs != bytes {
        return Err(fail(format!(
            "t.dat ({} bytes) differs from the serial dump ({} bytes)",
            in_fs.len(),
            bytes.len()
        )));
    }

    if d.header.cpus as usize != cpus || d.cpus.len() != cpus {
        return Err(fail(format!("{} CPUs in the dump", d.header.cpus)));
    }
    for c in &d.cpus {
        if c.produced != c.kept + c.dropped || c.dropped != 0 {
            return Err(fail(format!("cpu {}: {c:?}", c.cpu)));
        }
    }
    let r = &d.records;
    // perf forks tracework; tracework forks its members; each member forks
    // its children. Execs: tracework, then each child's nop. Exits: every
    // one of those processes but perf.
    let forks = 1 + MEMBERS + MEMBERS * FORKS_PER_MEMBER;
    let execs = 1 + MEMBERS * FORKS_PER_MEMBER;
    let got = (
        count(r, event::FORK),
        count(r, event::EXEC),
        count(r, event::EXIT),
    );
    if got != (forks, execs, forks) {
        return Err(fail(format!(
            "forks, execs, exits: {got:?}, expected {:?}",
            (forks, execs, forks)
        )));
    }
    let ops = |op: u32| {
        r.iter()
            .filter(|x| x.event == event::CONTAINER && x.a == op)
            .count()
    };
    let got = (ops(ctr_op::CREATE), ops(ctr_op::JOIN), ops(ctr_op::DESTROY));
    if got != (2, 2, 2) {
        return Err(fail(format!("container create, join, destroy: {got:?}")));
    }
    let nops = r
        .iter()
        .filter(|x| x.event == event::EXEC)
        .filter(|x| d.proc_name(x.pid).as_deref() == Some("nop"))
        .count();
    if nops != MEMBERS * FORKS_PER_MEMBER {
        return Err(fail(format!("{nops} execs of a process named nop")));
    }
    // Both containers are named (destroyed before the dump, so from the
    // kernel's note at their destruction), with their weights.
    for (name, weight) in [("tw-light", 100), ("tw-heavy", 200)] {
        if !d
            .containers
            .iter()
            .any(|c| dump::name_str(&c.name) == name && c.weight == weight)
        {
            return Err(fail(format!(
                "no {name} of weight {weight}: {:?}",
                d.containers
            )));
        }
    }
    // Version 2's exact counts: with nothing dropped, they are the kept
    // records, event by event and CPU by CPU.
    if d.counts.len() != cpus {
        return Err(fail(format!("{} CPUs of event counts", d.counts.len())));
    }
    for (c, counts) in d.cpus.iter().zip(&d.counts) {
        for (e, &n) in counts.produced.iter().enumerate() {
            let kept = r
                .iter()
                .filter(|x| u32::from(x.cpu) == c.cpu && usize::from(x.event) == e)
                .count() as u64;
            if n != kept {
                return Err(fail(format!(
                    "cpu {}: {n} {} records counted, {kept} kept",
                    c.cpu,
                    event::name(e as u16)
                )));
            }
        }
    }
    // The scheduler's usage names both containers (destroyed by then) and
    // the host, each with time and switches.
    let created: Vec<i32> = r
        .iter()
        .filter(|x| x.event == event::CONTAINER && x.a == ctr_op::CREATE)
        .map(|x| x.b as i32)
        .collect();
    for id in created.iter().copied().chain([0]) {
        if !d
            .usage
            .iter()
            .any(|u| u.id == id && u.cycles > 0 && u.switches > 0)
        {
            return Err(fail(format!("no usage of container {id}: {:?}", d.usage)));
        }
    }
    let rep = berth_trace::report::compute(&d);
    if rep.per_cpu.len() != cpus || rep.switches == 0 || rep.wakeup.count == 0 {
        return Err(fail(format!("report: {rep:?}")));
    }
    perfetto_decodes(&d, cpus)
}

/// The Perfetto file decodes with Perfetto's own protos: one bundle per
/// CPU and every switch and wakeup.
fn perfetto_decodes(d: &dump::Dump, cpus: usize) -> Result<(), TestFailure> {
    let have = Command::new("python3")
        .args([
            "-c",
            "import perfetto.protos.perfetto.trace.perfetto_trace_pb2",
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        println!("skipped the Perfetto check: no python3 perfetto package (pip install perfetto)");
        return Ok(());
    }
    let file =
        std::env::temp_dir().join(format!("berth-trace-{}-{cpus}.pftrace", std::process::id()));
    std::fs::write(&file, berth_trace::perfetto::encode(d)).map_err(|e| fail(e.to_string()))?;
    let script = berth_tests::kernel::repo_root().join("tools/trace/tests/check_perfetto.py");
    let (switches, wakings) = berth_trace::perfetto::counts(d);
    let out = Command::new("python3")
        .arg(script)
        .arg(&file)
        .arg(cpus.to_string())
        .arg(switches.to_string())
        .arg(wakings.to_string())
        .output()
        .map_err(|e| fail(e.to_string()))?;
    let _ = std::fs::remove_file(&file);
    if !out.status.success() {
        return Err(fail(format!(
            "check_perfetto.py: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(())
}

#[test]
fn perf_record_counts_match_2cpu_tcg() -> Result<(), TestFailure> {
    recorded(2)
}

#[test]
fn perf_record_counts_match_8cpu_tcg() -> Result<(), TestFailure> {
    recorded(8)
}

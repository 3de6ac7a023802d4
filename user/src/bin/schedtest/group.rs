//! A container of CPU-bound processes, and snapshots of the kernel's cycle
//! counters.

use ulib::abi::container::ContainerInfo;
use ulib::abi::limits::NPROC;
use ulib::abi::syscall::ProcInfo;
use ulib::container::{self, rdtsc, Cid, Spec};
use ulib::prelude::*;
use ulib::process::{self, Pid};

/// Ticks to wait at most for forked children to have joined.
const JOIN_TICKS: u64 = 1000;

/// A container made for one scenario, destroyed (with every process in
/// it) when dropped.
pub struct Group {
    pub name: &'static str,
    pub id: Cid,
    pub weight: u32,
    /// Host pids of its processes.
    pub pids: Vec<Pid>,
}

impl Group {
    /// Makes the container `name` with CPU weight `weight`.
    pub fn create(name: &'static str, weight: u32) -> Result<Group, String> {
        let spec = Spec::new()
            .name(name)
            .map_err(|e| format!("name {name}: {}", e.description()))?
            .cpu_weight(weight)
            .build();
        match container::create(&spec) {
            Ok(id) => Ok(Group {
                name,
                id,
                weight,
                pids: Vec::new(),
            }),
            Err(Errno::EEXIST) => Err(format!(
                "a container named {name} exists already: remove it first (ctr rm -f {name})"
            )),
            Err(e) => Err(format!("create_container {name}: {}", e.description())),
        }
    }

    /// Forks `n` children that join the container and run `body` (which
    /// should never return; if it does, the child exits 0), then waits
    /// until the kernel counts them all in the container.
    pub fn spawn(&mut self, n: usize, body: impl Fn() + Copy) -> Result<(), String> {
        let id = self.id;
        for _ in 0..n {
            let pid = process::spawn(move || {
                if container::join(id).is_err() {
                    return 1;
                }
                body();
                0
            })
            .map_err(|e| format!("fork for {}: {}", self.name, e.description()))?;
            self.pids.push(pid);
        }
        let start = process::uptime();
        loop {
            let procs = self.info()?.procs as usize;
            if procs == self.pids.len() {
                return Ok(());
            }
            if process::uptime() > start + JOIN_TICKS {
                return Err(format!(
                    "{}: {procs} of {} processes joined within {} s",
                    self.name,
                    self.pids.len(),
                    JOIN_TICKS / 100
                ));
            }
            let _ = process::sleep(1);
        }
    }

    /// Forks `n` CPU-bound children into the container.
    pub fn spin(&mut self, n: usize) -> Result<(), String> {
        self.spawn(n, spin)
    }

    /// Its row in the host's listing.
    pub fn info(&self) -> Result<ContainerInfo, String> {
        container::info(self.id)
            .map_err(|e| format!("containers: {}", e.description()))?
            .ok_or_else(|| format!("container {} ({}) is not listed", self.id, self.name))
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if container::destroy(self.id).is_err() {
            // Should not happen; never leave spinners behind.
            for &pid in &self.pids {
                let _ = process::kill(pid);
            }
        }
    }
}

/// A CPU-bound body: spins until killed.
pub fn spin() {
    loop {
        core::hint::spin_loop();
    }
}

/// The kernel's cycle counters at one moment.
pub struct Snapshot {
    /// The time-stamp counter when it was taken.
    pub tsc: u64,
    /// `(container id, cycles)` of every container.
    pub containers: Vec<(Cid, u64)>,
    /// `(host pid, cycles)` of every process.
    pub procs: Vec<(Pid, u64)>,
}

impl Snapshot {
    /// Reads every container's cycles, and with `procs` every process's.
    pub fn take(procs: bool) -> Result<Snapshot, String> {
        let rows = if procs { ps()? } else { Vec::new() };
        let list =
            container::containers().map_err(|e| format!("containers: {}", e.description()))?;
        let tsc = rdtsc();
        Ok(Snapshot {
            tsc,
            containers: list.iter().map(|c| (c.id, c.cycles)).collect(),
            procs: rows.iter().map(|r| (r.pid, r.cycles)).collect(),
        })
    }

    /// Cycles container `id` ran since `before` (0 if either lacks it).
    pub fn container_delta(&self, before: &Snapshot, id: Cid) -> u64 {
        delta(&before.containers, &self.containers, id)
    }

    /// Cycles process `pid` ran since `before` (0 if either lacks it).
    pub fn proc_delta(&self, before: &Snapshot, pid: Pid) -> u64 {
        delta(&before.procs, &self.procs, pid)
    }

    /// TSC cycles since `before`.
    pub fn elapsed(&self, before: &Snapshot) -> u64 {
        self.tsc.saturating_sub(before.tsc)
    }
}

/// The process listing, checked against the ABI: it must hold the caller
/// itself, under its own pid and name (rows of another size than
/// `ProcInfo` would misplace both).
pub fn ps() -> Result<Vec<ProcInfo>, String> {
    let mut rows = vec![ProcInfo::default(); NPROC];
    let n = process::ps(&mut rows).map_err(|e| format!("ps: {}", e.description()))?;
    rows.truncate(n.min(NPROC));
    let me = process::getpid();
    if !rows
        .iter()
        .any(|r| r.pid == me && process::proc_name(r) == "schedtest")
    {
        return Err(format!(
            "ps's {n} rows do not hold this process (pid {me}, schedtest) where a {}-byte \
             ProcInfo row would put it: the kernel's ps writes another row layout",
            core::mem::size_of::<ProcInfo>()
        ));
    }
    Ok(rows)
}

fn delta(before: &[(i32, u64)], after: &[(i32, u64)], key: i32) -> u64 {
    let find = |s: &[(i32, u64)]| s.iter().find(|(k, _)| *k == key).map(|&(_, c)| c);
    match (find(before), find(after)) {
        (Some(b), Some(a)) => a.saturating_sub(b),
        _ => 0,
    }
}

/// Sleeps `ticks` clock ticks (a killed schedtest dies on the way out).
pub fn nap(ticks: u64) {
    let _ = process::sleep(ticks.min(i32::MAX as u64) as i32);
}

/// Sleeps until uptime reaches `tick` (at once if it has).
pub fn nap_until(tick: u64) {
    let now = process::uptime();
    if tick > now {
        nap(tick - now);
    }
}

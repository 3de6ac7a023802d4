//! The benchmarks themselves, each exactly as BASELINES.md describes it.
//!
//! Timing windows hold only what the method names: paths and argument
//! vectors are built as C strings before the window (ulib's safe wrappers
//! would allocate inside it), and sample vectors are allocated up front.

use core::arch::x86_64::_rdtsc;
use core::ptr;

use ulib::abi::fcntl::{O_CREATE, O_RDWR};
use ulib::abi::limits::USER_TEXT_BASE;
use ulib::cstr::{c_string, Argv};
use ulib::fd::{self, Fd};
use ulib::prelude::*;
use ulib::process::{self, Fork};
use ulib::sys::{self, result};

use crate::stats::{report, samples, Summary};
use crate::Options;

/// Bytes one pipe-throughput repetition moves (1 MiB).
const TPUT_BYTES: usize = 1 << 20;
/// Rounds and iterations per round of the scaling children.
const SCALE_ROUNDS: u32 = 500;
const SCALE_ITERS: u32 = 20_000;

/// The time-stamp counter, unserialised (as xv6's benchmarks read it).
#[inline(always)]
pub(crate) fn tsc() -> u64 {
    // SAFETY: `rdtsc` only reads the time-stamp counter, which the kernel
    // leaves readable from user mode (CR4.TSD clear).
    unsafe { _rdtsc() }
}

/// Runs every benchmark `opts` selects, clock facts first.
pub fn run_all(opts: &Options) {
    let hz = tsc_hz();
    println!("bench tsc_hz={hz} source=uptime_100_ticks");
    rdtsc_overhead();
    if opts.wants("null_syscall") {
        null_syscall("null_syscall");
    }
    if opts.wants("traced_null_syscall") {
        outcome("traced_null_syscall", crate::trace_cost::null_syscall());
    }
    if opts.wants("fork_exit_wait") {
        outcome("fork_exit_wait", fork_exit_wait());
    }
    if opts.wants("fork_exec_wait") {
        outcome("fork_exec_wait", fork_exec_wait());
    }
    if opts.wants("pipe_rtt") {
        outcome("pipe_rtt", pipe_rtt("pipe_rtt"));
    }
    if opts.wants("traced_pipe_rtt") {
        outcome("traced_pipe_rtt", crate::trace_cost::pipe_rtt());
    }
    for size in [512, 4096] {
        let name = format!("pipe_tput_{size}");
        if opts.wants(&name) {
            outcome(&name, pipe_tput(&name, size, hz));
        }
    }
    if opts.wants("file_small") {
        outcome("file_small", file_small());
    }
    if opts.wants("file_write_4m") {
        outcome("file_write_4m", crate::files::write_4m());
    }
    if opts.wants("file_read_4m") || opts.wants("file_read_2m_cached") {
        outcome("file_read_4m", crate::files::reads());
    }
    if opts.wants("ctr_cycle") {
        outcome("ctr_cycle", crate::containers::ctr_cycle());
    }
    if opts.wants("ls_") {
        outcome("ls_merged_100", crate::containers::ls_dirs());
    }
    if opts.wants("copy_up_1m") {
        outcome("copy_up_1m", crate::containers::copy_up_1m());
    }
    let mut runs = vec![("1", 1)];
    if opts.cpus > 1 {
        runs.push(("cpus", opts.cpus));
    }
    for (label, n) in runs {
        let name = format!("yield_{label}");
        if opts.wants(&name) {
            outcome(&name, crate::sched::yield_tput(&name, n, hz));
        }
    }
    if opts.wants("wakeup_idle") {
        outcome("wakeup_idle", crate::sched::wakeup("wakeup_idle", 0));
    }
    if opts.wants("wakeup_loaded") {
        outcome(
            "wakeup_loaded",
            crate::sched::wakeup("wakeup_loaded", opts.cpus),
        );
    }
    for v in [Variant::Sleep, Variant::Yield, Variant::Compute] {
        // N = 1, then N = CPUS in the same boot (skipped at one CPU: it
        // would repeat the first run).
        let mut runs = vec![("1", 1)];
        if opts.cpus > 1 {
            runs.push(("cpus", opts.cpus));
        }
        for (label, n) in runs {
            let name = format!("scale_{}_{label}", v.name());
            if opts.wants(&name) {
                outcome(&name, scale(&name, v, n));
            }
        }
    }
}

/// Prints the error line of a benchmark that could not run.
fn outcome(name: &str, r: Result<(), String>) {
    if let Err(why) = r {
        println!("bench {name} error={}", why.replace(' ', "_"));
    }
}

/// TSC cycles per second: wait for a tick edge, then count 100 ticks (1 s).
fn tsc_hz() -> u64 {
    let t = process::uptime();
    while process::uptime() == t {}
    let start = process::uptime();
    let c0 = tsc();
    while process::uptime() < start + 100 {}
    tsc() - c0
}

/// 1000 samples of two back-to-back reads.
fn rdtsc_overhead() {
    let mut s = samples(1000);
    for _ in 0..1000 {
        let a = tsc();
        let b = tsc();
        s.push(b.wrapping_sub(a));
    }
    report("rdtsc_overhead", &Summary::of(&mut s), "");
}

/// (a) 1000 warm-up getpid; 1000 samples of batches of 100; median / 100.
fn null_syscall(name: &str) {
    for _ in 0..1000 {
        process::getpid();
    }
    let mut s = samples(1000);
    for _ in 0..1000 {
        let t0 = tsc();
        for _ in 0..100 {
            process::getpid();
        }
        s.push(tsc() - t0);
    }
    report(name, &Summary::of(&mut s).per(100), "batch=100");
}

/// The process size at fork time: the break above the text base.
fn proc_bytes() -> u64 {
    match process::sbrk(0) {
        Ok(brk) => (brk as u64).saturating_sub(USER_TEXT_BASE),
        Err(_) => 0,
    }
}

pub(crate) fn err(what: &str, e: Errno) -> String {
    format!("{what}: {e:?}")
}

/// Waits for one child and checks it exited with status 0.
pub(crate) fn reap() -> Result<(), String> {
    match process::wait() {
        Ok((_, 0)) => Ok(()),
        Ok((pid, st)) => Err(format!("child {pid} exited with {st}")),
        Err(e) => Err(err("wait", e)),
    }
}

/// One fork + exit + wait, timed from just before fork to just after wait.
fn fork_exit_once() -> Result<u64, String> {
    let t0 = tsc();
    match process::fork().map_err(|e| err("fork", e))? {
        Fork::Child => process::exit(0),
        Fork::Parent(_) => reap()?,
    }
    Ok(tsc() - t0)
}

/// (b) 10 warm-ups, 1000 samples.
fn fork_exit_wait() -> Result<(), String> {
    let mut s = samples(1000);
    for _ in 0..10 {
        fork_exit_once()?;
    }
    let bytes = proc_bytes();
    for _ in 0..1000 {
        s.push(fork_exit_once()?);
    }
    report(
        "fork_exit_wait",
        &Summary::of(&mut s),
        &format!("proc_bytes={bytes}"),
    );
    Ok(())
}

/// One fork + exec("/nop") + wait.
fn fork_exec_once(path: &[u8], argv: &Argv) -> Result<u64, String> {
    let t0 = tsc();
    match process::fork().map_err(|e| err("fork", e))? {
        Fork::Child => {
            // SAFETY: `path` is NUL-terminated and `argv` a null-terminated
            // vector of NUL-terminated strings; the kernel only reads them.
            unsafe { sys::exec(path.as_ptr(), argv.as_ptr()) };
            process::exit(127)
        }
        Fork::Parent(_) => reap()?,
    }
    Ok(tsc() - t0)
}

/// (c) the child execs a program whose main only exits; 5 warm-ups, 200 samples.
fn fork_exec_wait() -> Result<(), String> {
    let path = c_string("/nop").map_err(|e| err("path", e))?;
    let argv = Argv::new(&["nop"]).map_err(|e| err("argv", e))?;
    let mut s = samples(200);
    for _ in 0..5 {
        fork_exec_once(&path, &argv)?;
    }
    let bytes = proc_bytes();
    for _ in 0..200 {
        s.push(fork_exec_once(&path, &argv)?);
    }
    report(
        "fork_exec_wait",
        &Summary::of(&mut s),
        &format!("proc_bytes={bytes}"),
    );
    Ok(())
}

/// Closes descriptors the caller no longer needs (errors ignored: a
/// benchmark's fds are its own).
fn close_all(fds: &[Fd]) {
    for &f in fds {
        let _ = fd::close(f);
    }
}

/// Two pipes and a child that echoes every byte back: the round trip of
/// (d), also timed by `trace_cost.rs`.
pub(crate) struct PingPong {
    to_child: Fd,
    from_child: Fd,
    byte: [u8; 1],
}

impl PingPong {
    pub(crate) fn start() -> Result<PingPong, String> {
        let (a_r, a_w) = fd::pipe().map_err(|e| err("pipe", e))?;
        let (b_r, b_w) = fd::pipe().map_err(|e| err("pipe", e))?;
        match process::fork().map_err(|e| err("fork", e))? {
            Fork::Child => {
                close_all(&[a_w, b_r]);
                let mut c = [0u8; 1];
                while let Ok(1) = fd::read(a_r, &mut c) {
                    if fd::write(b_w, &c) != Ok(1) {
                        break;
                    }
                }
                process::exit(0)
            }
            Fork::Parent(_) => close_all(&[a_r, b_w]),
        }
        Ok(PingPong {
            to_child: a_w,
            from_child: b_r,
            byte: [b'x'],
        })
    }

    /// One timed round trip.
    pub(crate) fn trip(&mut self) -> Result<u64, String> {
        let t0 = tsc();
        if fd::write(self.to_child, &self.byte) != Ok(1)
            || fd::read(self.from_child, &mut self.byte) != Ok(1)
        {
            return Err("round trip failed".to_string());
        }
        Ok(tsc() - t0)
    }

    /// Closes the pipes and reaps the child.
    pub(crate) fn finish(self) -> Result<(), String> {
        close_all(&[self.to_child, self.from_child]);
        reap()
    }
}

/// (d) two pipes, the child echoes; 100 warm-ups, 1000 timed round trips.
fn pipe_rtt(name: &str) -> Result<(), String> {
    let mut s = samples(1000);
    let mut pp = PingPong::start()?;
    let mut run = || -> Result<(), String> {
        for _ in 0..100 {
            pp.trip()?;
        }
        for _ in 0..1000 {
            s.push(pp.trip()?);
        }
        Ok(())
    };
    let r = run();
    let reaped = pp.finish();
    r?;
    reaped?;
    report(name, &Summary::of(&mut s), "");
    Ok(())
}

/// One throughput repetition: fresh pipes and child; the parent times the
/// 1 MiB of `size`-byte writes plus the child's 1-byte ack.
fn pipe_tput_once(size: usize, buf: &mut [u8]) -> Result<u64, String> {
    let (d_r, d_w) = fd::pipe().map_err(|e| err("pipe", e))?;
    let (k_r, k_w) = fd::pipe().map_err(|e| err("pipe", e))?;
    match process::fork().map_err(|e| err("fork", e))? {
        Fork::Child => {
            close_all(&[d_w, k_r]);
            let mut got = 0;
            while got < TPUT_BYTES {
                let want = size.min(TPUT_BYTES - got);
                match fd::read(d_r, &mut buf[..want]) {
                    Ok(n) if n > 0 => got += n,
                    _ => process::exit(1),
                }
            }
            let ok = fd::write(k_w, b"k") == Ok(1);
            process::exit(if ok { 0 } else { 1 })
        }
        Fork::Parent(_) => close_all(&[d_r, k_w]),
    }
    let t0 = tsc();
    let mut sent = Ok(());
    for _ in 0..TPUT_BYTES / size {
        if let Err(e) = fd::write_all(d_w, &buf[..size]) {
            sent = Err(err("write", e));
            break;
        }
    }
    let mut ack = [0u8; 1];
    let acked = fd::read(k_r, &mut ack);
    let dt = tsc() - t0;
    close_all(&[d_w, k_r]);
    let reaped = reap();
    sent?;
    if acked != Ok(1) {
        return Err("no ack".to_string());
    }
    reaped?;
    Ok(dt)
}

/// (e) 1 warm-up + 5 timed repetitions of 1 MiB in `size`-byte writes.
fn pipe_tput(name: &str, size: usize, hz: u64) -> Result<(), String> {
    let mut buf = vec![0x5au8; size];
    let mut s = samples(5);
    pipe_tput_once(size, &mut buf)?;
    for _ in 0..5 {
        s.push(pipe_tput_once(size, &mut buf)?);
    }
    let sum = Summary::of(&mut s);
    // MB = 10^6 bytes; tenths computed in integers (no float formatting needed).
    let tenths = if sum.median == 0 {
        0
    } else {
        (TPUT_BYTES as u128 * hz as u128 * 10 / sum.median as u128 / 1_000_000) as u64
    };
    report(
        name,
        &sum,
        &format!(
            "mbps={}.{} bytes={TPUT_BYTES} write={size}",
            tenths / 10,
            tenths % 10
        ),
    );
    Ok(())
}

/// One create + write 4 KB + close + unlink of `/bfile`.
fn file_once(path: &[u8], buf: &[u8]) -> Result<u64, String> {
    let t0 = tsc();
    // SAFETY: `path` is NUL-terminated; the kernel only reads it.
    let fd = result(unsafe { sys::open(path.as_ptr(), O_CREATE | O_RDWR) })
        .map_err(|e| err("open", e))? as Fd;
    let wrote = fd::write(fd, buf);
    let closed = fd::close(fd);
    // SAFETY: as above.
    let unlinked = result(unsafe { sys::unlink(path.as_ptr()) });
    let dt = tsc() - t0;
    if wrote != Ok(buf.len()) {
        return Err(format!("write returned {wrote:?}"));
    }
    closed.map_err(|e| err("close", e))?;
    unlinked.map_err(|e| err("unlink", e))?;
    Ok(dt)
}

/// (f) in `/`: 5 warm-ups, 100 samples.
fn file_small() -> Result<(), String> {
    fd::chdir("/").map_err(|e| err("chdir /", e))?;
    let path = c_string("bfile").map_err(|e| err("path", e))?;
    let buf = [0x42u8; 4096];
    let mut s = samples(100);
    for _ in 0..5 {
        file_once(&path, &buf)?;
    }
    for _ in 0..100 {
        s.push(file_once(&path, &buf)?);
    }
    report("file_small", &Summary::of(&mut s), "");
    Ok(())
}

/// What a scaling child does after each round of arithmetic.
#[derive(Clone, Copy)]
enum Variant {
    /// `sleep(0)`, as xv6's benchmark did.
    Sleep,
    /// berth's `yield_cpu`.
    Yield,
    /// Nothing: pure compute (g').
    Compute,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Sleep => "sleep",
            Variant::Yield => "yield",
            Variant::Compute => "compute",
        }
    }
}

/// A scaling child: 500 rounds of 20,000 LCG steps (32-bit, seeded with
/// the pid, stored to a volatile after each round), then the variant's call.
fn scale_child(v: Variant) -> ! {
    let mut x = process::getpid() as u32;
    let mut sink = 0u32;
    for _ in 0..SCALE_ROUNDS {
        for _ in 0..SCALE_ITERS {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            // An empty asm that "may change" x: LLVM would otherwise fold
            // eight steps into one multiply-add (an affine map composes),
            // doing 1/8 of the work xv6's gcc-built loop does. It emits no
            // instruction; x stays in a register.
            // SAFETY: the template is only a comment; it touches nothing.
            unsafe {
                core::arch::asm!("/* {0:e} */", inout(reg) x, options(nomem, nostack, preserves_flags))
            };
        }
        // SAFETY: `sink` is a live local; the volatile store keeps the work.
        unsafe { ptr::write_volatile(&mut sink, x) };
        match v {
            Variant::Sleep => {
                let _ = process::sleep(0);
            }
            Variant::Yield => process::yield_cpu(),
            Variant::Compute => {}
        }
    }
    process::exit(0)
}

/// Forks `n` children and waits for all of them; the whole, timed.
fn scale_once(v: Variant, n: usize) -> Result<u64, String> {
    let t0 = tsc();
    let mut forked = 0;
    let mut failed = None;
    for _ in 0..n {
        match process::fork() {
            Ok(Fork::Child) => scale_child(v),
            Ok(Fork::Parent(_)) => forked += 1,
            Err(e) => {
                failed = Some(err("fork", e));
                break;
            }
        }
    }
    let mut bad = None;
    for _ in 0..forked {
        if let Err(e) = reap() {
            bad = Some(e);
        }
    }
    let dt = tsc() - t0;
    match failed.or(bad) {
        Some(e) => Err(e),
        None => Ok(dt),
    }
}

/// (g)/(g'): 3 runs with `n` children, median.
fn scale(name: &str, v: Variant, n: usize) -> Result<(), String> {
    let mut s = samples(3);
    for _ in 0..3 {
        s.push(scale_once(v, n)?);
    }
    report(
        name,
        &Summary::of(&mut s),
        &format!("children={n} rounds={SCALE_ROUNDS} iters={SCALE_ITERS}"),
    );
    Ok(())
}

//! Boot tests, the first layer of the QEMU tests: the kernel comes up on 1,
//! 2 and 8 CPUs under KVM and TCG, refuses more CPUs than it supports,
//! reports a panic and a kernel page fault and stops every CPU, and reads
//! the serial console. Each test boots the kernel with a `test=...` command
//! line that makes it run one self-test and exit QEMU with an exit code.

use berth_abi::markers::{BOOT_TEST_PASSED, PANIC_PREFIX};
use berth_tests::lines::ApicMode;
use berth_tests::{
    expect_banner, expect_boot, note, skip_if_unusable, Accel, ExitCode, Qemu, QemuConfig,
    TestFailure, MAX_CPUS, TIMEOUT,
};

/// Boots with `test=boot` and checks everything the boot reports.
fn boot(cpus: usize, accel: Accel) -> Result<(), TestFailure> {
    if skip_if_unusable(accel) {
        return Ok(());
    }
    let mut qemu = Qemu::spawn(QemuConfig::new(cpus, accel).append("test=boot"))?;
    let report = expect_boot(&mut qemu)?;
    let banner = &report.banner;
    qemu.ensure(banner.version == env!("CARGO_PKG_VERSION"), || {
        format!(
            "banner version {:?}, workspace version {}",
            banner.version,
            env!("CARGO_PKG_VERSION")
        )
    })?;
    // 512 MiB of guest RAM, less firmware holes and the kernel image.
    qemu.ensure(banner.memory_mib > 400 && banner.memory_mib <= 512, || {
        format!("{} MiB usable of 512M is not plausible", banner.memory_mib)
    })?;
    qemu.ensure(banner.tsc.mhz > 100.0, || {
        format!("TSC at {} MHz is not plausible", banner.tsc.mhz)
    })?;
    // KVM always offers an x2APIC; QEMU's default TCG CPU model has none.
    let apic = match accel {
        Accel::Kvm => ApicMode::X2Apic,
        Accel::Tcg => ApicMode::XApic,
    };
    qemu.ensure(banner.apic == apic, || {
        format!("expected {apic:?} under {accel}, got {:?}", banner.apic)
    })?;
    note(&format!(
        "boot -smp {cpus} {accel}: `{cpus} of {cpus} CPUs online` {:.2} s after spawning QEMU (rdtsc costs {} cycles)",
        report.online_after.as_secs_f64(),
        banner.tsc.read_cycles
    ));
    qemu.wait_for_line(BOOT_TEST_PASSED, TIMEOUT)?;
    qemu.expect_exit(ExitCode::Success, TIMEOUT)
}

#[test]
fn boot_1cpu_kvm() -> Result<(), TestFailure> {
    boot(1, Accel::Kvm)
}

#[test]
fn boot_2cpu_kvm() -> Result<(), TestFailure> {
    boot(2, Accel::Kvm)
}

#[test]
fn boot_8cpu_kvm() -> Result<(), TestFailure> {
    boot(8, Accel::Kvm)
}

#[test]
fn boot_1cpu_tcg() -> Result<(), TestFailure> {
    boot(1, Accel::Tcg)
}

#[test]
fn boot_2cpu_tcg() -> Result<(), TestFailure> {
    boot(2, Accel::Tcg)
}

#[test]
fn boot_8cpu_tcg() -> Result<(), TestFailure> {
    boot(8, Accel::Tcg)
}

/// A slow AP (`ap_delay`: each AP stalls 1.5 s after claiming its start
/// and again before it reports online, as a descheduled vCPU would) is
/// waited for and keeps its index: every CPU comes online, no per-CPU
/// block is installed twice. (The boot CPU used to give up after 0.2 s and
/// 1 s and hand the index to the next AP.)
#[test]
fn slow_aps_keep_their_index() -> Result<(), TestFailure> {
    let accel = Accel::Tcg;
    if skip_if_unusable(accel) {
        return Ok(());
    }
    let mut qemu = Qemu::spawn(QemuConfig::new(4, accel).append("test=boot ap_delay=1500"))?;
    expect_boot(&mut qemu)?;
    qemu.wait_for_line(BOOT_TEST_PASSED, TIMEOUT)?;
    qemu.expect_exit(ExitCode::Success, TIMEOUT)
}

/// One CPU too many: the kernel says so and exits `Unsupported` before
/// starting any AP.
fn too_many_cpus(accel: Accel) -> Result<(), TestFailure> {
    if skip_if_unusable(accel) {
        return Ok(());
    }
    let mut qemu = Qemu::spawn(QemuConfig::new(MAX_CPUS + 1, accel).append("test=boot"))?;
    expect_banner(&mut qemu)?;
    let limit = format!("supports at most {MAX_CPUS}");
    qemu.wait_for_line_matching(
        &format!("a line containing {limit:?}"),
        |l| l.contains(&limit),
        TIMEOUT,
    )?;
    qemu.expect_exit(ExitCode::Unsupported, TIMEOUT)?;
    let output = qemu.output();
    qemu.ensure(!output.contains("cpu 1 online"), || {
        "an AP started although the kernel refused the machine".to_string()
    })
}

#[test]
fn too_many_cpus_tcg() -> Result<(), TestFailure> {
    too_many_cpus(Accel::Tcg)
}

#[test]
fn too_many_cpus_kvm() -> Result<(), TestFailure> {
    too_many_cpus(Accel::Kvm)
}

/// Boots fully, then expects exactly one panic line from CPU 0 that starts
/// with `panic_start` and satisfies `check`, and the `Panic` exit. QEMU
/// exiting at all proves the other CPUs were stopped or did not get in the way.
fn expect_panic(
    qemu: &mut Qemu,
    panic_start: &str,
    check: impl Fn(&str) -> Result<(), String>,
) -> Result<(), TestFailure> {
    expect_boot(qemu)?;
    let line = qemu.wait_for_line_starting_with(panic_start, TIMEOUT)?;
    check(&line).map_err(|why| qemu.failure(format!("panic line {line:?}: {why}")))?;
    qemu.expect_exit(ExitCode::Panic, TIMEOUT)?;
    let panics = qemu
        .output()
        .lines()
        .filter(|l| l.starts_with(PANIC_PREFIX))
        .count();
    qemu.ensure(panics == 1, || {
        format!("expected one panic line, got {panics}")
    })
}

fn panic_test(cpus: usize, accel: Accel) -> Result<(), TestFailure> {
    if skip_if_unusable(accel) {
        return Ok(());
    }
    let mut qemu = Qemu::spawn(QemuConfig::new(cpus, accel).append("test=panic"))?;
    expect_panic(&mut qemu, &format!("{PANIC_PREFIX}0: "), |line| {
        if line.contains("kmain.rs:") {
            Ok(())
        } else {
            Err("does not name kmain.rs".to_string())
        }
    })
}

#[test]
fn panic_2cpu_tcg() -> Result<(), TestFailure> {
    panic_test(2, Accel::Tcg)
}

#[test]
fn panic_8cpu() -> Result<(), TestFailure> {
    panic_test(8, Accel::preferred())
}

#[test]
fn kernel_page_fault_panics() -> Result<(), TestFailure> {
    let accel = Accel::preferred();
    let mut qemu = Qemu::spawn(QemuConfig::new(2, accel).append("test=fault"))?;
    let start = format!("{PANIC_PREFIX}0: page fault (vector 14) in kernel mode: ");
    expect_panic(&mut qemu, &start, |line| {
        // The address the self-test reads: unmapped, in the kernel half.
        if line.contains("cr2 0xffffa000deadb000") {
            Ok(())
        } else {
            Err("does not report cr2 0xffffa000deadb000".to_string())
        }
    })
}

/// A write just below a kernel stack hits its guard page: a kernel page
/// fault, not a write over whatever lies below (`mm/kstack.rs`), reported
/// as a stack overflow. The self-test takes a fresh stack slot before init
/// starts and prints the address it writes.
#[test]
fn kernel_stack_guard_faults() -> Result<(), TestFailure> {
    let accel = Accel::preferred();
    let mut qemu = Qemu::spawn(QemuConfig::new(2, accel).append("test=guard"))?;
    expect_boot(&mut qemu)?;
    let line = qemu.wait_for_line_starting_with("guard self-test: writing ", TIMEOUT)?;
    let addr = line
        .trim_start_matches("guard self-test: writing ")
        .split(',')
        .next()
        .unwrap_or_default()
        .to_string();
    qemu.ensure(addr.starts_with("0xffffc000"), || {
        format!("guard address {addr:?} is not in the kernel stack region")
    })?;
    let start = format!("{PANIC_PREFIX}0: page fault (vector 14) in kernel mode: ");
    let line = qemu.wait_for_line_starting_with(&start, TIMEOUT)?;
    let want = format!("cr2 {addr}: kernel stack overflow (guard page of stack slot ");
    qemu.ensure(line.contains("error 0x2 ") && line.contains(&want), || {
        format!("panic line {line:?} does not report a write (error 0x2) with {want:?}")
    })?;
    qemu.expect_exit(ExitCode::Panic, TIMEOUT)
}

/// Runaway recursion on the boot CPU's own stack (no process involved)
/// runs into that stack's guard page: the CPU cannot push the page fault's
/// frame either, so it is a double fault, taken on its own stack and
/// reported as the overflow it is, never a silent overwrite.
#[test]
fn cpu_stack_overflow_is_a_double_fault() -> Result<(), TestFailure> {
    let accel = Accel::preferred();
    let mut qemu = Qemu::spawn(QemuConfig::new(2, accel).append("test=overflow"))?;
    let start = format!("{PANIC_PREFIX}0: double fault (vector 8) in kernel mode: ");
    expect_panic(&mut qemu, &start, |line| {
        if line.contains(": kernel stack overflow (guard page of stack slot 0)") {
            Ok(())
        } else {
            Err("does not name the overflow of stack slot 0 (the boot CPU's)".to_string())
        }
    })
}

/// Types `ping` on the serial console once the kernel asks for it.
fn console_test(cpus: usize, accel: Accel) -> Result<(), TestFailure> {
    if skip_if_unusable(accel) {
        return Ok(());
    }
    let mut qemu = Qemu::spawn(QemuConfig::new(cpus, accel).append("test=console"))?;
    expect_boot(&mut qemu)?;
    qemu.wait_for_line("console test: type ping", TIMEOUT)?;
    qemu.send_line("ping")?;
    qemu.wait_for_line("ping", TIMEOUT)?; // the echo
    qemu.wait_for_line("console test: got ping", TIMEOUT)?;
    qemu.expect_exit(ExitCode::Success, TIMEOUT)
}

#[test]
fn console_1cpu_tcg() -> Result<(), TestFailure> {
    console_test(1, Accel::Tcg)
}

#[test]
fn console_8cpu() -> Result<(), TestFailure> {
    console_test(8, Accel::preferred())
}

//! The portable kernel after the hardware is up: what the boot CPU and the APs run.

use core::sync::atomic::Ordering;

use berth_abi::exit::ExitCode;
use berth_abi::markers::BOOT_TEST_PASSED;

use crate::arch::x86_64::{cpu, debug_exit, percpu};
use crate::param::{MAX_CPUS, TICKS_PER_SEC};

/// Waits until every online CPU has taken a few timer ticks (or 10 s pass),
/// then reports; returns whether all of them tick.
fn check_timers() -> bool {
    let online = percpu::online_count();
    let enough = TICKS_PER_SEC / 10;
    let all_ticking =
        || (0..online).all(|i| percpu::cpu(i).ticks.load(Ordering::Relaxed) >= enough);
    let start = crate::time::ticks();
    while !all_ticking() && crate::time::ticks() - start < 10 * TICKS_PER_SEC {
        cpu::wait_for_interrupt();
    }
    let mut ticks = [0u64; MAX_CPUS];
    for (i, t) in ticks.iter_mut().enumerate().take(online) {
        *t = percpu::cpu(i).ticks.load(Ordering::Relaxed);
    }
    crate::banner::print_ticking(TICKS_PER_SEC, &ticks[..online]);
    ticks[..online].iter().all(|&t| t > 0)
}

/// Boot CPU, interrupts on, every CPU started.
pub fn kmain() -> ! {
    crate::time::init();
    let ticking = check_timers();
    match crate::cmdline::value("test") {
        Some("boot") => finish_test("boot test", ticking, BOOT_TEST_PASSED),
        Some("panic") => panic!("panic self-test requested on the command line"),
        Some("fault") => {
            // A kernel-half address in a PML4 slot nothing maps.
            let wild = 0xffff_a000_dead_b000usize as *const u64;
            // SAFETY: not safe at all, on purpose: the fault must be reported as a kernel panic.
            let v = unsafe { core::ptr::read_volatile(wild) };
            crate::println!("fault self-test: read {v:#x} from an unmapped address?!");
            finish_test("fault test", false, "")
        }
        Some("guard") => {
            // The word just below a fresh kernel stack: its guard page.
            let top = crate::mm::kstack::alloc().expect("guard self-test: no kernel stack");
            let below = top - crate::param::KSTACK_PAGES * 4096 - 8;
            crate::println!("guard self-test: writing {below:#x}, below a kernel stack");
            // SAFETY: not safe at all, on purpose: the write must fault.
            unsafe { core::ptr::write_volatile(below as *mut u64, 1) };
            finish_test("guard test", false, "")
        }
        Some("overflow") => {
            // Runaway recursion on the boot CPU's own stack: the push into
            // its guard page becomes a double fault on the IST stack.
            crate::println!("overflow self-test: recursing on the boot CPU's stack");
            let depth = recurse(core::hint::black_box(u64::MAX));
            crate::println!("overflow self-test: returned from depth {depth}?!");
            finish_test("overflow test", false, "")
        }
        Some("console") => {
            crate::println!("console test: type ping");
            while !crate::console::input_has_line(b"ping") {
                cpu::wait_for_interrupt();
            }
            finish_test("console test", true, "console test: got ping")
        }
        Some("run") | None => {}
        Some(other) => {
            crate::println!(
                "unknown self-test {other:?} (known: boot, panic, fault, guard, overflow, console, run)"
            );
            debug_exit::exit_qemu(ExitCode::Failure);
        }
    }
    crate::file::mount::mount_root();
    start_init();
    crate::proc::sched::run_scheduler()
}

/// Starts pid 1: `init`, plus the program named by `run=` (which init runs
/// as its child; in test mode its exit status ends QEMU).
fn start_init() {
    let run = crate::cmdline::value("run");
    let mut args = alloc::vec!["init"];
    args.extend(run);
    match crate::proc::lifecycle::spawn_init("init", &args) {
        Ok(()) => {}
        Err(e) => {
            crate::println!("init: cannot start: {}", e.description());
            if crate::cmdline::test_mode() {
                debug_exit::exit_qemu(ExitCode::Failure);
            }
        }
    }
}

/// The overflow self-test's recursion: a frame of 512 bytes per level that
/// the optimiser cannot fold away.
#[inline(never)]
fn recurse(n: u64) -> u64 {
    let mut frame = [0u64; 64];
    frame[(n % 64) as usize] = n;
    let frame = core::hint::black_box(frame);
    if n == 0 {
        return 0;
    }
    1 + recurse(core::hint::black_box(n - 1)) + frame[0]
}

fn finish_test(name: &str, passed: bool, pass_line: &str) -> ! {
    if passed {
        crate::println!("{pass_line}");
        debug_exit::exit_qemu(ExitCode::Success);
    } else {
        crate::println!("{name}: failed");
        debug_exit::exit_qemu(ExitCode::Failure);
    }
    idle()
}

/// Application processors, interrupts on.
pub fn ap_main() -> ! {
    crate::proc::sched::run_scheduler()
}

fn idle() -> ! {
    loop {
        cpu::wait_for_interrupt();
    }
}

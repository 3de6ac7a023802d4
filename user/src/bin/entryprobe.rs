//! entryprobe ADDR: a hostile program aimed at the kernel's `syscall`
//! entry, whose address ADDR the test harness reads from the kernel ELF.
//!
//! Under this machine's KVM a `syscall` reaches the kernel as a user page
//! fault at the entry, and the kernel runs the call from that fault's
//! registers; a program can fake that fault by jumping to the entry with
//! registers of its choosing (under TCG the same jump faults the same way).
//! Each case runs in a child: a faked call with sane registers is served
//! like a real one; a faked return address outside user space, or IOPL 3
//! asked for in r11, gets the program nothing but its own death. Also: the
//! NT flag set in user mode must not follow a real `syscall` into the
//! kernel (its next `iretq` would fault there). Prints `test NAME: ok` per
//! case and `N passed, M failed`.
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

use ulib::abi::limits::KILLED_STATUS;
use ulib::ensure_eq;
use ulib::prelude::*;
use ulib::process;
use ulib::sys::nr;
use ulib::test::{self, reap, status_of, Test, TestResult};

entry!(main);

static mut ENTRY: u64 = 0;

fn entry_addr() -> u64 {
    // SAFETY: written once by main before any test runs; single-threaded.
    unsafe { ENTRY }
}

/// Jumps to the entry with `rax = nr`, `r11 = rflags`, and `rcx` = the
/// address just after the jump (or `bad_return` when non-zero); returns
/// rax as it is when execution comes back there.
fn fake_syscall(nr: u64, rflags: u64, bad_return: u64) -> u64 {
    let ret: u64;
    // SAFETY: control either comes back to label 2 with every register but
    // rax, rcx and r11 as they were (those three are declared clobbered), or
    // the process dies; no memory is touched.
    unsafe {
        core::arch::asm!(
            "lea rcx, [rip + 2f]",
            "test {bad}, {bad}",
            "cmovnz rcx, {bad}",
            "jmp {entry}",
            "2:",
            entry = in(reg) entry_addr(),
            bad = in(reg) bad_return,
            inout("rax") nr => ret,
            in("r11") rflags,
            out("rcx") _,
        );
    }
    ret
}

fn faked_call_is_served() -> TestResult {
    let status = status_of(|| {
        let got = fake_syscall(nr::getpid as u64, 0x202, 0);
        i32::from(got != process::getpid() as u64)
    })?;
    ensure_eq!(
        status,
        0,
        "status of a child whose faked getpid returned its pid"
    );
    Ok(())
}

fn non_user_return_address_kills() -> TestResult {
    for bad in [0x0000_8000_0000_0000u64, 0xffff_8000_0000_0000, u64::MAX] {
        let status = status_of(|| {
            fake_syscall(nr::getpid as u64, 0x202, bad);
            0
        })?;
        ensure_eq!(status, KILLED_STATUS, "status after returning to {bad:#x}");
    }
    Ok(())
}

fn iopl_from_r11_is_refused() -> TestResult {
    let status = status_of(|| {
        fake_syscall(nr::getpid as u64, 0x3202, 0);
        // Only IOPL 3 lets ring 3 do this; with IOPL 0 it is a #GP.
        // SAFETY: either faults (the expected outcome) or toggles IF.
        unsafe { core::arch::asm!("cli", "sti") };
        0
    })?;
    ensure_eq!(
        status,
        KILLED_STATUS,
        "status of a child that ran cli after asking for IOPL 3"
    );
    Ok(())
}

fn nt_flag_stays_in_user_mode() -> TestResult {
    let status = status_of(|| {
        // SAFETY: sets NT (bit 14) in rflags; user mode has no use for it
        // and no iretq runs here.
        unsafe { core::arch::asm!("pushfq", "or qword ptr [rsp], 0x4000", "popfq") };
        let child = process::spawn(|| {
            for _ in 0..20 {
                process::yield_cpu();
            }
            0
        });
        for _ in 0..20 {
            process::yield_cpu();
        }
        let _ = process::sleep(1);
        let reaped = child.is_ok_and(|pid| reap(pid) == Ok(0));
        // SAFETY: clears NT again.
        unsafe { core::arch::asm!("pushfq", "and qword ptr [rsp], ~0x4000", "popfq") };
        i32::from(!reaped)
    })?;
    ensure_eq!(status, 0, "status of a child that ran with NT set");
    Ok(())
}

const TESTS: &[Test] = &[
    Test::new("faked_call_is_served", faked_call_is_served),
    Test::new(
        "non_user_return_address_kills",
        non_user_return_address_kills,
    ),
    Test::new("iopl_from_r11_is_refused", iopl_from_r11_is_refused),
    Test::new("nt_flag_stays_in_user_mode", nt_flag_stays_in_user_mode),
];

fn main(args: Args) -> i32 {
    let addr = args
        .get(1)
        .and_then(|a| a.strip_prefix("0x"))
        .and_then(|h| u64::from_str_radix(h, 16).ok());
    let Some(addr) = addr else {
        println!("usage: entryprobe 0xADDRESS-OF-syscall_entry");
        return 2;
    };
    // SAFETY: single-threaded; set before any reader.
    unsafe { ENTRY = addr };
    test::run_selected(TESTS, args.skip(2))
}

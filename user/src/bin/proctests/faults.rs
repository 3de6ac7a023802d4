//! User faults: each kills only the faulting process.
//!
//! Every test runs the faulting code in a child next to a sibling that
//! waits on a pipe: the faulter must be reaped first with status -1, then
//! the sibling, released by closing the pipe, must exit normally. The
//! faulter reports on a pipe just before the fault, so dying earlier is
//! told apart. Faults are done in inline assembly: the hardware's view of
//! these accesses is the point, not Rust's.

use core::arch::asm;

use ulib::abi::limits::KILLED_STATUS;
use ulib::prelude::*;
use ulib::process;
use ulib::test::{errno, TestResult};
use ulib::{ensure, ensure_eq, fd};

/// A kernel-half address inside the kernel image (mapped, supervisor-only).
const KERNEL_DATA: u64 = 0xffff_ffff_8010_0000;
/// An address inside kernel text: the kernel is linked at
/// 0xffff_ffff_8000_0000 + 1 MiB, its text follows a small boot section
/// and is far longer than 64 KiB.
const KERNEL_TEXT: u64 = 0xffff_ffff_8011_0000;
/// Status of a faulter that survived its fault.
const SURVIVED: i32 = 99;
/// Status of the sibling.
const SIBLING: i32 = 7;

fn run(fault: fn()) -> TestResult {
    let (sib_r, sib_w) = fd::pipe().map_err(errno("pipe"))?;
    let (r, w) = match fd::pipe() {
        Ok(p) => p,
        Err(e) => {
            let _ = (fd::close(sib_r), fd::close(sib_w));
            return Err(errno("pipe")(e));
        }
    };
    let sibling = process::spawn(|| {
        let _ = (fd::close(sib_w), fd::close(r), fd::close(w));
        let mut b = [0u8; 1];
        match fd::read(sib_r, &mut b) {
            Ok(0) => SIBLING,
            _ => 1,
        }
    });
    let faulter = process::spawn(|| {
        let _ = (fd::close(r), fd::close(sib_r), fd::close(sib_w));
        let _ = fd::write_all(w, b"f");
        fault();
        SURVIVED
    });
    let _ = (fd::close(w), fd::close(sib_r));
    let mut out = Vec::new();
    if faulter.is_ok() {
        let _ = fd::read_to_end(r, &mut out);
    }
    let _ = fd::close(r);
    // The sibling is blocked on its pipe, so the faulter is reaped first.
    let first = if faulter.is_ok() {
        Some(process::wait())
    } else {
        None
    };
    let _ = fd::close(sib_w);
    let rest = process::wait_all();
    let (sibling, faulter) = (
        sibling.map_err(errno("fork"))?,
        faulter.map_err(errno("fork"))?,
    );
    let (pid, status) = first.unwrap_or(Err(Errno::ECHILD)).map_err(errno("wait"))?;
    ensure_eq!(
        pid,
        faulter,
        "first child reaped (the sibling is {sibling})"
    );
    ensure!(
        out == b"f",
        "the faulter died before reaching its fault (status {status})"
    );
    ensure_eq!(
        status,
        KILLED_STATUS,
        "faulter's status ({SURVIVED}: it survived the fault)"
    );
    ensure_eq!(rest, [(sibling, SIBLING)], "the sibling's (pid, status)");
    Ok(())
}

/// Reads from `addr`.
fn read_at(addr: u64) {
    // SAFETY: a deliberate fault: the load traps and the kernel kills the process.
    unsafe {
        asm!("mov {tmp}, qword ptr [{addr}]", addr = in(reg) addr, tmp = out(reg) _, options(nostack))
    };
}

pub fn null_deref() -> TestResult {
    run(|| read_at(0))
}

pub fn kernel_read() -> TestResult {
    run(|| read_at(KERNEL_DATA))
}

pub fn kernel_jump() -> TestResult {
    run(|| {
        // SAFETY: a deliberate fault: fetching a supervisor page from user mode traps.
        unsafe { asm!("call {target}", target = in(reg) KERNEL_TEXT, clobber_abi("C")) };
    })
}

pub fn write_text() -> TestResult {
    run(|| {
        let text = write_text as *const () as u64;
        // SAFETY: a deliberate fault: the text segment is mapped read-only.
        unsafe { asm!("mov byte ptr [{addr}], 0xcc", addr = in(reg) text, options(nostack)) };
    })
}

/// Calls `ret` instructions at `code`, which must not be executable.
fn call_data(code: *const u8) {
    // SAFETY: a deliberate fault: data pages are mapped no-execute. Were
    // they executable, the `ret` would return here and the child would
    // report that it survived.
    unsafe { asm!("call {target}", target = in(reg) code, clobber_abi("C")) };
}

pub fn execute_heap() -> TestResult {
    run(|| {
        let code = Box::new([0xc3u8; 16]);
        call_data(code.as_ptr())
    })
}

pub fn execute_stack() -> TestResult {
    run(|| call_data(core::hint::black_box([0xc3u8; 16]).as_ptr()))
}

//! Memory: sbrk grows, shrinks and refuses; freed memory is gone; the
//! kernel's memory is out of reach.

use ulib::abi::limits::{KILLED_STATUS, MAX_USER_MEMORY};
use ulib::prelude::*;
use ulib::process;
use ulib::test::{status_of, TestResult};
use ulib::{ensure, ensure_eq};

use crate::util::{ok, want_err, PAGE};

/// Grow, use every byte, shrink back; the memory past the break is gone.
pub fn sbrk_basic() -> TestResult {
    const N: usize = 10 * PAGE as usize;
    let start = ok("sbrk(0)", process::sbrk(0))?;
    let a = ok("sbrk(+)", process::sbrk(N as isize))?;
    ensure_eq!(a, start, "sbrk returns the old break");
    ensure_eq!(
        ok("sbrk(0)", process::sbrk(0))? as usize,
        start as usize + N,
        "the new break"
    );
    // SAFETY: [a, a + N) was just added to this process's memory and nothing else uses it.
    let mem = unsafe { core::slice::from_raw_parts_mut(a, N) };
    ensure!(mem.iter().all(|&b| b == 0), "new memory is not zeroed");
    for (i, b) in mem.iter_mut().enumerate() {
        *b = i as u8;
    }
    ensure!(
        mem.iter().enumerate().all(|(i, &b)| b == i as u8),
        "memory does not hold what was written"
    );
    // A forked child sees a copy.
    let s = status_of(|| {
        // SAFETY: the child has its own copy of the same memory.
        let child = unsafe { core::slice::from_raw_parts_mut(a, N) };
        let same = child.iter().enumerate().all(|(i, &b)| b == i as u8);
        child[0] = 99;
        i32::from(!same)
    })?;
    ensure_eq!(s, 0, "the child's copy of the grown memory");
    ensure_eq!(
        mem[0],
        0,
        "the parent's memory after the child wrote its copy"
    );
    let top = ok("sbrk(-)", process::sbrk(-(N as isize)))?;
    ensure_eq!(
        top as usize,
        start as usize + N,
        "shrinking returns the old break"
    );
    ensure_eq!(
        ok("sbrk(0)", process::sbrk(0))?,
        start,
        "the break after shrinking"
    );
    // Touching freed memory kills the process.
    let s = status_of(|| {
        // SAFETY: none: this must fault, in a child that dies of it.
        unsafe { core::ptr::write_volatile(a.add(N / 2), 1) };
        0
    })?;
    ensure_eq!(
        s,
        KILLED_STATUS,
        "status of a child touching memory freed by sbrk"
    );
    Ok(())
}

/// xv6's sbrkmuch: a big allocation, one byte touched per page, freed again.
pub fn sbrk_much() -> TestResult {
    const BIG: usize = 32 << 20;
    let start = ok("sbrk(0)", process::sbrk(0))?;
    let a = ok("sbrk(32 MiB)", process::sbrk(BIG as isize))?;
    let mut i = 0;
    while i < BIG {
        // SAFETY: [a, a + BIG) is this process's new memory.
        unsafe { core::ptr::write_volatile(a.add(i), 1) };
        i += PAGE as usize;
    }
    // SAFETY: as above.
    let last = unsafe { core::ptr::read_volatile(a.add(BIG - 1)) };
    ensure_eq!(last, 0, "last byte of the big allocation");
    ok("sbrk(-32 MiB)", process::sbrk(-(BIG as isize)))?;
    ensure_eq!(
        ok("sbrk(0)", process::sbrk(0))?,
        start,
        "the break after freeing"
    );
    Ok(())
}

/// What sbrk refuses, leaving the break where it was.
pub fn sbrk_invalid() -> TestResult {
    let start = ok("sbrk(0)", process::sbrk(0))?;
    want_err(
        "sbrk beyond the memory limit",
        process::sbrk((MAX_USER_MEMORY + PAGE) as isize),
        Errno::ENOMEM,
    )?;
    want_err("sbrk(1 << 46)", process::sbrk(1 << 46), Errno::ENOMEM)?;
    want_err("sbrk(isize::MAX)", process::sbrk(isize::MAX), Errno::ENOMEM)?;
    want_err(
        "sbrk below the program",
        process::sbrk(-(start as isize) - 4096),
        Errno::EINVAL,
    )?;
    want_err("sbrk(isize::MIN)", process::sbrk(isize::MIN), Errno::EINVAL)?;
    ensure_eq!(
        ok("sbrk(0)", process::sbrk(0))?,
        start,
        "the break after the refusals"
    );
    Ok(())
}

/// xv6's kernmem: reading kernel addresses kills the process.
pub fn kernel_memory() -> TestResult {
    for addr in [
        0xffff_8000_0000_0000u64,
        0xffff_ffff_8000_0000,
        0xffff_ffff_ffff_f000,
    ] {
        let s = status_of(|| {
            // SAFETY: none: this must fault, in a child that dies of it.
            let v = unsafe { core::ptr::read_volatile(addr as *const u8) };
            core::hint::black_box(v);
            0
        })?;
        ensure_eq!(s, KILLED_STATUS, "status of a child reading {addr:#x}");
    }
    Ok(())
}

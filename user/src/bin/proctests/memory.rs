//! Memory: fork copies it, sbrk grows and shrinks it, the heap grows on demand.

use core::sync::atomic::{AtomicU32, Ordering};

use ulib::abi::limits::KILLED_STATUS;
use ulib::prelude::*;
use ulib::process::{self, sbrk};
use ulib::test::{errno, in_child, reap, TestResult};
use ulib::{ensure, ensure_eq, fd};

const PAGE: usize = 4096;
const MIB: usize = 1 << 20;

static GLOBAL: AtomicU32 = AtomicU32::new(0);

/// Parent and child each have their own copy of globals and heap: neither
/// sees the other's writes after the fork.
pub fn fork_copies_memory() -> TestResult {
    GLOBAL.store(1, Ordering::Relaxed);
    let mut heap = vec![1u8; 100_000];
    let (to_child, from_parent) = {
        let (r, w) = fd::pipe().map_err(errno("pipe"))?;
        (w, r)
    };
    let pid = process::spawn(|| {
        // Wait until the parent has overwritten its copy.
        let mut b = [0u8; 1];
        if fd::read_exact(from_parent, &mut b).is_err() {
            return 10;
        }
        if GLOBAL.load(Ordering::Relaxed) != 1 || heap.iter().any(|&x| x != 1) {
            return 11;
        }
        GLOBAL.store(4, Ordering::Relaxed);
        heap.fill(4);
        0
    })
    .map_err(errno("fork"))?;
    GLOBAL.store(3, Ordering::Relaxed);
    heap.fill(3);
    let sent = fd::write_all(to_child, b"x");
    let _ = (fd::close(to_child), fd::close(from_parent));
    let status = reap(pid)?;
    sent.map_err(errno("write"))?;
    ensure!(
        status != 11,
        "the child saw the parent's writes made after fork"
    );
    ensure_eq!(status, 0, "child status (10: it could not read the pipe)");
    ensure_eq!(
        GLOBAL.load(Ordering::Relaxed),
        3,
        "parent's global after the child wrote its copy"
    );
    ensure!(
        heap.iter().all(|&x| x == 3),
        "the child's writes reached the parent's heap"
    );
    Ok(())
}

/// Writes a value derived from `tag` at the first and last byte of every page of `[p, p + len)`.
fn touch(p: *mut u8, len: usize, tag: u8) {
    for off in (0..len).step_by(PAGE).chain([len - 1]) {
        // SAFETY: [p, p + len) is memory this process just obtained with sbrk.
        unsafe { p.add(off).write_volatile(tag ^ (off / PAGE) as u8) };
    }
}

/// Whether `touch(p, len, tag)`'s values are all there.
fn touched(p: *const u8, len: usize, tag: u8) -> bool {
    (0..len).step_by(PAGE).chain([len - 1]).all(|off| {
        // SAFETY: [p, p + len) is memory this process obtained with sbrk.
        unsafe { p.add(off).read_volatile() == tag ^ (off / PAGE) as u8 }
    })
}

/// Whether `[p, p + len)` reads as zeros (sampled: one word per page).
fn zeroed(p: *const u8, len: usize) -> bool {
    (0..len).step_by(PAGE).all(|off| {
        // SAFETY: [p, p + len) is memory this process obtained with sbrk.
        unsafe { p.add(off).read_volatile() == 0 }
    })
}

/// Steps of `sbrk_grow_touch_shrink`, 1 MiB each.
const STEPS: usize = 16;

/// Grows the break by 1 MiB sixteen times, touching every page, then
/// shrinks it back; runs in a child so the heap is not involved.
pub fn sbrk_grow_touch_shrink() -> TestResult {
    in_child(|| {
        let start = sbrk(0).map_err(errno("sbrk(0)"))?;
        for step in 0..STEPS {
            let p = sbrk(MIB as isize).map_err(errno("sbrk(1 MiB)"))?;
            ensure!(
                p == start.wrapping_add(step * MIB),
                "step {step}: sbrk returned {p:p}, start was {start:p}"
            );
            ensure!(zeroed(p, MIB), "step {step}: new memory is not zeroed");
            touch(p, MIB, step as u8);
        }
        for step in 0..STEPS {
            ensure!(
                touched(start.wrapping_add(step * MIB), MIB, step as u8),
                "MiB {step} lost its contents"
            );
        }
        let top = sbrk(-((STEPS * MIB) as isize)).map_err(errno("sbrk(-16 MiB)"))?;
        ensure!(
            top == start.wrapping_add(STEPS * MIB),
            "shrinking returned {top:p}"
        );
        let now = sbrk(0).map_err(errno("sbrk(0)"))?;
        ensure!(
            now == start,
            "break is {now:p} after shrinking, want {start:p}"
        );
        // Growing again gives fresh, zeroed memory.
        let p = sbrk(MIB as isize).map_err(errno("sbrk regrow"))?;
        ensure!(
            p == start && zeroed(p, MIB),
            "memory given back and taken again is not fresh"
        );
        Ok(())
    })
}

/// Memory given back with sbrk is gone: touching it kills the process.
pub fn sbrk_shrunk_memory_unmapped() -> TestResult {
    let (r, w) = fd::pipe().map_err(errno("pipe"))?;
    let pid = process::spawn(|| {
        let Ok(p) = sbrk(MIB as isize) else { return 10 };
        touch(p, MIB, 1);
        if sbrk(-(MIB as isize)).is_err() {
            return 11;
        }
        let _ = fd::write_all(w, b"t");
        // The page starting the freed range is past the break: unmapped.
        let page = p.wrapping_add(PAGE.wrapping_sub(p as usize % PAGE) % PAGE);
        // SAFETY: deliberately touches memory given back: the kernel must kill us.
        unsafe { page.write_volatile(1) };
        12
    })
    .map_err(errno("fork"))?;
    let _ = fd::close(w);
    let mut out = Vec::new();
    let _ = fd::read_to_end(r, &mut out);
    let _ = fd::close(r);
    let status = reap(pid)?;
    ensure!(
        out == b"t",
        "the child stopped before touching freed memory (status {status})"
    );
    ensure_eq!(
        status,
        KILLED_STATUS,
        "status of a child touching freed memory (12: it survived)"
    );
    Ok(())
}

/// The allocator grows the heap through sbrk: 8 MiB in one vector, then
/// many small blocks, all with their contents intact.
pub fn heap_grows() -> TestResult {
    in_child(|| {
        let before = sbrk(0).map_err(errno("sbrk(0)"))? as usize;
        let n = 8 * MIB / 8;
        let mut big: Vec<u64> = Vec::new();
        big.try_reserve_exact(n)
            .map_err(|_| String::from("could not allocate 8 MiB"))?;
        big.extend((0..n as u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
        let small: Vec<Box<[u32; 25]>> = (0..10_000u32).map(|i| Box::new([i; 25])).collect();
        let after = sbrk(0).map_err(errno("sbrk(0)"))? as usize;
        ensure!(
            after >= before + 8 * MIB,
            "the break moved {} bytes for 8 MiB of heap",
            after - before
        );
        for (i, x) in big.iter().enumerate() {
            ensure!(
                *x == (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
                "big[{i}] changed"
            );
        }
        for (i, b) in small.iter().enumerate() {
            ensure!(b.iter().all(|&x| x == i as u32), "small block {i} changed");
        }
        drop(small);
        let again: Vec<Box<[u32; 25]>> = (0..10_000u32).map(|i| Box::new([i; 25])).collect();
        let reused = sbrk(0).map_err(errno("sbrk(0)"))? as usize;
        ensure!(
            reused == after,
            "freed blocks were not reused: the break moved again"
        );
        ensure!(
            again.iter().enumerate().all(|(i, b)| b[24] == i as u32),
            "reallocated blocks are wrong"
        );
        Ok(())
    })
}

//! Copy-on-write fork: after fork, parent and child each see only their
//! own writes, whether the process writes (a page fault) or the kernel
//! writes for it (a read into a shared page), on heap, stack and data.

use ulib::fd;
use ulib::prelude::*;
use ulib::test::{errno, in_child, TestResult};
use ulib::{ensure, ensure_eq};

/// Bytes of the heap buffer: many pages, so a page-by-page mistake shows.
const LEN: usize = 64 * 1024;

fn pattern(seed: u8) -> Vec<u8> {
    (0..LEN)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

/// Writes by the child, by hand and by `read`, leave the parent's heap as
/// it was; the child saw the parent's bytes first.
pub fn writes_after_fork_stay_private() -> TestResult {
    let mut heap = pattern(1);
    let mut stack = [7u8; 512];
    in_child(|| {
        ensure!(
            heap == pattern(1),
            "the child's heap differs from its parent's"
        );
        for b in heap[..LEN / 2].iter_mut() {
            *b = !*b;
        }
        stack[100] = 9;
        // The kernel writing into a shared page: a read from a pipe.
        let (r, w) = fd::pipe().map_err(errno("pipe"))?;
        fd::write_all(w, &[0xee; 300]).map_err(errno("write"))?;
        let n = fd::read(r, &mut heap[LEN - 150..]).map_err(errno("read"))?;
        let _ = (fd::close(r), fd::close(w));
        ensure_eq!(n, 150, "bytes read into the shared page");
        let want: Vec<u8> = pattern(1)
            .iter()
            .enumerate()
            .map(|(i, &b)| match i {
                i if i < LEN / 2 => !b,
                i if i >= LEN - 150 => 0xee,
                _ => b,
            })
            .collect();
        ensure!(heap == want, "the child's own writes did not stick");
        ensure_eq!(stack[100], 9, "the child's stack write");
        Ok(())
    })?;
    ensure!(
        heap == pattern(1),
        "the child's writes reached the parent's heap"
    );
    ensure_eq!(
        stack[100],
        7,
        "the child's write reached the parent's stack"
    );
    // And the parent writes as before.
    heap[0] ^= 0xff;
    stack[0] = 1;
    ensure_eq!(
        (heap[0], stack[0]),
        (pattern(1)[0] ^ 0xff, 1),
        "the parent's writes"
    );
    Ok(())
}

/// The parent's writes while the child lives do not reach the child, and
/// pages written by neither stay shared without harm.
pub fn parent_writes_stay_private() -> TestResult {
    let mut heap = pattern(2);
    let (go_r, go_w) = fd::pipe().map_err(errno("pipe"))?;
    let (done_r, done_w) = fd::pipe().map_err(errno("pipe"))?;
    let child = ulib::process::spawn(|| {
        let mut b = [0u8; 1];
        // Wait for the parent to have written.
        if fd::read(go_r, &mut b) != Ok(1) {
            return 2;
        }
        let ok = heap == pattern(2);
        let _ = fd::write(done_w, &[u8::from(ok)]);
        0
    })
    .map_err(errno("fork"))?;
    for b in heap.iter_mut().step_by(4096) {
        *b = b.wrapping_add(1);
    }
    fd::write(go_w, b"g").map_err(errno("write"))?;
    let mut verdict = [0u8; 1];
    let n = fd::read(done_r, &mut verdict).map_err(errno("read"))?;
    let status = ulib::test::reap(child)?;
    for f in [go_r, go_w, done_r, done_w] {
        let _ = fd::close(f);
    }
    ensure_eq!((n, status), (1, 0), "the child's answer and status");
    ensure_eq!(verdict[0], 1, "the parent's writes reached the child");
    let mut want = pattern(2);
    for b in want.iter_mut().step_by(4096) {
        *b = b.wrapping_add(1);
    }
    ensure!(heap == want, "the parent's own writes did not stick");
    Ok(())
}

/// Many forks of a process holding a large heap, each child writing a
/// little of it: every one sees its own bytes.
pub fn many_children_share_and_copy() -> TestResult {
    let heap = pattern(3);
    for k in 0..8u8 {
        let mut mine = heap.clone();
        in_child(|| {
            mine[usize::from(k) * 4096] = k;
            ensure_eq!(mine[usize::from(k) * 4096], k, "child {k}'s write");
            ensure!(
                mine[1..4096] == pattern(3)[1..4096],
                "child {k}'s first page"
            );
            Ok(())
        })?;
        ensure!(mine == heap, "child {k}'s write reached its parent");
    }
    Ok(())
}

//! Pointer arguments: each bad address is `EFAULT` with nothing done,
//! whole ranges are checked up front, a zero length ignores the pointer,
//! and unaligned pointers are fine.

use core::ptr;

use ulib::abi::limits::{KILLED_STATUS, NPROC};
use ulib::abi::stat::T_DEVICE;
use ulib::abi::syscall::ProcInfo;
use ulib::fd;
use ulib::prelude::*;
use ulib::process;
use ulib::sys::nr;
use ulib::test::{errno, expect_ok, reap, TestResult};
use ulib::{ensure, ensure_eq};

use crate::common::{
    all_fail_with, open_fds, raw, rodata_addr, text_addr, unwritable, with_edge, Pipe, BAD,
};

/// Lengths no buffer can have.
fn huge_lengths(buf: u64) -> [(&'static str, u64); 5] {
    [
        ("usize::MAX", u64::MAX),
        ("1 << 40", 1 << 40),
        ("1 << 47", 1 << 47),
        ("isize::MAX + 1", 1 << 63),
        ("up to the end of the address space", 0u64.wrapping_sub(buf)),
    ]
}

pub fn read_bad_buffers() -> TestResult {
    let p = Pipe::new()?;
    fd::write_all(p.w, b"hello").map_err(errno("write"))?;
    let r = p.r as u64;
    let mut results = Vec::new();
    for (name, addr) in unwritable() {
        // SAFETY: each address is invalid or read-only: the kernel must refuse to write there.
        results.push((format!("into {name}"), unsafe {
            raw(nr::read, &[r, addr, 5])
        }));
    }
    // SAFETY: the first 4 bytes are our fresh page; the rest is unmapped.
    let across = with_edge(|end| unsafe { raw(nr::read, &[r, end - 4, 5]) })?;
    results.push(("across the end of mapped memory".into(), across));
    all_fail_with("read", &results, Errno::EFAULT)?;
    ensure_eq!(
        p.drain(16)?,
        b"hello",
        "pipe contents after the failed reads (ranges are checked before reading)"
    );
    Ok(())
}

pub fn read_huge_lengths() -> TestResult {
    let p = Pipe::new()?;
    fd::write_all(p.w, b"hello").map_err(errno("write"))?;
    let mut buf = [0u8; 64];
    let addr = buf.as_mut_ptr() as u64;
    let mut results = Vec::new();
    for (name, len) in huge_lengths(addr) {
        // SAFETY: `buf` is ours; a kernel that ignored the length could only
        // write the 5 bytes the pipe holds.
        results.push((format!("of {name} bytes"), unsafe {
            raw(nr::read, &[p.r as u64, addr, len])
        }));
    }
    all_fail_with("read", &results, Errno::EFAULT)?;
    ensure_eq!(
        p.drain(16)?,
        b"hello",
        "pipe contents after the failed reads"
    );
    Ok(())
}

pub fn write_bad_buffers() -> TestResult {
    let p = Pipe::new()?;
    let w = p.w as u64;
    let mut results = Vec::new();
    for &(name, addr) in BAD {
        // SAFETY: write only reads memory.
        results.push((format!("from {name}"), unsafe {
            raw(nr::write, &[w, addr, 5])
        }));
    }
    // SAFETY: write only reads memory.
    let across = with_edge(|end| unsafe { raw(nr::write, &[w, end - 4, 5]) })?;
    results.push(("across the end of mapped memory".into(), across));
    all_fail_with("write", &results, Errno::EFAULT)?;
    fd::write_all(p.w, b"ok").map_err(errno("write"))?;
    ensure_eq!(
        p.drain(64)?,
        b"ok",
        "pipe contents: the failed writes must add nothing"
    );
    Ok(())
}

pub fn write_huge_lengths() -> TestResult {
    let p = Pipe::new()?;
    let buf = [7u8; 64];
    let addr = buf.as_ptr() as u64;
    let mut results = Vec::new();
    for (name, len) in huge_lengths(addr) {
        // SAFETY: write only reads memory.
        results.push((format!("of {name} bytes"), unsafe {
            raw(nr::write, &[p.w as u64, addr, len])
        }));
    }
    all_fail_with("write", &results, Errno::EFAULT)?;
    fd::write_all(p.w, b"ok").map_err(errno("write"))?;
    ensure_eq!(
        p.drain(64)?,
        b"ok",
        "pipe contents: the failed writes must add nothing"
    );
    Ok(())
}

/// A zero length succeeds with 0 whatever the pointer.
pub fn zero_length() -> TestResult {
    let p = Pipe::new()?;
    fd::write_all(p.w, b"abc").map_err(errno("write"))?;
    let mut wrong = Vec::new();
    for (name, addr) in unwritable() {
        // SAFETY: a zero length lets the kernel touch no memory.
        let (r, w) = unsafe {
            (
                raw(nr::read, &[p.r as u64, addr, 0]),
                raw(nr::write, &[p.w as u64, addr, 0]),
            )
        };
        if r != 0 || w != 0 {
            wrong.push(format!("{name}: read {r}, write {w}"));
        }
    }
    ensure!(
        wrong.is_empty(),
        "zero-length calls did not return 0: {}",
        wrong.join("; ")
    );
    ensure_eq!(
        p.drain(16)?,
        b"abc",
        "pipe contents after zero-length calls"
    );
    Ok(())
}

/// Memory that is readable but not writable is a fine source for write.
pub fn write_from_read_only_memory() -> TestResult {
    let p = Pipe::new()?;
    for (name, addr, len) in [
        ("text", text_addr(), 16usize),
        ("rodata", rodata_addr(), 64),
    ] {
        // SAFETY: write only reads memory.
        let n = unsafe { raw(nr::write, &[p.w as u64, addr, len as u64]) };
        ensure_eq!(n, len as i64, "write from {name}");
        // SAFETY: [addr, addr + len) is mapped, readable program memory.
        let want = unsafe { core::slice::from_raw_parts(addr as *const u8, len) }.to_vec();
        ensure_eq!(p.drain(len)?, want, "bytes written from {name}");
    }
    Ok(())
}

/// Odd addresses work for every kind of buffer.
pub fn unaligned() -> TestResult {
    let mut buf = [0u8; 64];
    let odd = buf.as_mut_ptr().wrapping_add(1);

    // SAFETY: the kernel writes two ints into buf[1..9].
    expect_ok("pipe into an odd address", unsafe {
        ulib::sys::pipe(odd as *mut i32)
    })?;
    // SAFETY: buf[1..9] holds two ints, unaligned.
    let (r, w) = unsafe {
        (
            ptr::read_unaligned(odd as *const i32),
            ptr::read_unaligned(odd.add(4) as *const i32),
        )
    };
    let p = Pipe { r, w };
    let src = b"_unaligned";
    // SAFETY: write reads src[1..10]; read writes buf[11..20], which we own.
    let (wn, rn) = unsafe {
        (
            raw(nr::write, &[p.w as u64, src.as_ptr() as u64 + 1, 9]),
            raw(nr::read, &[p.r as u64, odd as u64 + 10, 9]),
        )
    };
    ensure!(wn == 9 && rn == 9, "odd write {wn}, odd read {rn}");
    ensure_eq!(&buf[11..20], b"unaligned", "bytes through odd buffers");

    let pid = process::spawn(|| 42).map_err(errno("fork"))?;
    // SAFETY: the kernel writes one int at buf[21..25].
    let got = unsafe { raw(nr::wait, &[buf.as_mut_ptr() as u64 + 21]) };
    ensure_eq!(got, i64::from(pid), "wait with an odd status pointer");
    // SAFETY: buf[21..25] holds an int.
    let status = unsafe { ptr::read_unaligned(buf.as_ptr().add(21) as *const i32) };
    ensure_eq!(status, 42, "status through an odd pointer");

    // SAFETY: the kernel writes a 24-byte Stat at buf[33..57].
    expect_ok("fstat into an odd address", unsafe {
        raw(nr::fstat, &[1, buf.as_mut_ptr() as u64 + 33])
    })?;
    // SAFETY: Stat's `type` is an i16 at offset 8.
    let kind = unsafe { ptr::read_unaligned(buf.as_ptr().add(33 + 8) as *const i16) };
    ensure_eq!(kind, T_DEVICE, "fstat(1)'s type through an odd pointer");

    let mut rows = vec![0u8; 48 * NPROC + 1];
    // SAFETY: the kernel writes at most NPROC 48-byte rows at rows[1..].
    let n = expect_ok("ps into an odd address", unsafe {
        raw(nr::ps, &[rows.as_mut_ptr() as u64 + 1, NPROC as u64])
    })?;
    // SAFETY: rows[1..49] holds the first row; its pid is the first int.
    let pid0 = unsafe { ptr::read_unaligned(rows.as_ptr().add(1) as *const i32) };
    ensure!(
        n >= 2 && pid0 > 0,
        "ps through an odd pointer: {n} rows, first pid {pid0}"
    );
    Ok(())
}

pub fn pipe_bad_pointers() -> TestResult {
    let before = open_fds();
    let mut results = Vec::new();
    for (name, addr) in unwritable() {
        // SAFETY: each address is invalid or read-only: the kernel must refuse to write there.
        results.push((format!("into {name}"), unsafe { raw(nr::pipe, &[addr]) }));
    }
    // SAFETY: 4 bytes of our fresh page, then unmapped memory.
    let across = with_edge(|end| unsafe { raw(nr::pipe, &[end - 4]) })?;
    results.push(("across the end of mapped memory".into(), across));
    for i in 0..NPROC / 8 {
        // SAFETY: null: the kernel must refuse it.
        results.push((format!("into null, again ({i})"), unsafe {
            raw(nr::pipe, &[0])
        }));
    }
    all_fail_with("pipe", &results, Errno::EFAULT)?;
    ensure_eq!(
        open_fds(),
        before,
        "open descriptors after failed pipes (leaked?)"
    );
    Ok(())
}

/// wait with a bad status pointer fails before reaping: the child stays
/// waitable (it sleeps until killed, so a wait that blocks cannot hang).
pub fn wait_bad_pointers() -> TestResult {
    let pid = process::spawn(|| {
        let _ = process::sleep(300);
        9
    })
    .map_err(errno("fork"))?;
    let mut results = Vec::new();
    for (name, addr) in unwritable() {
        if addr == 0 {
            continue; // null means "no status": a valid wait
        }
        // SAFETY: each address is invalid or read-only: the kernel must refuse to write there.
        results.push((format!("into {name}"), unsafe { raw(nr::wait, &[addr]) }));
    }
    // SAFETY: 2 bytes of our fresh page, then unmapped memory.
    let across = with_edge(|end| unsafe { raw(nr::wait, &[end - 2]) })?;
    results.push(("across the end of mapped memory".into(), across));
    let killed = process::kill(pid);
    let status = reap(pid);
    all_fail_with("wait", &results, Errno::EFAULT)?;
    let status = status.map_err(|e| format!("{e} (a failed wait reaped the child?)"))?;
    killed.map_err(errno("kill"))?;
    ensure_eq!(
        status,
        KILLED_STATUS,
        "status of the child, killed after the failed waits"
    );
    Ok(())
}

pub fn fstat_bad_pointers() -> TestResult {
    let mut results = Vec::new();
    for (name, addr) in unwritable() {
        // SAFETY: each address is invalid or read-only: the kernel must refuse to write there.
        results.push((format!("into {name}"), unsafe {
            raw(nr::fstat, &[1, addr])
        }));
    }
    // SAFETY: 8 bytes of our fresh page, then unmapped memory.
    let across = with_edge(|end| unsafe { raw(nr::fstat, &[1, end - 8]) })?;
    results.push(("across the end of mapped memory".into(), across));
    all_fail_with("fstat(1)", &results, Errno::EFAULT)
}

pub fn ps_bad_pointers() -> TestResult {
    let mut results = Vec::new();
    for (name, addr) in unwritable() {
        // SAFETY: each address is invalid or read-only: the kernel must refuse to write there.
        results.push((format!("into {name}"), unsafe {
            raw(nr::ps, &[addr, NPROC as u64])
        }));
    }
    let row = core::mem::size_of::<ProcInfo>() as u64;
    // SAFETY: one row fits in our fresh page, the second (init and we make two) does not.
    let across = with_edge(|end| unsafe { raw(nr::ps, &[end - row, 2]) })?;
    results.push(("across the end of mapped memory".into(), across));
    all_fail_with("ps", &results, Errno::EFAULT)
}

/// A path call's registers from `(path, another valid path)`.
type PathArgs = fn(u64, u64) -> [u64; 3];

/// Every call taking a path, with bad pointers and an unterminated string.
pub fn path_bad_pointers() -> TestResult {
    let x = c"x".as_ptr() as u64;
    let calls: [(&str, usize, PathArgs); 7] = [
        ("open", nr::open, |p, _| [p, 0, 0]),
        ("chdir", nr::chdir, |p, _| [p, 0, 0]),
        ("mkdir", nr::mkdir, |p, _| [p, 0, 0]),
        ("unlink", nr::unlink, |p, _| [p, 0, 0]),
        ("mknod", nr::mknod, |p, _| [p, 1, 0]),
        ("link (old)", nr::link, |p, x| [p, x, 0]),
        ("link (new)", nr::link, |p, x| [x, p, 0]),
    ];
    let mut results = Vec::new();
    for (call, num, args) in calls {
        for &(name, addr) in BAD {
            // SAFETY: path calls only read memory.
            results.push((format!("{call} of {name}"), unsafe {
                raw(num, &args(addr, x))
            }));
        }
        let unterminated = with_edge(|end| {
            // SAFETY: [end - 8, end) is our fresh page; fill it without a NUL.
            unsafe { ptr::write_bytes((end - 8) as *mut u8, b'a', 8) };
            // SAFETY: path calls only read memory.
            unsafe { raw(num, &args(end - 8, x)) }
        })?;
        results.push((
            format!("{call} of a string running off mapped memory"),
            unterminated,
        ));
    }
    all_fail_with("", &results, Errno::EFAULT)
}

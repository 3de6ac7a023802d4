//! Bad pointers (xv6's copyin, copyout, copyinstr and friends): every
//! system call that reads or writes user memory refuses an address the
//! process does not own with EFAULT, does nothing, and the process lives.

use ulib::abi::fcntl::{O_CREATE, O_RDONLY, O_RDWR};
use ulib::abi::stat::Stat;
use ulib::fd;
use ulib::prelude::*;
use ulib::process::{self, Fork};
use ulib::sys::nr;
use ulib::test::TestResult;
use ulib::{ensure, ensure_eq};

use crate::util::{
    close_all, count_open_fds, cstr, ok, raw, read_file, unlink, want_err, want_raw, with_edge,
    write_file, BAD_ADDRS,
};

/// Read-only data: the kernel may read it but never write it.
static RODATA: [u8; 64] = [0x42; 64];

/// Addresses the kernel must not write: the bad ones, text and rodata.
fn unwritable() -> Vec<(&'static str, u64)> {
    let mut v = BAD_ADDRS.to_vec();
    v.push(("text", unwritable as *const () as u64));
    v.push(("rodata", RODATA.as_ptr() as u64));
    v
}

/// xv6's copyin: write from bad addresses, to a file and to a pipe.
pub fn copyin() -> TestResult {
    let f = ok("create", fd::open("ci", O_CREATE | O_RDWR))?;
    let (r, w) = ok("pipe", fd::pipe())?;
    let mut problems = Vec::new();
    for &(name, addr) in BAD_ADDRS {
        for (what, fdn) in [("file", f), ("pipe", w)] {
            // SAFETY: write only reads memory; these addresses are not ours.
            let ret = unsafe { raw(nr::write, &[fdn as u64, addr, 8192]) };
            if let Err(e) = want_raw(
                &format!("write to a {what} from {name}"),
                ret,
                Errno::EFAULT,
            ) {
                problems.push(e);
            }
        }
    }
    // SAFETY: as above; the range starts in our last page and runs past it.
    let across = with_edge(|end| unsafe { raw(nr::write, &[f as u64, end - 10, 20]) })?;
    if let Err(e) = want_raw("write from across the end of memory", across, Errno::EFAULT) {
        problems.push(e);
    }
    let st = fd::fstat(f);
    close_all(&[f, r, w]);
    crate::util::ensure_none(&problems)?;
    ensure_eq!(
        ok("fstat", st)?.size,
        0,
        "size of the file after the refused writes"
    );
    unlink("ci")
}

/// xv6's copyout: read into bad or read-only addresses, from a file and a pipe.
pub fn copyout() -> TestResult {
    write_file("co", &[7u8; 8192])?;
    let f = ok("open", fd::open("co", O_RDONLY))?;
    let (r, w) = ok("pipe", fd::pipe())?;
    let mut problems = Vec::new();
    for (name, addr) in unwritable() {
        ok("fill the pipe", fd::write_all(w, b"x"))?;
        for (what, fdn) in [("file", f), ("pipe", r)] {
            // SAFETY: the kernel must refuse to write to these addresses.
            let ret = unsafe { raw(nr::read, &[fdn as u64, addr, 8192]) };
            if let Err(e) = want_raw(
                &format!("read from a {what} into {name}"),
                ret,
                Errno::EFAULT,
            ) {
                problems.push(e);
            }
        }
        let mut b = [0u8; 1];
        let _ = fd::read(r, &mut b);
    }
    // SAFETY: the range starts in our last page and runs past it.
    let across = with_edge(|end| unsafe { raw(nr::read, &[f as u64, end - 10, 20]) })?;
    if let Err(e) = want_raw("read into across the end of memory", across, Errno::EFAULT) {
        problems.push(e);
    }
    let mut buf = [0u8; 16];
    let n = fd::read(f, &mut buf);
    close_all(&[f, r, w]);
    crate::util::ensure_none(&problems)?;
    ensure_eq!(
        n,
        Ok(16),
        "a good read after the refused ones (the offset did not move)"
    );
    ensure!(RODATA.iter().all(|&b| b == 0x42), "read-only data changed");
    unlink("co")
}

/// The registers of a call given a path pointer and a good path pointer.
type PathArgs = fn(u64, u64) -> [u64; 3];

/// xv6's copyinstr: paths at bad addresses, or running off the end of
/// memory without a terminator, for every call that takes a path.
pub fn copyinstr() -> TestResult {
    write_file("cs", b"x")?;
    let good = cstr("cs");
    let g = good.as_ptr() as u64;
    let calls: [(&str, usize, PathArgs); 8] = [
        ("open", nr::open, |p, _| [p, u64::from(O_RDONLY), 0]),
        ("mkdir", nr::mkdir, |p, _| [p, 0, 0]),
        ("mknod", nr::mknod, |p, _| [p, 1, 0]),
        ("unlink", nr::unlink, |p, _| [p, 0, 0]),
        ("chdir", nr::chdir, |p, _| [p, 0, 0]),
        ("link (old)", nr::link, |p, _| [p, 0, 0]),
        ("link (new)", nr::link, |p, g| [g, p, 0]),
        ("exec", nr::exec, |p, _| [p, 0, 0]),
    ];
    let mut problems = Vec::new();
    for (call, num, args) in calls {
        for &(name, addr) in BAD_ADDRS {
            // SAFETY: the kernel only reads through these pointers, and must refuse them.
            let ret = unsafe { raw(num, &args(addr, g)) };
            if let Err(e) = want_raw(&format!("{call} of a path at {name}"), ret, Errno::EFAULT) {
                problems.push(e);
            }
        }
        // A path filling our last page with no terminator.
        let ret = with_edge(|end| {
            // SAFETY: [end - 16, end) is our fresh page.
            unsafe { core::ptr::write_bytes((end - 16) as *mut u8, b'a', 16) };
            // SAFETY: the kernel must stop at the end of our memory.
            unsafe { raw(num, &args(end - 16, g)) }
        })?;
        if let Err(e) = want_raw(
            &format!("{call} of an unterminated path at the end of memory"),
            ret,
            Errno::EFAULT,
        ) {
            problems.push(e);
        }
    }
    crate::util::ensure_none(&problems)?;
    ensure_eq!(read_file("cs")?, b"x", "the file after the refused calls");
    ensure_eq!(
        crate::util::names_in(".")?,
        vec![String::from("cs")],
        "the directory after the refused calls"
    );
    unlink("cs")
}

/// fstat, pipe, wait and ps write results: bad addresses are EFAULT and
/// nothing happens (no descriptor leaks, no child is reaped).
pub fn result_pointers() -> TestResult {
    write_file("rp", b"")?;
    let f = ok("open", fd::open("rp", O_RDONLY))?;
    let open_before = count_open_fds();
    let mut problems = Vec::new();
    for (name, addr) in unwritable() {
        let mut check = |what: &str, ret: i64| {
            if let Err(e) = want_raw(&format!("{what} into {name}"), ret, Errno::EFAULT) {
                problems.push(e);
            }
        };
        // SAFETY: each call must refuse to write to the address.
        unsafe {
            check("fstat", raw(nr::fstat, &[f as u64, addr]));
            check("pipe", raw(nr::pipe, &[addr]));
            check("ps", raw(nr::ps, &[addr, 4]));
        }
    }
    crate::util::ensure_none(&problems)?;
    ensure_eq!(
        count_open_fds(),
        open_before,
        "open descriptors after the failed pipe calls"
    );
    ok("close", fd::close(f))?;
    // wait with a bad status pointer fails and leaves the child to reap.
    let pid = match process::fork() {
        Ok(Fork::Child) => process::exit(7),
        Ok(Fork::Parent(pid)) => pid,
        Err(e) => return Err(format!("fork: {e:?}")),
    };
    let _ = process::sleep(2);
    for (name, addr) in unwritable().into_iter().filter(|(n, _)| *n != "null") {
        // SAFETY: wait must refuse to write its status there.
        let ret = unsafe { raw(nr::wait, &[addr]) };
        want_raw(&format!("wait with status at {name}"), ret, Errno::EFAULT)?;
    }
    // A null status pointer means "no status" (xv6): the child is still there to reap.
    // SAFETY: a null pointer is never written.
    let ret = unsafe { raw(nr::wait, &[0]) };
    ensure_eq!(ret, i64::from(pid), "wait(null) after the refused waits");
    unlink("rp")
}

/// exec with a bad argv array or a bad string in it is EFAULT, and returns.
pub fn exec_bad_argv() -> TestResult {
    let path = cstr("/echoargs");
    let arg = cstr("echoargs");
    let p = path.as_ptr() as u64;
    for &(name, addr) in BAD_ADDRS.iter().filter(|(n, _)| *n != "null") {
        // SAFETY: exec only reads; on failure it returns.
        let ret = unsafe { raw(nr::exec, &[p, addr]) };
        want_raw(&format!("exec with argv at {name}"), ret, Errno::EFAULT)?;
        let argv = [arg.as_ptr() as u64, addr, 0];
        // SAFETY: as above.
        let ret = unsafe { raw(nr::exec, &[p, argv.as_ptr() as u64]) };
        want_raw(&format!("exec with argv[1] at {name}"), ret, Errno::EFAULT)?;
    }
    // An argv array running off the end of memory without its null.
    let ret = with_edge(|end| {
        let slot = (end - 8) as *mut u64;
        // SAFETY: the last 8 bytes of our fresh page.
        unsafe { slot.write(arg.as_ptr() as u64) };
        // SAFETY: exec must stop at the end of our memory.
        unsafe { raw(nr::exec, &[p, end - 8]) }
    })?;
    want_raw(
        "exec with argv running off the end of memory",
        ret,
        Errno::EFAULT,
    )
}

/// Descriptors that are not open are EBADF for every call that takes one.
pub fn bad_descriptors() -> TestResult {
    let mut st = Stat::default();
    let mut buf = [0u8; 8];
    let unused = 50; // not open in a test process
    for bad in [-1i32, unused, 63, 64, 1000, i32::MAX, i32::MIN] {
        want_err(
            &format!("read({bad})"),
            fd::read(bad, &mut buf),
            Errno::EBADF,
        )?;
        want_err(&format!("write({bad})"), fd::write(bad, b"x"), Errno::EBADF)?;
        want_err(&format!("close({bad})"), fd::close(bad), Errno::EBADF)?;
        want_err(&format!("dup({bad})"), fd::dup(bad), Errno::EBADF)?;
        // SAFETY: `st` is ours to write.
        let ret = unsafe { raw(nr::fstat, &[bad as i64 as u64, &mut st as *mut Stat as u64]) };
        want_raw(&format!("fstat({bad})"), ret, Errno::EBADF)?;
    }
    // A descriptor number with garbage in the upper register half is the low 32 bits (a C int).
    // SAFETY: `buf` is ours to write; fd 0x1_0000_0032 reads as 50, not open.
    let ret = unsafe {
        raw(
            nr::read,
            &[0x1_0000_0000 | unused as u64, buf.as_mut_ptr() as u64, 1],
        )
    };
    want_raw("read(50 with high bits set)", ret, Errno::EBADF)
}

//! What a C program may do that the Rust wrappers never do: `int`
//! arguments with junk in the upper half of the register, and paths and
//! `exec` arguments that are bytes, not UTF-8.

use ulib::abi::fcntl::{O_CREATE, O_RDWR};
use ulib::fd;
use ulib::prelude::*;
use ulib::sys::{self, nr};
use ulib::test::{capture, describe, TestResult};
use ulib::{ensure, ensure_eq};

use crate::util::write_file;

/// Junk for the upper half of a register carrying an `int`.
const JUNK: u64 = 0xdead_beef_0000_0000;

/// `open`'s flags are an `int`: the upper half of the register is ignored.
pub fn open_flags_low_32_bits() -> TestResult {
    write_file("flags", b"x")?;
    // SAFETY: a NUL-terminated path the kernel only reads.
    let o = unsafe {
        sys::syscall(
            nr::open as u64,
            &[c"flags".as_ptr() as u64, JUNK | u64::from(O_RDWR)],
        )
    };
    ensure!(o >= 0, "open(\"flags\", junk | O_RDWR): {}", describe(o));
    ensure_eq!(fd::write(o as i32, b"y"), Ok(1), "write through it");
    ensure_eq!(fd::close(o as i32), Ok(()), "close");
    fd::unlink("flags").map_err(|e| format!("unlink: {e:?}"))
}

/// Names that are not UTF-8 are created, found and removed, and `exec`
/// arguments reach the program byte for byte.
pub fn non_utf8_names_and_args() -> TestResult {
    let name = b"\xff\xfe-not-utf8\0";
    let open = |flags: u32| {
        // SAFETY: a NUL-terminated path the kernel only reads.
        unsafe { sys::syscall(nr::open as u64, &[name.as_ptr() as u64, u64::from(flags)]) }
    };
    let f = open(O_CREATE | O_RDWR);
    ensure!(f >= 0, "create a non-UTF-8 name: {}", describe(f));
    ensure_eq!(fd::close(f as i32), Ok(()), "close");
    let again = open(0);
    ensure!(again >= 0, "open it again: {}", describe(again));
    ensure_eq!(fd::close(again as i32), Ok(()), "close");
    // SAFETY: as above.
    let u = unsafe { sys::syscall(nr::unlink as u64, &[name.as_ptr() as u64]) };
    ensure_eq!(u, 0, "unlink the non-UTF-8 name");

    let arg = b"\xff\x80 raw\0";
    let prog = b"/echoargs\0";
    let (printed, status) = capture(|| {
        let argv = [prog.as_ptr(), arg.as_ptr(), core::ptr::null()];
        // SAFETY: NUL-terminated strings and a null-terminated argv, all ours.
        unsafe {
            sys::syscall(
                nr::exec as u64,
                &[prog.as_ptr() as u64, argv.as_ptr() as u64],
            )
        };
        127
    })?;
    ensure_eq!(status, 0, "status of echoargs");
    ensure_eq!(
        printed.as_slice(),
        b"argv[0]=/echoargs\nargv[1]=\xff\x80 raw\n".as_slice(),
        "what echoargs printed"
    );
    Ok(())
}

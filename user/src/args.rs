//! The program's arguments, as the kernel left them on the user stack.
//!
//! `_start` receives `argc` and `argv` (an array of `argc` pointers to
//! NUL-terminated strings, then a null pointer). The strings stay on the
//! stack, above everything the program pushes, for the life of the process,
//! so they are handed out as `&'static str`. The kernel passes arguments
//! through as UTF-8 (it replaces invalid sequences), so an argument that is
//! not UTF-8 cannot normally occur; should one appear it reads as "\u{fffd}".

use core::ffi::{c_char, CStr};

/// Iterator over the arguments; `argv[0]` (the program's name) comes first.
#[derive(Clone, Debug)]
pub struct Args {
    argv: *const *const u8,
    next: usize,
    end: usize,
}

impl Args {
    /// Arguments from `_start`'s `argc` and `argv`.
    ///
    /// # Safety
    /// `argv` must point at `argc` pointers to NUL-terminated strings that
    /// stay valid and unchanged for the rest of the process (the kernel's
    /// stack layout at entry), unless `argc` is 0.
    pub unsafe fn from_raw(argc: usize, argv: *const *const u8) -> Args {
        Args {
            argv,
            next: 0,
            end: if argv.is_null() { 0 } else { argc },
        }
    }

    /// Argument `i` as bytes (without its NUL), counting from `argv[0]`
    /// whatever has been consumed; `None` past the end.
    pub fn bytes(&self, i: usize) -> Option<&'static [u8]> {
        if i >= self.end {
            return None;
        }
        // SAFETY: `i < argc`, so `argv[i]` is one of the pointers `from_raw`'s
        // caller vouched for: a NUL-terminated string valid for the process's life.
        let s = unsafe { CStr::from_ptr(*self.argv.add(i) as *const c_char) };
        Some(s.to_bytes())
    }

    /// Argument `i` (see [`Args::bytes`]).
    pub fn get(&self, i: usize) -> Option<&'static str> {
        self.bytes(i)
            .map(|b| core::str::from_utf8(b).unwrap_or("\u{fffd}"))
    }

    /// The raw `argv` pointer `_start` received.
    pub fn as_ptr(&self) -> *const *const u8 {
        self.argv
    }

    /// `argc`: the number of arguments, `argv[0]` included.
    pub fn argc(&self) -> usize {
        self.end
    }
}

impl Iterator for Args {
    type Item = &'static str;

    fn next(&mut self) -> Option<&'static str> {
        let s = self.get(self.next)?;
        self.next += 1;
        Some(s)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Args {}

/// The whole `main` of a program that applies one operation to each of its
/// arguments (`mkdir dir...`, `rm file...`, `kill pid...`). Without an
/// operand it prints `usage: PROGRAM OPERANDS` and returns 2. Otherwise it
/// runs `op` on each operand in turn, reports a failure as
/// `PROGRAM: ARG: <reason>` and goes on, and returns 1 if any failed, else 0.
pub fn for_each_operand(
    args: Args,
    program: &str,
    operands: &str,
    mut op: impl FnMut(&'static str) -> Result<(), crate::Errno>,
) -> i32 {
    if args.len() < 2 {
        crate::eprintln!("usage: {program} {operands}");
        return 2;
    }
    let mut status = 0;
    for arg in args.skip(1) {
        if let Err(e) = op(arg) {
            crate::eprintln!("{program}: {arg}: {}", e.description());
            status = 1;
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn iterates_argv_in_order() {
        let strings: [&[u8]; 3] = [b"prog\0", b"one\0", b"\xff\0"];
        let mut argv: Vec<*const u8> = strings.iter().map(|s| s.as_ptr()).collect();
        argv.push(core::ptr::null());
        // SAFETY: three valid NUL-terminated strings, alive for the test.
        let args = unsafe { Args::from_raw(3, argv.as_ptr()) };
        assert_eq!(args.len(), 3);
        assert_eq!(args.argc(), 3);
        assert_eq!(
            args.clone().collect::<Vec<_>>(),
            ["prog", "one", "\u{fffd}"]
        );
        assert_eq!(args.bytes(2), Some(&b"\xff"[..]));
        let mut rest = args.clone();
        assert_eq!(rest.next(), Some("prog"));
        assert_eq!(rest.len(), 2);
        assert_eq!(rest.get(0), Some("prog"), "get counts from argv[0]");
        assert_eq!(args.get(3), None);
        // SAFETY: argc 0 never reads argv.
        let none = unsafe { Args::from_raw(0, core::ptr::null()) };
        assert_eq!(none.count(), 0);
    }
}

//! NUL-terminated strings and argument vectors for the kernel, built on the heap.
//!
//! The kernel takes paths as C strings and `exec`'s arguments as a
//! null-terminated array of C strings. A Rust `&str` may contain a NUL,
//! which would silently cut the string short in the kernel; these builders
//! refuse it with `EINVAL` instead.

use alloc::vec::Vec;

use berth_abi::errno::Errno;

/// `s` followed by a NUL; `EINVAL` if `s` contains one.
pub fn c_string(s: &str) -> Result<Vec<u8>, Errno> {
    if s.as_bytes().contains(&0) {
        return Err(Errno::EINVAL);
    }
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    Ok(v)
}

/// An `argv` for `exec`: the strings, each NUL-terminated, in one buffer,
/// and an array of pointers into it ending with a null pointer.
pub struct Argv {
    /// Keeps the strings alive; `ptrs` points into it.
    _strings: Vec<u8>,
    ptrs: Vec<*const u8>,
}

impl Argv {
    /// Builds the vector; `EINVAL` if an argument contains a NUL.
    pub fn new(args: &[&str]) -> Result<Argv, Errno> {
        let total = args.iter().map(|a| a.len() + 1).sum();
        let mut strings = Vec::with_capacity(total);
        let mut offsets = Vec::with_capacity(args.len());
        for a in args {
            if a.as_bytes().contains(&0) {
                return Err(Errno::EINVAL);
            }
            offsets.push(strings.len());
            strings.extend_from_slice(a.as_bytes());
            strings.push(0);
        }
        // `strings` no longer grows, so pointers into it stay valid.
        let base = strings.as_ptr();
        let mut ptrs: Vec<*const u8> = offsets.iter().map(|&o| base.wrapping_add(o)).collect();
        ptrs.push(core::ptr::null());
        Ok(Argv {
            _strings: strings,
            ptrs,
        })
    }

    /// The null-terminated pointer array, valid while `self` lives.
    pub fn as_ptr(&self) -> *const *const u8 {
        self.ptrs.as_ptr()
    }

    /// Number of arguments (the terminating null not counted).
    pub fn len(&self) -> usize {
        self.ptrs.len() - 1
    }

    /// Whether there are no arguments.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ffi::CStr;

    #[test]
    fn c_strings_are_terminated_and_refuse_nul() {
        assert_eq!(c_string("abc").unwrap(), b"abc\0");
        assert_eq!(c_string("").unwrap(), b"\0");
        assert_eq!(c_string("a\0b"), Err(Errno::EINVAL));
    }

    #[test]
    fn argv_points_at_each_string_and_ends_with_null() {
        let argv = Argv::new(&["echoargs", "", "two words"]).unwrap();
        assert_eq!(argv.len(), 3);
        let p = argv.as_ptr();
        let read = |i: usize| {
            // SAFETY: `i` < len, and each pointer names a NUL-terminated string in `argv`.
            unsafe { CStr::from_ptr(*p.add(i) as *const core::ffi::c_char) }
                .to_bytes()
                .to_vec()
        };
        assert_eq!(read(0), b"echoargs");
        assert_eq!(read(1), b"");
        assert_eq!(read(2), b"two words");
        // SAFETY: the array has len + 1 entries.
        assert!(unsafe { *p.add(3) }.is_null());
        assert!(Argv::new(&[]).unwrap().is_empty());
        assert_eq!(Argv::new(&["ok", "bad\0"]).err(), Some(Errno::EINVAL));
    }
}

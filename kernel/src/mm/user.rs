//! Typed user addresses: [`UserPtr<T>`] (one `T`, or the first of an
//! array) and [`UserSlice`] (a byte range), what system calls get instead
//! of bare `u64`s.
//!
//! Neither can be dereferenced, and their address is private to `mm`:
//! only the address space (`uvm.rs`) reads or writes through them, with its
//! checked, page-by-page copies. A `UserPtr<T>` reads and writes exactly a
//! `T` (a `berth_abi::pod::Pod` value, copied whole); a `UserSlice` says how
//! many bytes the caller handed over, and a copy longer than it is refused,
//! so the kernel cannot write past what a caller gave it. The arithmetic
//! here is checked: a range that wraps or ends past the user half is
//! `EFAULT` before any page is looked at.

use core::marker::PhantomData;

use berth_abi::errno::Errno;

/// End of the user half of the address space (exclusive): the canonical
/// lower half, as `arch::x86_64::paging::USER_END`.
pub const USER_END: u64 = 0x0000_8000_0000_0000;

/// The user address of a `T` (or of the first of several).
pub struct UserPtr<T> {
    addr: u64,
    _to: PhantomData<fn() -> T>,
}

impl<T> Clone for UserPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for UserPtr<T> {}

impl<T> PartialEq for UserPtr<T> {
    fn eq(&self, other: &Self) -> bool {
        self.addr == other.addr
    }
}

impl<T> core::fmt::Debug for UserPtr<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "UserPtr({:#x})", self.addr)
    }
}

impl<T> UserPtr<T> {
    /// The pointer a caller passed (any value: it is checked when used).
    pub const fn new(addr: u64) -> UserPtr<T> {
        UserPtr {
            addr,
            _to: PhantomData,
        }
    }

    /// Whether the caller passed NULL (an optional argument left out).
    pub fn is_null(self) -> bool {
        self.addr == 0
    }

    /// The `i`th `T` from here; `EFAULT` if that leaves the address space.
    pub fn at(self, i: usize) -> Result<UserPtr<T>, Errno> {
        let step = (i as u64)
            .checked_mul(core::mem::size_of::<T>() as u64)
            .ok_or(Errno::EFAULT)?;
        let addr = self.addr.checked_add(step).ok_or(Errno::EFAULT)?;
        Ok(UserPtr::new(addr))
    }

    /// The bytes of `count` consecutive `T`s from here.
    pub fn array(self, count: usize) -> Result<UserSlice, Errno> {
        let len = (count as u64)
            .checked_mul(core::mem::size_of::<T>() as u64)
            .ok_or(Errno::EFAULT)?;
        UserSlice::new(self.addr, len)
    }

    /// The address, for the address space's copies only (`uvm.rs`, a
    /// kernel build's).
    #[cfg_attr(not(target_os = "none"), allow(dead_code))]
    pub(in crate::mm) fn addr(self) -> u64 {
        self.addr
    }
}

impl UserPtr<u8> {
    /// The `len` bytes from here (a `(buf, n)` argument pair).
    pub fn slice(self, len: usize) -> Result<UserSlice, Errno> {
        UserSlice::new(self.addr, len as u64)
    }
}

/// `len` bytes of user memory from `addr`, within the user half.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserSlice {
    addr: u64,
    len: u64,
}

impl UserSlice {
    /// `EFAULT` if `[addr, addr + len)` wraps, ends past the user half or
    /// (when not empty) starts at NULL. An empty range is always valid.
    pub fn new(addr: u64, len: u64) -> Result<UserSlice, Errno> {
        if len == 0 {
            return Ok(UserSlice { addr, len });
        }
        let end = addr.checked_add(len).ok_or(Errno::EFAULT)?;
        if addr == 0 || end > USER_END {
            return Err(Errno::EFAULT);
        }
        Ok(UserSlice { addr, len })
    }

    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `len` bytes at offset `at` of this range; `EFAULT` unless they
    /// lie inside it.
    pub fn sub(&self, at: u64, len: u64) -> Result<UserSlice, Errno> {
        let end = at.checked_add(len).ok_or(Errno::EFAULT)?;
        if end > self.len {
            return Err(Errno::EFAULT);
        }
        Ok(UserSlice {
            addr: self.addr + at,
            len,
        })
    }

    /// Its first `len` bytes (all of it when it is shorter).
    pub fn prefix(&self, len: u64) -> UserSlice {
        UserSlice {
            addr: self.addr,
            len: len.min(self.len),
        }
    }

    /// The start, for the address space's copies only.
    #[cfg_attr(not(target_os = "none"), allow(dead_code))]
    pub(in crate::mm) fn addr(&self) -> u64 {
        self.addr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_stay_in_the_user_half() {
        assert!(UserSlice::new(0x1000, 4096).is_ok());
        assert_eq!(UserSlice::new(0, 1), Err(Errno::EFAULT));
        assert!(UserSlice::new(0, 0).is_ok(), "an empty range names nothing");
        assert_eq!(UserSlice::new(u64::MAX, 2), Err(Errno::EFAULT));
        assert_eq!(UserSlice::new(USER_END - 8, 9), Err(Errno::EFAULT));
        assert!(UserSlice::new(USER_END - 8, 8).is_ok());
        assert_eq!(UserSlice::new(USER_END, 1), Err(Errno::EFAULT));
        assert_eq!(UserSlice::new(0x1000, u64::MAX), Err(Errno::EFAULT));
    }

    #[test]
    fn sub_ranges_lie_inside() {
        let s = UserSlice::new(0x4000, 100).unwrap();
        let t = s.sub(10, 90).unwrap();
        assert_eq!((t.addr(), t.len()), (0x400a, 90));
        assert!(s.sub(100, 0).unwrap().is_empty());
        assert_eq!(s.sub(10, 91), Err(Errno::EFAULT));
        assert_eq!(s.sub(101, 0), Err(Errno::EFAULT));
        assert_eq!(s.sub(u64::MAX, 2), Err(Errno::EFAULT));
        assert_eq!(s.prefix(1000), s);
        assert_eq!(s.prefix(5).len(), 5);
    }

    #[test]
    fn pointers_step_and_span_by_their_type() {
        let p = UserPtr::<u64>::new(0x2000);
        assert_eq!(p.at(3).unwrap().addr(), 0x2018);
        assert_eq!(p.at(usize::MAX), Err(Errno::EFAULT));
        assert_eq!(UserPtr::<u64>::new(u64::MAX - 7).at(1), Err(Errno::EFAULT));
        let a = UserPtr::<[u8; 56]>::new(0x3000).array(2).unwrap();
        assert_eq!((a.addr(), a.len()), (0x3000, 112));
        assert_eq!(
            UserPtr::<[u8; 56]>::new(0x3000).array(usize::MAX),
            Err(Errno::EFAULT)
        );
        assert_eq!(UserPtr::<u8>::new(0).slice(1), Err(Errno::EFAULT));
        assert!(UserPtr::<u8>::new(0).is_null());
        assert_eq!(UserPtr::<u8>::new(0x10).slice(6).unwrap().len(), 6);
    }
}

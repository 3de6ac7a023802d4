//! Where a file read's bytes go ([`Sink`]) and where a write's come from
//! ([`Source`]): a kernel buffer, or (in the system-call layer) the
//! caller's user memory.
//!
//! File reads and writes copy straight between a cached block and the
//! sink or source, one copy per piece, instead of staging the data in a
//! kernel buffer first: a `read()` that hits the buffer cache copies each
//! byte once, from the buffer to user memory, as xv6's `readi` does with
//! `either_copyout`.
//!
//! Locking: a sink or source is called with the inode's and the buffer's
//! sleep locks held (and, for a write, inside a log operation). The
//! system-call layer's user sink takes the process's address-space lock
//! for each piece, so that lock is innermost: nothing takes an inode or
//! buffer lock while holding an address-space lock.

use berth_abi::errno::Errno;

/// Where read bytes go: `len()` bytes of room, filled at offsets.
pub trait Sink {
    /// Bytes of room in all.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Stores `bytes` at offset `at`; `EFAULT` if they do not fit or the
    /// destination refuses them.
    fn put(&mut self, at: usize, bytes: &[u8]) -> Result<(), Errno>;
}

/// Where written bytes come from: `len()` bytes, taken at offsets.
pub trait Source {
    /// Bytes available in all.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Fills `into` from offset `at`; `EFAULT` past the end or if the
    /// origin cannot be read.
    fn take(&self, at: usize, into: &mut [u8]) -> Result<(), Errno>;
}

impl Sink for [u8] {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }

    fn put(&mut self, at: usize, bytes: &[u8]) -> Result<(), Errno> {
        let end = at.checked_add(bytes.len()).ok_or(Errno::EFAULT)?;
        self.get_mut(at..end)
            .ok_or(Errno::EFAULT)?
            .copy_from_slice(bytes);
        Ok(())
    }
}

impl Source for [u8] {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }

    fn take(&self, at: usize, into: &mut [u8]) -> Result<(), Errno> {
        let end = at.checked_add(into.len()).ok_or(Errno::EFAULT)?;
        into.copy_from_slice(self.get(at..end).ok_or(Errno::EFAULT)?);
        Ok(())
    }
}

/// The bytes of `src` from offset `from` on (what is left to write after
/// an operation took its share).
pub struct Rest<'a, S: Source + ?Sized> {
    src: &'a S,
    from: usize,
}

impl<'a, S: Source + ?Sized> Rest<'a, S> {
    pub fn new(src: &'a S, from: usize) -> Self {
        Rest {
            src,
            from: from.min(src.len()),
        }
    }
}

impl<S: Source + ?Sized> Source for Rest<'_, S> {
    fn len(&self) -> usize {
        self.src.len() - self.from
    }

    fn take(&self, at: usize, into: &mut [u8]) -> Result<(), Errno> {
        let at = self.from.checked_add(at).ok_or(Errno::EFAULT)?;
        self.src.take(at, into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_refuse_what_does_not_fit() {
        let mut buf = [0u8; 8];
        buf.put(2, b"abc").unwrap();
        assert_eq!(&buf[..6], b"\0\0abc\0");
        assert_eq!(buf.put(6, b"abc"), Err(Errno::EFAULT));
        assert_eq!(buf.put(usize::MAX, b"a"), Err(Errno::EFAULT));
        let src: &[u8] = b"hello";
        let mut two = [0u8; 2];
        src.take(3, &mut two).unwrap();
        assert_eq!(&two, b"lo");
        assert_eq!(src.take(4, &mut two), Err(Errno::EFAULT));
    }

    #[test]
    fn rest_starts_where_the_last_operation_stopped() {
        let src: &[u8] = b"0123456789";
        let rest = Rest::new(src, 4);
        assert_eq!(rest.len(), 6);
        let mut three = [0u8; 3];
        rest.take(1, &mut three).unwrap();
        assert_eq!(&three, b"567");
        assert_eq!(rest.take(4, &mut three), Err(Errno::EFAULT));
        assert_eq!(Rest::new(src, 99).len(), 0);
    }
}

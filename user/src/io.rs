//! Formatted output: `print!`/`println!` to fd 1, `eprint!`/`eprintln!` to fd 2.
//!
//! Each macro call formats into a buffer on the stack and hands it to the
//! kernel with one `write`, so lines from processes sharing the console do
//! not interleave mid-line. Output longer than the buffer ([`LINE_MAX`]
//! bytes) goes out in several writes. Nothing is allocated, so printing
//! works when the heap cannot grow, and errors (a closed fd) are ignored,
//! like a terminal that went away.

use core::fmt;

use berth_abi::errno::Errno;

/// Bytes one macro call buffers before it has to write.
pub const LINE_MAX: usize = 512;

/// Where a [`LineWriter`] sends its bytes.
pub trait Sink {
    /// Writes some of `bytes`, returning how many were taken.
    fn write(&mut self, bytes: &[u8]) -> Result<usize, Errno>;
}

/// A file descriptor as a sink.
pub struct Fd(pub i32);

impl Sink for Fd {
    fn write(&mut self, bytes: &[u8]) -> Result<usize, Errno> {
        crate::fd::write(self.0, bytes)
    }
}

/// Collects formatted output and passes it to its sink in as few writes as
/// the buffer allows: when full, and on [`LineWriter::flush`].
pub struct LineWriter<S: Sink> {
    sink: S,
    buf: [u8; LINE_MAX],
    len: usize,
    /// The first error the sink returned; later output is dropped.
    error: Option<Errno>,
}

impl<S: Sink> LineWriter<S> {
    /// An empty writer in front of `sink`.
    pub fn new(sink: S) -> LineWriter<S> {
        LineWriter {
            sink,
            buf: [0; LINE_MAX],
            len: 0,
            error: None,
        }
    }

    /// Writes out what is buffered, retrying short writes.
    pub fn flush(&mut self) -> Result<(), Errno> {
        let mut done = 0;
        while done < self.len && self.error.is_none() {
            match self.sink.write(&self.buf[done..self.len]) {
                Ok(0) => self.error = Some(Errno::EIO),
                Ok(n) => done += n,
                Err(e) => self.error = Some(e),
            }
        }
        self.len = 0;
        self.error.map_or(Ok(()), Err)
    }

    /// The sink, after a final flush.
    pub fn into_sink(mut self) -> S {
        let _ = self.flush();
        let LineWriter { sink, .. } = self;
        sink
    }
}

impl<S: Sink> fmt::Write for LineWriter<S> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s.as_bytes();
        while !rest.is_empty() {
            if self.len == LINE_MAX {
                // Errors are remembered in `self.error`; formatting goes on
                // so one failed write does not look like a formatting bug.
                let _ = self.flush();
            }
            let n = rest.len().min(LINE_MAX - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&rest[..n]);
            self.len += n;
            rest = &rest[n..];
        }
        Ok(())
    }
}

/// Formats `args` and writes them to `fd`; used by the print macros.
#[doc(hidden)]
pub fn _print(fd: i32, args: fmt::Arguments) {
    let mut w = LineWriter::new(Fd(fd));
    let _ = fmt::Write::write_fmt(&mut w, args);
    let _ = w.flush();
}

/// Prints to fd 1 (standard output).
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::io::_print(1, format_args!($($arg)*)) };
}

/// Prints a line to fd 1 (standard output) with one `write`.
#[macro_export]
macro_rules! println {
    () => { $crate::io::_print(1, format_args!("\n")) };
    ($($arg:tt)*) => { $crate::io::_print(1, format_args!("{}\n", format_args!($($arg)*))) };
}

/// Prints to fd 2 (standard error).
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::io::_print(2, format_args!($($arg)*)) };
}

/// Prints a line to fd 2 (standard error) with one `write`.
#[macro_export]
macro_rules! eprintln {
    () => { $crate::io::_print(2, format_args!("\n")) };
    ($($arg:tt)*) => { $crate::io::_print(2, format_args!("{}\n", format_args!($($arg)*))) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use core::fmt::Write;

    /// Records every write; takes at most `max` bytes per call; fails after `fail_after` calls.
    struct Recorder {
        writes: Vec<Vec<u8>>,
        max: usize,
        fail_after: usize,
    }

    impl Sink for Recorder {
        fn write(&mut self, bytes: &[u8]) -> Result<usize, Errno> {
            if self.writes.len() == self.fail_after {
                return Err(Errno::EBADF);
            }
            let n = bytes.len().min(self.max);
            self.writes.push(bytes[..n].to_vec());
            Ok(n)
        }
    }

    fn recorder(max: usize, fail_after: usize) -> LineWriter<Recorder> {
        LineWriter::new(Recorder {
            writes: Vec::new(),
            max,
            fail_after,
        })
    }

    #[test]
    fn a_line_is_one_write() {
        let mut w = recorder(usize::MAX, usize::MAX);
        let (name, result) = ("fork", "ok");
        writeln!(w, "test {name}: {result}").unwrap();
        assert_eq!(w.into_sink().writes, [b"test fork: ok\n".to_vec()]);
        let empty = recorder(usize::MAX, usize::MAX);
        assert!(
            empty.into_sink().writes.is_empty(),
            "nothing to say, no write"
        );
    }

    #[test]
    fn long_output_is_split_at_the_buffer_size_and_kept_whole() {
        let text: alloc::string::String =
            (0..1300).map(|i| (b'a' + (i % 26) as u8) as char).collect();
        let mut w = recorder(usize::MAX, usize::MAX);
        w.write_str(&text).unwrap();
        let writes = w.into_sink().writes;
        assert_eq!(
            writes.iter().map(Vec::len).collect::<Vec<_>>(),
            [LINE_MAX, LINE_MAX, 1300 - 2 * LINE_MAX]
        );
        assert_eq!(writes.concat(), text.as_bytes());
    }

    #[test]
    fn short_writes_are_retried_and_errors_stop_output() {
        let mut w = recorder(5, usize::MAX);
        w.write_str("hello, world\n").unwrap();
        w.flush().unwrap();
        assert_eq!(w.into_sink().writes.concat(), b"hello, world\n");

        let mut w = recorder(5, 1);
        w.write_str("hello, world\n").unwrap();
        assert_eq!(w.flush(), Err(Errno::EBADF));
        w.write_str("more").unwrap();
        assert_eq!(w.flush(), Err(Errno::EBADF), "the error sticks");
        assert_eq!(w.into_sink().writes, [b"hello".to_vec()]);
    }
}

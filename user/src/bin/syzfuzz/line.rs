//! Text without the heap: a fixed-size line buffer that `write!` formats
//! into, and byte strings shown escaped. The fuzz child must not allocate
//! once its scratch memory sits at the top of the break (see `fuzz.rs`),
//! so every record it sends is built here.

use core::fmt;

/// Bytes of one line; longer output is cut (and marked with `...`).
pub const LINE: usize = 240;

/// A line being built; never contains a NUL (the stream's tick byte).
pub struct Line {
    buf: [u8; LINE],
    len: usize,
    cut: bool,
}

impl Line {
    pub const fn new() -> Line {
        Line {
            buf: [0; LINE],
            len: 0,
            cut: false,
        }
    }

    /// The text so far.
    pub fn text(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("?")
    }

    /// The text so far, with a final newline (room is kept for it).
    pub fn finish(&mut self) -> &[u8] {
        if self.cut && self.len + 3 < LINE {
            self.buf[self.len..self.len + 3].copy_from_slice(b"...");
            self.len += 3;
        }
        self.buf[self.len] = b'\n';
        &self.buf[..self.len + 1]
    }

    fn push(&mut self, b: u8) {
        // Keep 4 bytes: "..." and the newline.
        if self.len < LINE - 4 {
            self.buf[self.len] = if b == 0 { b'?' } else { b };
            self.len += 1;
        } else {
            self.cut = true;
        }
    }
}

impl fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            self.push(b);
        }
        Ok(())
    }
}

/// Bytes shown as a quoted string: printable ASCII as is, the rest `\xNN`.
pub struct Escaped<'a>(pub &'a [u8]);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("\"")?;
        for &b in self.0 {
            if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        f.write_str("\"")
    }
}

/// A register value for a call's text: small values (also negative ones,
/// as an `int` or a 64-bit number) in decimal, the rest in hex.
pub struct Reg(pub u64);

impl fmt::Display for Reg {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let v = self.0;
        let s = v as i64;
        let s32 = v as u32 as i32;
        if (-4096..=4096).contains(&s) {
            write!(f, "{s}")
        } else if v >> 32 == 0 && (-4096..0).contains(&s32) {
            write!(f, "{s32}i32")
        } else {
            write!(f, "{v:#x}")
        }
    }
}

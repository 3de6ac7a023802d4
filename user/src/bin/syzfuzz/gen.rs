//! Argument generators: pointers (wild, into scratch, on the stack,
//! read-only, straddling the edge of mapped memory), lengths, descriptors,
//! paths, pids and container ids, each with what the kernel must make of
//! it (see [`Verdict`]).

use ulib::abi::limits::{USER_STACK_BYTES, USER_STACK_TOP};

use crate::fuzz::{Fuzzer, STACK_BUF};

/// Junk in the upper half of a register that carries an `int`.
pub const JUNK: u64 = 0xdead_beef_0000_0000;

/// Addresses no call may accept (each one's first page is unmapped or
/// not user memory; the last two wrap around the address space).
pub const WILD: &[u64] = &[
    0,
    1,
    0x800,
    0xfff,
    0xffff_8000_0000_0000,
    0xffff_ffff_8000_0000,
    0xffff_ffff_8010_0000,
    0x0000_8000_0000_0000,
    0x7000_0000_0000,
    0x7fff_ffff_ffff,
    USER_STACK_TOP,
    USER_STACK_TOP - USER_STACK_BYTES - 4096,
    u64::MAX - 3,
    u64::MAX,
];

/// Where a pointer points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    /// Nowhere the caller may use.
    Bad,
    /// Into the scratch area (everything past its end is unmapped).
    Scratch,
    /// Into the stack buffer.
    Stack,
    /// Into read-only memory (text, rodata).
    Ro,
}

/// A generated pointer.
#[derive(Clone, Copy, Debug)]
pub struct Ptr {
    pub addr: u64,
    pub region: Region,
    /// Bytes from `addr` to the end of its buffer.
    pub room: u64,
}

/// What the kernel must do with a (pointer, length) pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Fault,
    Unknown,
}

static RODATA: [u8; 64] = [0x5a; 64];

fn text_addr() -> u64 {
    text_addr as *const () as u64
}

impl Fuzzer {
    /// A wild address: one of [`WILD`], or random unmapped ones.
    pub fn wild(&mut self) -> u64 {
        match self.rng.below(4) {
            0 => self.rng.range(0x1000_0000_0000, 0x6fff_ffff_ffff) & !self.rng.pick(&[0, 7]),
            1 => self.rng.next_u64() | (1 << 63),
            2 => self.edge + self.rng.range(0, 1 << 20),
            _ => self.rng.pick(WILD),
        }
    }

    /// A pointer for a buffer the kernel writes (`kernel_writes`) or reads.
    pub fn ptr(&mut self, kernel_writes: bool) -> Ptr {
        let _ = kernel_writes;
        match self.rng.below(16) {
            0..=3 => Ptr {
                addr: self.wild(),
                region: Region::Bad,
                room: 0,
            },
            4..=10 => {
                // Often aligned, sometimes odd, sometimes right at the edge.
                let size = self.edge - self.scratch;
                let off = match self.rng.below(4) {
                    0 => self.rng.below(size) & !7,
                    1 => self.rng.below(size),
                    2 => size - self.rng.range(1, 64),
                    _ => self.rng.below(256),
                };
                Ptr {
                    addr: self.scratch + off,
                    region: Region::Scratch,
                    room: size - off,
                }
            }
            11 | 12 => {
                let off = self.rng.below(STACK_BUF as u64 / 2);
                Ptr {
                    addr: self.stack_buf + off,
                    region: Region::Stack,
                    room: STACK_BUF as u64 - off,
                }
            }
            13 => Ptr {
                addr: text_addr(),
                region: Region::Ro,
                room: 16,
            },
            14 => Ptr {
                addr: RODATA.as_ptr() as u64 + self.rng.below(32),
                region: Region::Ro,
                room: 32,
            },
            _ => {
                // Straddling the edge of mapped memory by a few bytes.
                let k = self.rng.range(1, 16);
                Ptr {
                    addr: self.edge - k,
                    region: Region::Scratch,
                    room: k,
                }
            }
        }
    }

    /// A length for `p`: boundary values around its room, small and huge ones.
    /// For a buffer the kernel writes on the stack, never past its room.
    pub fn len_for(&mut self, p: Ptr, kernel_writes: bool) -> u64 {
        let len = match self.rng.below(12) {
            0 => 0,
            1 => 1,
            2 | 3 => self.rng.range(1, 64),
            4 => p.room,
            5 => p.room + 1,
            6 => self.rng.below(p.room + 1),
            7 => self
                .rng
                .pick(&[u64::MAX, 1 << 40, 1 << 47, 1 << 63, (1 << 32) + 1]),
            8 => 0u64.wrapping_sub(p.addr),
            9 => self.rng.range(1, 4096),
            _ => self.rng.range(1, p.room.max(1)),
        };
        if p.region == Region::Stack && kernel_writes {
            len.min(p.room)
        } else {
            len
        }
    }

    /// What the kernel must make of `len` bytes at `p`.
    pub fn verdict(&self, p: Ptr, len: u64, kernel_writes: bool) -> Verdict {
        if len == 0 {
            return Verdict::Valid;
        }
        if p.addr.checked_add(len).is_none() {
            return Verdict::Fault;
        }
        match p.region {
            Region::Bad => Verdict::Fault,
            Region::Scratch => {
                if len <= p.room {
                    Verdict::Valid
                } else {
                    Verdict::Fault
                }
            }
            Region::Stack => {
                if len <= p.room {
                    Verdict::Valid
                } else {
                    Verdict::Unknown
                }
            }
            Region::Ro if kernel_writes => Verdict::Fault,
            Region::Ro => {
                if len <= p.room {
                    Verdict::Valid
                } else {
                    Verdict::Unknown
                }
            }
        }
    }

    /// A descriptor argument: the register and the `int` the kernel sees.
    /// Mostly open ones, else closed, wild, or open ones with junk above.
    pub fn fd(&mut self) -> (u64, i32) {
        let mut open = [0i32; ulib::abi::limits::NOFILE];
        let n = self.m.open_fds(&mut open);
        let raw = match self.rng.below(10) {
            0..=5 if n > 0 => open[self.rng.below(n as u64) as usize] as i64 as u64,
            6 => self.rng.below(64),
            7 | 8 => {
                let v: i32 = self
                    .rng
                    .pick(&[-1, 64, 65, 1000, i32::MAX, i32::MIN, -100, 63]);
                v as i64 as u64
            }
            _ if n > 0 => open[self.rng.below(n as u64) as usize] as u64 | JUNK,
            _ => u64::MAX,
        };
        (raw, raw as u32 as i32)
    }

    /// An int argument with junk in the upper half now and then.
    pub fn int_reg(&mut self, v: i32) -> u64 {
        if self.rng.chance(1, 8) {
            (v as u32 as u64) | JUNK
        } else {
            v as i64 as u64
        }
    }
}

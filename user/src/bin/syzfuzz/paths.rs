//! Path arguments. Three purposes keep the image safe: probes (open
//! without O_CREATE/O_TRUNC, chdir, link's source, exec) may name
//! anything, including `..`, long, empty and non-UTF-8 paths; calls that
//! create or remove (mkdir, mknod, unlink, link's new name, open with
//! O_CREATE or O_TRUNC) only get names under `/fz` built from a small
//! vocabulary without `..` (so they collide often), names that cannot
//! exist, or pointers the kernel must refuse.

use ulib::abi::fs::MAXPATH;

use crate::fuzz::Fuzzer;

/// What a path argument is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Read-only use: anything goes.
    Probe,
    /// mkdir, mknod, unlink, link's new name: /fz names (also `.`/`..`).
    Change,
    /// open with O_CREATE or O_TRUNC, link's old name under /fz: plain /fz names.
    Write,
}

/// What the kernel must make of a path argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathVerdict {
    /// A terminated string of fewer than MAXPATH bytes.
    Fine,
    /// A pointer it cannot read to a NUL: EFAULT.
    Fault,
    /// No NUL in the first MAXPATH - 1 bytes: ENAMETOOLONG.
    TooLong,
}

/// A generated path.
#[derive(Clone, Copy, Debug)]
pub struct Path {
    pub addr: u64,
    pub verdict: PathVerdict,
}

const NAMES: &[&[u8]] = &[
    b"a",
    b"b",
    b"c",
    b"dd",
    b"e1",
    b"f.txt",
    b"name14charsxyz",
    b"name-longer-than-dirsiz",
    b"d0",
    b"d1",
];
const DIRS: &[&[u8]] = &[b"d0", b"d1"];

const PROBES: &[&[u8]] = &[
    b"/",
    b".",
    b"..",
    b"",
    b"/init",
    b"/sh",
    b"/README",
    b"/nop",
    b"init",
    b"README",
    b"../..//./init",
    b"/init/",
    b"/init/x",
    b"/nonexistent",
    b"/fz/../init",
    b"//",
    b"/.",
    b"/..",
    b"/\xff\xfe\x80",
    b"\xc3\x28/x",
    b"/READMEXXXXXXXXXXXXXXXXXX",
    b"/fz",
    b"/fz/",
    b"fz/a",
];

impl Fuzzer {
    /// Builds a path for `purpose` into path buffer `which` (0 or 1).
    pub fn path(&mut self, purpose: Purpose, which: usize) -> Path {
        let mut buf = [0u8; 192];
        let roll = self.rng.below(20);
        let len = match roll {
            0 => {
                return Path {
                    addr: self.wild(),
                    verdict: PathVerdict::Fault,
                }
            }
            1 => {
                // Unterminated, running into the unmapped page after scratch.
                let k = self.rng.range(1, 100);
                let at = self.edge - k;
                for i in 0..k {
                    // SAFETY: [edge - k, edge) is the scratch area's end, ours to scribble on.
                    unsafe { ((at + i) as *mut u8).write(b'a' + (i % 26) as u8) };
                }
                return Path {
                    addr: at,
                    verdict: PathVerdict::Fault,
                };
            }
            2 => {
                // Too long: no NUL in the first MAXPATH - 1 bytes.
                let n = self.rng.range(MAXPATH as u64, 190) as usize;
                for (i, b) in buf[..n].iter_mut().enumerate() {
                    *b = if i % 9 == 0 { b'/' } else { b'x' };
                }
                if purpose != Purpose::Probe {
                    buf[..4].copy_from_slice(b"/fz/");
                }
                n
            }
            3 if purpose == Purpose::Probe => {
                // Random bytes (no NUL), up to just under MAXPATH.
                let n = self.rng.below(MAXPATH as u64 - 8) as usize;
                for b in &mut buf[..n] {
                    *b = self.rng.range(1, 255) as u8;
                }
                n
            }
            4..=7 if purpose == Purpose::Probe => {
                let p = self.rng.pick(PROBES);
                buf[..p.len()].copy_from_slice(p);
                p.len()
            }
            8 if purpose == Purpose::Change => {
                let p: &[u8] = self.rng.pick(&[b"/fz/.", b"/fz/..", b"/fz", b"/fz/d0/.."]);
                buf[..p.len()].copy_from_slice(p);
                p.len()
            }
            9 if purpose != Purpose::Write => {
                // A name that cannot exist (a link's or mkdir's target would
                // be made outside /fz, so only for removal and probes).
                if purpose == Purpose::Change {
                    let p = b"/zq";
                    buf[..3].copy_from_slice(p);
                    let mut n = 3;
                    for _ in 0..8 {
                        buf[n] = b'a' + self.rng.below(26) as u8;
                        n += 1;
                    }
                    // A missing parent directory: nothing is ever created.
                    buf[n..n + 2].copy_from_slice(b"/x");
                    n + 2
                } else {
                    buf[..6].copy_from_slice(b"/zqzq/");
                    6
                }
            }
            _ => self.fz_path(&mut buf),
        };
        let dst = if which == 0 {
            &mut self.path
        } else {
            &mut self.path2
        };
        dst[..len].copy_from_slice(&buf[..len]);
        dst[len] = 0;
        let verdict = if len >= MAXPATH - 1 {
            PathVerdict::TooLong
        } else {
            PathVerdict::Fine
        };
        Path {
            addr: dst.as_ptr() as u64,
            verdict,
        }
    }

    /// `/fz/...` from the vocabulary: returns its length in `buf`.
    fn fz_path(&mut self, buf: &mut [u8; 192]) -> usize {
        let mut n = 0;
        let mut put = |s: &[u8], n: &mut usize| {
            buf[*n..*n + s.len()].copy_from_slice(s);
            *n += s.len();
        };
        put(b"/fz/", &mut n);
        let depth = self.rng.pick(&[0, 0, 0, 1, 1, 2]);
        for _ in 0..depth {
            put(self.rng.pick(DIRS), &mut n);
            put(if self.rng.chance(1, 8) { b"//" } else { b"/" }, &mut n);
        }
        if self.rng.chance(1, 10) {
            put(b"./", &mut n);
        }
        put(self.rng.pick(NAMES), &mut n);
        if self.rng.chance(1, 12) {
            put(b"/", &mut n);
        }
        n
    }
}

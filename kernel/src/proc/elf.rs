//! ELF64 parsing for static x86_64 executables (pure; unit-tested on the host).
//!
//! Accepts `ET_EXEC` images for `EM_X86_64`, little-endian, with `PT_LOAD`
//! segments that lie inside the user half and inside the file. Everything a
//! hostile file could get wrong (offsets, sizes, overflow, overlap with the
//! stack region) is an error, never a panic.
//!
//! The parser reads through [`ReadAt`] and touches only the file header and
//! the program-header table (at most 64 entries), so `exec` never holds a
//! whole program in kernel memory: the loader copies each segment's bytes
//! from the file into the new address space a chunk at a time.

use alloc::vec::Vec;

use berth_abi::errno::Errno;

/// A segment from the program-header table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u64,
    pub memsz: u64,
    pub offset: u64,
    pub filesz: u64,
    pub writable: bool,
    pub executable: bool,
}

/// What the loader needs from an executable.
#[derive(Debug, PartialEq, Eq)]
pub struct Executable {
    pub entry: u64,
    pub segments: Vec<Segment>,
}

/// A file the parser and loader read from: its size and positioned reads.
pub trait ReadAt {
    /// Size of the file in bytes.
    fn size(&self) -> u64;
    /// Reads up to `dst.len()` bytes at `off`; returns how many (0 at the end).
    fn read_at(&self, off: u64, dst: &mut [u8]) -> Result<usize, Errno>;

    /// Fills `dst` from `off`; a file that ends early is not an executable.
    fn read_exact_at(&self, off: u64, dst: &mut [u8]) -> Result<(), Errno> {
        let mut done = 0;
        while done < dst.len() {
            match self.read_at(off + done as u64, &mut dst[done..])? {
                0 => return Err(Errno::ENOEXEC),
                n => done += n,
            }
        }
        Ok(())
    }
}

impl ReadAt for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_at(&self, off: u64, dst: &mut [u8]) -> Result<usize, Errno> {
        let start = usize::try_from(off).map_or(self.len(), |o| o.min(self.len()));
        let n = dst.len().min(self.len() - start);
        dst[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }
}

impl<T: ReadAt + ?Sized> ReadAt for &T {
    fn size(&self) -> u64 {
        (**self).size()
    }

    fn read_at(&self, off: u64, dst: &mut [u8]) -> Result<usize, Errno> {
        (**self).read_at(off, dst)
    }
}

const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const ET_EXEC: u16 = 2;
const EM_X86_64: u16 = 62;
const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;
/// Most program headers accepted (static binaries have a handful).
const MAX_PHNUM: usize = 64;
/// Largest program-header entry accepted (the format's is 56 bytes).
const MAX_PHENTSIZE: usize = 256;

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

/// Parses the executable `file`; segments must end below `limit` (the user
/// stack region).
pub fn parse<F: ReadAt + ?Sized>(file: &F, limit: u64) -> Result<Executable, Errno> {
    let mut ehdr = [0u8; EHDR_SIZE];
    file.read_exact_at(0, &mut ehdr)?;
    if &ehdr[0..4] != b"\x7fELF" || ehdr[4] != 2 || ehdr[5] != 1 {
        return Err(Errno::ENOEXEC);
    }
    if u16_at(&ehdr, 16) != ET_EXEC || u16_at(&ehdr, 18) != EM_X86_64 {
        return Err(Errno::ENOEXEC);
    }
    let entry = u64_at(&ehdr, 24);
    let phoff = u64_at(&ehdr, 32);
    let phentsize = usize::from(u16_at(&ehdr, 54));
    let phnum = usize::from(u16_at(&ehdr, 56));
    if !(PHDR_SIZE..=MAX_PHENTSIZE).contains(&phentsize) || phnum == 0 || phnum > MAX_PHNUM {
        return Err(Errno::ENOEXEC);
    }
    let table_len = (phentsize * phnum) as u64;
    if phoff
        .checked_add(table_len)
        .is_none_or(|end| end > file.size())
    {
        return Err(Errno::ENOEXEC);
    }
    let mut table = alloc::vec![0u8; phentsize * phnum];
    file.read_exact_at(phoff, &mut table)?;
    let mut segments = Vec::new();
    for ph in table.chunks_exact(phentsize) {
        if u32_at(ph, 0) != PT_LOAD {
            continue;
        }
        let flags = u32_at(ph, 4);
        let seg = Segment {
            offset: u64_at(ph, 8),
            vaddr: u64_at(ph, 16),
            filesz: u64_at(ph, 32),
            memsz: u64_at(ph, 40),
            writable: flags & PF_W != 0,
            executable: flags & PF_X != 0,
        };
        if seg.memsz == 0 {
            continue;
        }
        let vend = seg.vaddr.checked_add(seg.memsz).ok_or(Errno::ENOEXEC)?;
        let fend = seg.offset.checked_add(seg.filesz).ok_or(Errno::ENOEXEC)?;
        if seg.filesz > seg.memsz || seg.vaddr < 0x1000 || vend > limit || fend > file.size() {
            return Err(Errno::ENOEXEC);
        }
        segments.push(seg);
    }
    if segments.is_empty() {
        return Err(Errno::ENOEXEC);
    }
    let entry_ok = segments
        .iter()
        .any(|s| s.executable && (s.vaddr..s.vaddr + s.memsz).contains(&entry));
    if !entry_ok {
        return Err(Errno::ENOEXEC);
    }
    Ok(Executable { entry, segments })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal image: one RX segment at 0x400000 holding `code`.
    fn image(code: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 0x1000];
        b[0..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[6] = 1;
        b[16..18].copy_from_slice(&ET_EXEC.to_le_bytes());
        b[18..20].copy_from_slice(&EM_X86_64.to_le_bytes());
        b[24..32].copy_from_slice(&0x40_1000u64.to_le_bytes());
        b[32..40].copy_from_slice(&64u64.to_le_bytes());
        b[54..56].copy_from_slice(&56u16.to_le_bytes());
        b[56..58].copy_from_slice(&1u16.to_le_bytes());
        let ph = 64;
        b[ph..ph + 4].copy_from_slice(&PT_LOAD.to_le_bytes());
        b[ph + 4..ph + 8].copy_from_slice(&(PF_X | 4).to_le_bytes());
        b[ph + 8..ph + 16].copy_from_slice(&0x1000u64.to_le_bytes());
        b[ph + 16..ph + 24].copy_from_slice(&0x40_1000u64.to_le_bytes());
        b[ph + 32..ph + 40].copy_from_slice(&(code.len() as u64).to_le_bytes());
        b[ph + 40..ph + 48].copy_from_slice(&(code.len() as u64).to_le_bytes());
        b.extend_from_slice(code);
        b
    }

    #[test]
    fn parses_a_minimal_executable() {
        let e = parse(&image(&[0xcc; 16])[..], 1 << 40).unwrap();
        assert_eq!(e.entry, 0x40_1000);
        assert_eq!(e.segments.len(), 1);
        assert!(e.segments[0].executable && !e.segments[0].writable);
    }

    #[test]
    fn refuses_hostile_images() {
        let good = image(&[0x90; 16]);
        assert_eq!(parse(&good[..10], 1 << 40), Err(Errno::ENOEXEC));
        let mut bad_magic = good.clone();
        bad_magic[1] = b'X';
        assert_eq!(parse(&bad_magic[..], 1 << 40), Err(Errno::ENOEXEC));
        let mut past_file = good.clone();
        past_file[64 + 32..64 + 40].copy_from_slice(&(1u64 << 20).to_le_bytes());
        past_file[64 + 40..64 + 48].copy_from_slice(&(1u64 << 20).to_le_bytes());
        assert_eq!(parse(&past_file[..], 1 << 40), Err(Errno::ENOEXEC));
        let mut wrap = good.clone();
        wrap[64 + 16..64 + 24].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(parse(&wrap[..], 1 << 40), Err(Errno::ENOEXEC));
        let mut kernel_addr = good.clone();
        kernel_addr[64 + 16..64 + 24].copy_from_slice(&0xffff_8000_0000_0000u64.to_le_bytes());
        assert_eq!(parse(&kernel_addr[..], 1 << 40), Err(Errno::ENOEXEC));
        let mut entry_outside = good.clone();
        entry_outside[24..32].copy_from_slice(&0x50_0000u64.to_le_bytes());
        assert_eq!(parse(&entry_outside[..], 1 << 40), Err(Errno::ENOEXEC));
        let mut many_ph = good;
        many_ph[56..58].copy_from_slice(&u16::MAX.to_le_bytes());
        assert_eq!(parse(&many_ph[..], 1 << 40), Err(Errno::ENOEXEC));
    }

    /// A file of `size` bytes that is `head` followed by zeros, counting the
    /// bytes read from it.
    struct Sparse<'a> {
        head: &'a [u8],
        size: u64,
        read: core::cell::Cell<u64>,
    }

    impl ReadAt for Sparse<'_> {
        fn size(&self) -> u64 {
            self.size
        }
        fn read_at(&self, off: u64, dst: &mut [u8]) -> Result<usize, Errno> {
            let n = dst.len().min(self.size.saturating_sub(off) as usize);
            for (i, b) in dst[..n].iter_mut().enumerate() {
                *b = usize::try_from(off)
                    .ok()
                    .and_then(|o| self.head.get(o + i))
                    .copied()
                    .unwrap_or(0);
            }
            self.read.set(self.read.get() + n as u64);
            Ok(n)
        }
    }

    #[test]
    fn only_the_headers_are_read() {
        let good = image(&[0x90; 16]);
        let huge = Sparse {
            head: &good,
            size: 1 << 40,
            read: core::cell::Cell::new(0),
        };
        parse(&huge, 1 << 41).unwrap();
        assert_eq!(huge.read.get(), (EHDR_SIZE + PHDR_SIZE) as u64);
        let not_elf = Sparse {
            head: b"#!/bin/sh",
            size: 1 << 40,
            read: core::cell::Cell::new(0),
        };
        assert_eq!(parse(&not_elf, 1 << 41), Err(Errno::ENOEXEC));
        assert_eq!(not_elf.read.get(), EHDR_SIZE as u64);
    }

    #[test]
    fn a_table_or_segment_past_the_end_is_refused() {
        let good = image(&[0x90; 16]);
        let mut table_past_end = good.clone();
        table_past_end[32..40].copy_from_slice(&(good.len() as u64 - 8).to_le_bytes());
        assert_eq!(parse(&table_past_end[..], 1 << 40), Err(Errno::ENOEXEC));
        let mut huge_offset = good.clone();
        huge_offset[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(parse(&huge_offset[..], 1 << 40), Err(Errno::ENOEXEC));
        // One byte short of the segment's end.
        let short = Sparse {
            head: &good,
            size: good.len() as u64 - 1,
            read: core::cell::Cell::new(0),
        };
        assert_eq!(parse(&short, 1 << 40), Err(Errno::ENOEXEC));
        let mut odd_entry_size = good;
        odd_entry_size[54..56].copy_from_slice(&1000u16.to_le_bytes());
        assert_eq!(parse(&odd_entry_size[..], 1 << 40), Err(Errno::ENOEXEC));
    }
}

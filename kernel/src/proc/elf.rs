//! ELF64 parsing for static x86_64 executables (pure; unit-tested on the host).
//!
//! Accepts `ET_EXEC` images for `EM_X86_64`, little-endian, with `PT_LOAD`
//! segments that lie inside the user half and inside the file. Everything a
//! hostile file could get wrong (offsets, sizes, overflow, overlap with the
//! stack region) is an error, never a panic.

use alloc::vec::Vec;

use berth_abi::errno::Errno;

/// A loadable segment.
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

const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const ET_EXEC: u16 = 2;
const EM_X86_64: u16 = 62;

fn u16_at(b: &[u8], o: usize) -> Result<u16, Errno> {
    Ok(u16::from_le_bytes(
        b.get(o..o + 2).ok_or(Errno::ENOEXEC)?.try_into().unwrap(),
    ))
}
fn u32_at(b: &[u8], o: usize) -> Result<u32, Errno> {
    Ok(u32::from_le_bytes(
        b.get(o..o + 4).ok_or(Errno::ENOEXEC)?.try_into().unwrap(),
    ))
}
fn u64_at(b: &[u8], o: usize) -> Result<u64, Errno> {
    Ok(u64::from_le_bytes(
        b.get(o..o + 8).ok_or(Errno::ENOEXEC)?.try_into().unwrap(),
    ))
}

/// Parses `image`; segments must end below `limit` (the user stack region).
pub fn parse(image: &[u8], limit: u64) -> Result<Executable, Errno> {
    if image.len() < 64 || &image[0..4] != b"\x7fELF" || image[4] != 2 || image[5] != 1 {
        return Err(Errno::ENOEXEC);
    }
    if u16_at(image, 16)? != ET_EXEC || u16_at(image, 18)? != EM_X86_64 {
        return Err(Errno::ENOEXEC);
    }
    let entry = u64_at(image, 24)?;
    let phoff = u64_at(image, 32)? as usize;
    let phentsize = u16_at(image, 54)? as usize;
    let phnum = u16_at(image, 56)? as usize;
    if phentsize < 56 || phnum == 0 || phnum > 64 {
        return Err(Errno::ENOEXEC);
    }
    let mut segments = Vec::new();
    for i in 0..phnum {
        let off = phoff
            .checked_add(i.checked_mul(phentsize).ok_or(Errno::ENOEXEC)?)
            .ok_or(Errno::ENOEXEC)?;
        let ph = image
            .get(off..off.checked_add(56).ok_or(Errno::ENOEXEC)?)
            .ok_or(Errno::ENOEXEC)?;
        if u32_at(ph, 0)? != PT_LOAD {
            continue;
        }
        let flags = u32_at(ph, 4)?;
        let seg = Segment {
            offset: u64_at(ph, 8)?,
            vaddr: u64_at(ph, 16)?,
            filesz: u64_at(ph, 32)?,
            memsz: u64_at(ph, 40)?,
            writable: flags & PF_W != 0,
            executable: flags & PF_X != 0,
        };
        if seg.memsz == 0 {
            continue;
        }
        let vend = seg.vaddr.checked_add(seg.memsz).ok_or(Errno::ENOEXEC)?;
        let fend = seg.offset.checked_add(seg.filesz).ok_or(Errno::ENOEXEC)?;
        if seg.filesz > seg.memsz || seg.vaddr < 0x1000 || vend > limit || fend > image.len() as u64
        {
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
        let e = parse(&image(&[0xcc; 16]), 1 << 40).unwrap();
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
        assert_eq!(parse(&bad_magic, 1 << 40), Err(Errno::ENOEXEC));
        let mut past_file = good.clone();
        past_file[64 + 32..64 + 40].copy_from_slice(&(1u64 << 20).to_le_bytes());
        past_file[64 + 40..64 + 48].copy_from_slice(&(1u64 << 20).to_le_bytes());
        assert_eq!(parse(&past_file, 1 << 40), Err(Errno::ENOEXEC));
        let mut wrap = good.clone();
        wrap[64 + 16..64 + 24].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(parse(&wrap, 1 << 40), Err(Errno::ENOEXEC));
        let mut kernel_addr = good.clone();
        kernel_addr[64 + 16..64 + 24].copy_from_slice(&0xffff_8000_0000_0000u64.to_le_bytes());
        assert_eq!(parse(&kernel_addr, 1 << 40), Err(Errno::ENOEXEC));
        let mut entry_outside = good.clone();
        entry_outside[24..32].copy_from_slice(&0x50_0000u64.to_le_bytes());
        assert_eq!(parse(&entry_outside, 1 << 40), Err(Errno::ENOEXEC));
        let mut many_ph = good;
        many_ph[56..58].copy_from_slice(&u16::MAX.to_le_bytes());
        assert_eq!(parse(&many_ph, 1 << 40), Err(Errno::ENOEXEC));
    }
}

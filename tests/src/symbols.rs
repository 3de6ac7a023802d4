//! Symbol addresses from the kernel ELF's symbol table, for tests that
//! play a hostile program aimed at a known kernel address (berth has no
//! address-space randomisation, so the address in the file is the one in
//! the running kernel).
//!
//! A plain reader of ELF64 little-endian section headers, `SHT_SYMTAB` and
//! its string table; anything malformed is `None`.

use crate::kernel::kernel_elf;
use crate::report::TestFailure;

const SHT_SYMTAB: u32 = 2;
const SYM_SIZE: usize = 24;

fn field(b: &[u8], at: usize, len: usize) -> Option<u64> {
    let bytes = b.get(at..at.checked_add(len)?)?;
    Some(bytes.iter().rev().fold(0, |v, &x| v << 8 | u64::from(x)))
}

/// The value of symbol `name` in the ELF64 image `elf`.
pub fn find_symbol(elf: &[u8], name: &str) -> Option<u64> {
    if elf.get(..4)? != b"\x7fELF" || *elf.get(4)? != 2 || *elf.get(5)? != 1 {
        return None;
    }
    let shoff = usize::try_from(field(elf, 0x28, 8)?).ok()?;
    let shentsize = usize::try_from(field(elf, 0x3a, 2)?).ok()?;
    let shnum = usize::try_from(field(elf, 0x3c, 2)?).ok()?;
    let section = |i: usize| -> Option<(u32, usize, usize, usize)> {
        let sh = shoff.checked_add(i.checked_mul(shentsize)?)?;
        Some((
            u32::try_from(field(elf, sh + 4, 4)?).ok()?,
            usize::try_from(field(elf, sh + 0x18, 8)?).ok()?,
            usize::try_from(field(elf, sh + 0x20, 8)?).ok()?,
            usize::try_from(field(elf, sh + 0x28, 4)?).ok()?,
        ))
    };
    for i in 0..shnum {
        let (kind, offset, size, link) = section(i)?;
        if kind != SHT_SYMTAB {
            continue;
        }
        let (_, str_offset, str_size, _) = section(link)?;
        let strings = elf.get(str_offset..str_offset.checked_add(str_size)?)?;
        let table = elf.get(offset..offset.checked_add(size)?)?;
        for sym in table.chunks_exact(SYM_SIZE) {
            let start = usize::try_from(field(sym, 0, 4)?).ok()?;
            let rest = strings.get(start..)?;
            let end = rest.iter().position(|&b| b == 0)?;
            if &rest[..end] == name.as_bytes() {
                return field(sym, 8, 8);
            }
        }
    }
    None
}

/// The address of `name` in the kernel under test.
pub fn kernel_symbol(name: &str) -> Result<u64, TestFailure> {
    let path = kernel_elf()?;
    let elf =
        std::fs::read(&path).map_err(|e| TestFailure::new(format!("{}: {e}", path.display())))?;
    find_symbol(&elf, name)
        .ok_or_else(|| TestFailure::new(format!("{}: no symbol {name:?}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_kernel_entry_points_and_refuses_junk() {
        let elf = std::fs::read(kernel_elf().expect("kernel")).expect("read kernel");
        let entry = find_symbol(&elf, "syscall_entry").expect("syscall_entry");
        let traps = find_symbol(&elf, "trap_vectors").expect("trap_vectors");
        assert!(entry >= 0xffff_ffff_8000_0000 && traps >= 0xffff_ffff_8000_0000);
        assert_ne!(entry, traps);
        assert_eq!(find_symbol(&elf, "no_such_symbol_here"), None);
        assert_eq!(find_symbol(&elf[..100], "syscall_entry"), None);
        assert_eq!(find_symbol(b"not an elf at all", "syscall_entry"), None);
    }
}

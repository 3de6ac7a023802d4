//! Physical region descriptor (PRD) tables for the IDE bus-master engine:
//! the pure part of the driver's scatter-gather DMA, tested on the host.
//!
//! The engine reads a table of 8-byte entries, each a 32-bit physical
//! address and a byte count (bits 15..0 of the second dword, 0 meaning
//! 64 KiB; bit 31 marks the table's last entry). Its rules: an entry's
//! address and count are even, an entry does not cross a 64 KiB physical
//! boundary, and every address is below 4 GiB.
//!
//! [`build`] turns a list of buffers (virtual address, length) into such a
//! table. It translates each 4 KiB virtual page on its own (the caller's
//! `translate`), so it assumes nothing about physical contiguity; it splits
//! at every page and every 64 KiB physical boundary, and merges a piece
//! into the entry before it when the two are physically adjacent inside
//! one 64 KiB region (a long contiguous buffer takes few entries). It
//! answers `None` when a piece breaks a rule (no translation, odd, at or
//! above 4 GiB) or the table is too small: the driver then bounces the
//! transfer through memory of its own instead.

/// Virtual pages are translated one at a time.
pub const PAGE: u64 = 4096;
/// No entry crosses a multiple of this physical address.
pub const BOUNDARY: u64 = 1 << 16;
/// Every byte an entry names lies below this physical address.
pub const LIMIT: u64 = 1 << 32;
/// Second-dword flag: the last entry of the table.
pub const END_OF_TABLE: u32 = 1 << 31;

/// One table entry as the engine reads it: physical address, then count
/// and flags.
pub type Entry = [u32; 2];

/// Fills `table` with the entries for `bufs`, in order, and returns how
/// many it used; `None` if a piece breaks the engine's rules, `translate`
/// knows no physical address for a page (it is given an address in the
/// page and answers that address's physical address), the entries do not
/// fit, or there is nothing to transfer.
pub fn build<I, T>(bufs: I, mut translate: T, table: &mut [Entry]) -> Option<usize>
where
    I: IntoIterator<Item = (u64, usize)>,
    T: FnMut(u64) -> Option<u64>,
{
    let mut n = 0;
    // Physical end and length of entry n - 1.
    let mut end = 0;
    let mut len = 0;
    for (virt, bytes) in bufs {
        let stop = virt.checked_add(bytes as u64)?;
        let mut v = virt;
        while v < stop {
            let page_end = (v & !(PAGE - 1)).saturating_add(PAGE);
            let piece_end = stop.min(page_end);
            let mut p = translate(v)?;
            let mut left = piece_end - v;
            while left > 0 {
                let m = left.min(BOUNDARY - p % BOUNDARY);
                if p % 2 != 0 || m % 2 != 0 || p.checked_add(m)? > LIMIT {
                    return None;
                }
                if n > 0 && p == end && p % BOUNDARY != 0 {
                    // Same 64 KiB region as the entry before: at most 64 KiB in all.
                    len += m;
                } else {
                    if n == table.len() {
                        return None;
                    }
                    n += 1;
                    len = m;
                }
                // The count is kept whole (65536 fits in a u32) until the end.
                table[n - 1] = [(p + m - len) as u32, len as u32];
                end = p + m;
                p += m;
                left -= m;
            }
            v = piece_end;
        }
    }
    if n == 0 {
        return None;
    }
    for e in &mut table[..n] {
        e[1] &= 0xffff; // 64 KiB is written as 0
    }
    table[n - 1][1] |= END_OF_TABLE;
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Virtual addresses the tests use: page `i` above it maps to `frame(i)`.
    const VBASE: u64 = 0xffff_8000_0000_0000;

    /// Identity below 4 GiB: page `i` above `VBASE` is physical page `i`.
    fn direct(v: u64) -> Option<u64> {
        Some(v - VBASE)
    }

    /// Pages scattered: virtual page `i` is physical page `0x4000 - 3 * i`
    /// (well apart, descending), so no two neighbours are adjacent.
    fn scattered(v: u64) -> Option<u64> {
        let page = (v - VBASE) / PAGE;
        Some((0x4000 - 3 * page) * PAGE + v % PAGE)
    }

    fn table() -> [Entry; 256] {
        [[0; 2]; 256]
    }

    #[test]
    fn one_block_inside_a_page_is_one_entry() {
        let mut t = table();
        let n = build([(VBASE + 0x5100, 1024)], direct, &mut t).unwrap();
        assert_eq!(&t[..n], &[[0x5100, 1024 | END_OF_TABLE]]);
    }

    #[test]
    fn a_block_across_a_page_boundary_translates_each_page() {
        let mut t = table();
        let n = build([(VBASE + 0x1e00, 1024)], scattered, &mut t).unwrap();
        let (p0, p1) = (scattered(VBASE + 0x1e00), scattered(VBASE + 0x2000));
        assert_eq!(
            &t[..n],
            &[
                [p0.unwrap() as u32, 512],
                [p1.unwrap() as u32, 512 | END_OF_TABLE]
            ]
        );
    }

    #[test]
    fn adjacent_pieces_merge_but_not_across_64k() {
        let mut t = table();
        // Two adjacent blocks, and a page boundary between them and a third.
        let bufs = [
            (VBASE + 0x3800, 1024),
            (VBASE + 0x3c00, 1024),
            (VBASE + 0x4000, 1024),
        ];
        let n = build(bufs, direct, &mut t).unwrap();
        assert_eq!(&t[..n], &[[0x3800, 3072 | END_OF_TABLE]]);
        // 128 KiB from a 64 KiB boundary: two whole regions, each count 0.
        let n = build([(VBASE + 0x10000, 128 << 10)], direct, &mut t).unwrap();
        assert_eq!(&t[..n], &[[0x10000, 0], [0x20000, END_OF_TABLE]]);
        // Scattered pages never merge.
        let n = build([(VBASE, 3 * PAGE as usize)], scattered, &mut t).unwrap();
        assert_eq!(n, 3);
    }

    #[test]
    fn splits_at_a_64k_physical_boundary_inside_a_page() {
        // A translation that does not keep page offsets: the page at 0
        // lands at 0xf800, across the boundary at 0x10000.
        let shifted = |v: u64| Some(v - VBASE + 0xf800);
        let mut t = table();
        let n = build([(VBASE, 4096)], shifted, &mut t).unwrap();
        assert_eq!(&t[..n], &[[0xf800, 0x800], [0x10000, 0x800 | END_OF_TABLE]]);
    }

    #[test]
    fn refuses_what_the_engine_cannot_reach() {
        let mut t = table();
        let at = |phys: u64| move |v: u64| Some(phys + (v - VBASE));
        // Ending exactly at 4 GiB is fine; a byte further is not.
        let n = build([(VBASE + 0xc00, 1024)], at(0xffff_f000), &mut t).unwrap();
        assert_eq!(&t[..n], &[[0xffff_fc00, 1024 | END_OF_TABLE]]);
        assert_eq!(
            build([(VBASE + 0xe00, 1024)], at(0xffff_f000), &mut t),
            None
        );
        assert_eq!(build([(VBASE, 1024)], at(1 << 32), &mut t), None);
        // Odd addresses, odd lengths, untranslatable pages, nothing at all.
        assert_eq!(build([(VBASE + 1, 1024)], direct, &mut t), None);
        assert_eq!(build([(VBASE, 1023)], direct, &mut t), None);
        let none = |_| None;
        assert_eq!(build([(VBASE, 1024)], none, &mut t), None);
        assert_eq!(build([(VBASE, 0)], direct, &mut t), None);
        // Only the second page is missing: still refused.
        let first_only = |v: u64| (v < VBASE + PAGE).then(|| v - VBASE);
        assert_eq!(build([(VBASE + 0xe00, 1024)], first_only, &mut t), None);
    }

    #[test]
    fn the_worst_command_fits_two_entries_per_block() {
        // 128 blocks (LBA28's most sectors per command), each across a page
        // boundary of scattered pages: two entries each.
        let bufs = (0..128u64).map(|i| (VBASE + i * 2 * PAGE + PAGE - 512, 1024));
        let mut t = table();
        assert_eq!(build(bufs.clone(), scattered, &mut t), Some(256));
        assert_eq!(t[255][1], 512 | END_OF_TABLE);
        assert!(t[..255].iter().all(|e| e[1] == 512));
        let mut small = [[0; 2]; 255];
        assert_eq!(build(bufs, scattered, &mut small), None);
    }
}

//! Superblock, inode, block and bitmap damage.

use super::util::{assert_clean, assert_error, sample, BIG_BLOCKS, SIZE};
use crate::{BlockRole, Problem};
use berth_abi::fs::{BSIZE, FSMAGIC, LOGSIZE, NDIRECT, NINDIRECT, T_DEVICE, T_DIR, T_FILE};

#[test]
fn fresh_image_is_clean() {
    let (img, s) = sample();
    let r = img.report();
    assert_clean(&r);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.log_replayed, None);
    // Root, layer area, a, two, big, d, f, e, console.
    assert_eq!(r.inodes_in_use, 9);
    // Data: 1 + 1 + 1 + 2 + (300 + indirect + doubly + 1 table) + 1 + 1 + 1 (a device has none).
    assert_eq!(
        r.data_blocks_in_use,
        1 + 1 + 1 + 2 + (BIG_BLOCKS as u32 + 3) + 1 + 1 + 1
    );
    assert_eq!(img.inode(s.console).kind, T_DEVICE);
    assert_ne!(img.inode(s.big).addrs[NDIRECT + 1], 0);
}

#[test]
fn bad_magic() {
    let (mut img, _) = sample();
    img.bytes[BSIZE] ^= 0xff;
    let r = img.report();
    assert_error(
        &r,
        "bad magic",
        |p| matches!(p, Problem::BadMagic { magic } if *magic != FSMAGIC),
    );
    assert_eq!(r.errors.len(), 1);
    assert!(r.errors[0].to_string().contains("bad magic"));
}

#[test]
fn truncated_image() {
    let (img, _) = sample();
    let r = crate::check_image(&img.bytes[..100_000]);
    assert_error(&r, "truncation", |p| {
        matches!(
            p,
            Problem::Truncated {
                len: 100_000,
                size: SIZE
            }
        )
    });
    assert_eq!(
        r.errors[0].to_string(),
        format!(
            "image is 100000 bytes, superblock says {SIZE} blocks ({} bytes)",
            SIZE as usize * BSIZE
        )
    );
    for len in [0, 1, 1000, BSIZE, 2 * BSIZE - 1] {
        let r = crate::check_image(&img.bytes[..len]);
        assert_error(&r, "too small", |p| matches!(p, Problem::TooSmall { .. }));
    }
}

#[test]
fn trailing_bytes_are_only_a_warning() {
    let (mut img, _) = sample();
    img.bytes.extend_from_slice(&[0; 512]);
    let r = img.report();
    assert_clean(&r);
    assert!(
        matches!(r.warnings[..], [Problem::TrailingBytes { .. }]),
        "{:?}",
        r.warnings
    );
}

/// A change to the superblock.
type Damage = fn(&mut berth_abi::fs::SuperBlock);

#[test]
fn inconsistent_superblock() {
    let (img, _) = sample();
    let cases: [(&str, Damage); 6] = [
        ("nblocks", |sb| sb.nblocks += 1),
        ("inodes inside the log", |sb| sb.inodestart -= 1),
        ("bitmap inside the inodes", |sb| {
            sb.ninodes = (sb.bmapstart - sb.inodestart + 1) * 16
        }),
        ("short log", |sb| sb.nlog = 10),
        ("log over the superblock", |sb| sb.logstart = 1),
        ("huge bitmap start", |sb| sb.bmapstart = u32::MAX - 3),
    ];
    for (what, damage) in cases {
        let mut bad = img.clone();
        let mut sb = bad.sb;
        damage(&mut sb);
        bad.set_superblock(sb);
        let r = bad.report();
        assert_error(&r, what, |p| matches!(p, Problem::BadSuperblock { .. }));
    }
    let mut bad = img.clone();
    let mut sb = bad.sb;
    sb.ninodes = 70_000;
    bad.set_superblock(sb);
    assert_error(&bad.report(), "too many inodes", |p| {
        matches!(p, Problem::BadSuperblock { .. })
    });
}

#[test]
fn bitmap_bit_cleared_for_used_block() {
    let (mut img, s) = sample();
    let b = img.inode(s.a).addrs[0];
    assert!(img.marked(b));
    img.set_mark(b, false);
    let r = img.report();
    assert_error(
        &r,
        "unmarked block",
        |p| matches!(p, Problem::NotMarked { first, last, metadata: false } if *first == b && *last == b),
    );
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
}

#[test]
fn bitmap_bit_cleared_for_metadata() {
    let (mut img, _) = sample();
    let inode_block = img.sb.inodestart + 1;
    img.set_mark(inode_block, false);
    img.set_mark(inode_block + 1, false);
    let r = img.report();
    assert_error(
        &r,
        "unmarked metadata",
        |p| matches!(p, Problem::NotMarked { first, last, metadata: true } if *first == inode_block && *last == inode_block + 1),
    );
}

#[test]
fn bitmap_bit_set_for_unused_block() {
    let (mut img, _) = sample();
    img.set_mark(SIZE - 1, true);
    img.set_mark(SIZE - 3, true);
    let r = img.report();
    assert_error(
        &r,
        "leaked block",
        |p| matches!(p, Problem::Leaked { first, last } if *first == SIZE - 1 && *last == SIZE - 1),
    );
    assert_error(
        &r,
        "second leaked block",
        |p| matches!(p, Problem::Leaked { first, .. } if *first == SIZE - 3),
    );
    assert!(r.errors[0].to_string().starts_with("leaked block"));
}

#[test]
fn bits_past_the_end_are_a_warning() {
    let (mut img, _) = sample();
    img.set_mark(SIZE + 5, true);
    let r = img.report();
    assert_clean(&r);
    assert!(matches!(
        r.warnings[..],
        [Problem::MarkedPastEnd { count: 1 }]
    ));
}

#[test]
fn block_shared_by_two_files() {
    let (mut img, s) = sample();
    let shared = img.inode(s.a).addrs[0];
    let lost = img.inode(s.two).addrs[1];
    img.edit_inode(s.two, |d| d.addrs[1] = shared);
    let r = img.report();
    assert_error(&r, "duplicate block", |p| {
        matches!(p, Problem::DuplicateBlock { block, first, second, role: BlockRole::Data(1) }
            if *block == shared && *first == s.a && *second == s.two)
    });
    // The block `two` no longer points at is now leaked.
    assert_error(
        &r,
        "leak",
        |p| matches!(p, Problem::Leaked { first, .. } if *first == lost),
    );
}

#[test]
fn block_used_twice_by_one_file() {
    let (mut img, s) = sample();
    let ind = img.inode(s.big).addrs[NDIRECT];
    // Point the last single-indirect entry at the indirect block itself.
    let off = ind as usize * BSIZE + 4 * (NINDIRECT - 1);
    img.bytes[off..off + 4].copy_from_slice(&ind.to_le_bytes());
    let r = img.report();
    assert_error(
        &r,
        "self-duplicate",
        |p| matches!(p, Problem::DuplicateBlock { block, first, second, .. } if *block == ind && first == second),
    );
    assert!(r
        .errors
        .iter()
        .any(|p| p.to_string().contains("used twice by inode")));
}

#[test]
fn shared_table_is_reported_once_not_walked_again() {
    let (mut img, s) = sample();
    let ind = img.inode(s.big).addrs[NDIRECT];
    img.edit_inode(s.two, |d| {
        d.addrs[NDIRECT] = ind;
        d.size = (NDIRECT as u32 + 5) * BSIZE as u32;
    });
    let r = img.report();
    let dups = r
        .errors
        .iter()
        .filter(|p| matches!(p, Problem::DuplicateBlock { .. }))
        .count();
    assert_eq!(dups, 1, "{:#?}", r.errors);
}

#[test]
fn block_address_outside_data_area() {
    for addr in [1, 5, SIZE, u32::MAX] {
        let (mut img, s) = sample();
        img.edit_inode(s.a, |d| d.addrs[0] = addr);
        let r = img.report();
        assert_error(
            &r,
            "bad address",
            |p| matches!(p, Problem::BadAddress { inum, block, count: 1, .. } if *inum == s.a && *block == addr),
        );
    }
    // Many bad addresses in one file make one line.
    let (mut img, s) = sample();
    img.edit_inode(s.two, |d| d.addrs[..NDIRECT].fill(3));
    let r = img.report();
    assert_error(
        &r,
        "bad addresses",
        |p| matches!(p, Problem::BadAddress { count, .. } if *count == NDIRECT as u32),
    );
    assert!(r
        .errors
        .iter()
        .any(|p| p.to_string().contains("and 10 more")));
}

#[test]
fn blocks_beyond_size() {
    let (mut img, s) = sample();
    img.edit_inode(s.two, |d| d.size = 100);
    let r = img.report();
    assert_error(
        &r,
        "beyond size",
        |p| matches!(p, Problem::BeyondSize { inum, role: BlockRole::Data(1), count: 1, .. } if *inum == s.two),
    );

    // A size that stops before the doubly-indirect region leaves its tables beyond the end.
    let (mut img, s) = sample();
    img.edit_inode(s.big, |d| d.size = (NDIRECT as u32 + 3) * BSIZE as u32);
    let r = img.report();
    assert_error(
        &r,
        "indirect beyond size",
        |p| matches!(p, Problem::BeyondSize { inum, .. } if *inum == s.big),
    );
}

#[test]
fn size_over_maxfile() {
    let (mut img, s) = sample();
    img.edit_inode(s.a, |d| d.size = u32::MAX);
    assert_error(
        &img.report(),
        "too big",
        |p| matches!(p, Problem::TooBig { inum, .. } if *inum == s.a),
    );
}

#[test]
fn unknown_inode_type() {
    let (mut img, s) = sample();
    img.edit_inode(s.f, |d| d.kind = 9);
    let r = img.report();
    assert_error(
        &r,
        "bad type",
        |p| matches!(p, Problem::BadType { inum, kind: 9 } if *inum == s.f),
    );
}

#[test]
fn inode_zero_allocated() {
    let (mut img, _) = sample();
    img.edit_inode(0, |d| d.kind = T_FILE);
    assert_error(&img.report(), "inode 0", |p| {
        matches!(p, Problem::InodeZeroInUse { .. })
    });
}

#[test]
fn directory_size_not_whole_entries() {
    let (mut img, s) = sample();
    img.edit_inode(s.d, |d| d.size += 3);
    assert_error(
        &img.report(),
        "dir size",
        |p| matches!(p, Problem::DirSize { inum, .. } if *inum == s.d),
    );
}

#[test]
fn root_not_a_directory() {
    let (mut img, _) = sample();
    img.edit_inode(berth_abi::fs::ROOTINO, |d| d.kind = T_FILE);
    let r = img.report();
    assert_error(&r, "root not dir", |p| {
        matches!(p, Problem::RootNotDir { kind: T_FILE })
    });
    // No cascade of "unreachable" reports for every other inode.
    assert!(!r
        .errors
        .iter()
        .any(|p| matches!(p, Problem::Unreachable { .. })));
}

#[test]
fn log_too_long() {
    let (mut img, _) = sample();
    let start = img.sb.logstart;
    img.block_mut(start)[..4].copy_from_slice(&(LOGSIZE as u32 + 1).to_le_bytes());
    let r = img.report();
    assert_error(
        &r,
        "log too long",
        |p| matches!(p, Problem::LogTooLong { n } if *n == LOGSIZE as u32 + 1),
    );
    assert_eq!(r.log_replayed, None);
    // The rest of the image was still checked, and is fine.
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert_eq!(r.inodes_in_use, 9);
}

#[test]
fn log_target_outside_data_and_metadata() {
    for target in [0, 1, 2, SIZE] {
        let (mut img, _) = sample();
        img.commit_log(
            &[img.sb.inodestart, target],
            &[vec![0; BSIZE], vec![0; BSIZE]],
        );
        let r = img.report();
        assert_error(
            &r,
            "bad log target",
            |p| matches!(p, Problem::LogTarget { index: 1, block, .. } if *block == target),
        );
        assert_eq!(r.log_replayed, None);
    }
}

#[test]
fn every_problem_displays_on_one_line() {
    // A heavily damaged image: many classes at once, all one-line messages.
    let (mut img, s) = sample();
    img.edit_inode(s.a, |d| d.nlink = 7);
    img.edit_inode(s.e, |d| d.kind = T_DIR + 10);
    img.edit_inode(s.two, |d| d.addrs[0] = 2);
    img.set_mark(SIZE - 1, true);
    let r = img.report();
    assert!(r.errors.len() >= 4, "{:#?}", r.errors);
    for p in r.errors.iter().chain(&r.warnings) {
        let line = p.to_string();
        assert!(!line.contains('\n'), "{line}");
    }
}

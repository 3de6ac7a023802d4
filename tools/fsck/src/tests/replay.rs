//! A committed log is replayed in memory before the checks.

use super::util::{assert_clean, assert_error, pattern, sample, Img, NINODES, SIZE};
use crate::{read_file, Problem};
use berth_abi::fs::{BSIZE, LOGSIZE};
use berth_mkfs::build_image;

/// Blocks where `new` differs from `old`, and their new contents: the
/// transaction that turns one image into the other.
fn transaction(old: &[u8], new: &[u8]) -> (Vec<u32>, Vec<Vec<u8>>) {
    old.chunks(BSIZE)
        .zip(new.chunks(BSIZE))
        .enumerate()
        .filter(|(_, (o, n))| o != n)
        .map(|(b, (_, n))| (b as u32, n.to_vec()))
        .unzip()
}

#[test]
fn committed_transaction_is_replayed() {
    let a = (b"a".to_vec(), pattern(1, 5000));
    let b = (b"b".to_vec(), pattern(2, 3000));
    let old = build_image(SIZE, NINODES, vec![a.clone()]).unwrap();
    let new = build_image(SIZE, NINODES, vec![a, b.clone()]).unwrap();
    let (targets, blocks) = transaction(&old, &new);
    // Root directory block, inode block, bitmap block, three data blocks.
    assert!(
        !targets.is_empty() && targets.len() <= LOGSIZE,
        "{targets:?}"
    );

    let mut img = Img::new(old);
    assert_eq!(read_file(&img.bytes, "b"), None);
    img.commit_log(&targets, &blocks);
    let r = img.report();
    assert_clean(&r);
    assert_eq!(r.log_replayed, Some(targets.len() as u32));
    assert_eq!(r.inodes_in_use, 4);
    // Readers see the file the transaction created, as the kernel will.
    assert_eq!(read_file(&img.bytes, "b"), Some(b.1));
}

#[test]
fn replay_repairs_what_it_covers() {
    // The home copy of the bitmap lost a bit, but the log holds the good block.
    let (mut img, s) = sample();
    let bmap = img.sb.bmapstart;
    let good = img.block(bmap).to_vec();
    let b = img.inode(s.a).addrs[0];
    img.set_mark(b, false);
    assert!(!img.report().is_clean());
    img.commit_log(&[bmap], &[good]);
    let r = img.report();
    assert_clean(&r);
    assert_eq!(r.log_replayed, Some(1));
}

#[test]
fn checks_run_on_the_replayed_image() {
    // A clean image whose log would, once installed, leak a block.
    let (mut img, _) = sample();
    let bmap = img.sb.bmapstart;
    let mut bad = img.block(bmap).to_vec();
    let last = (SIZE - 1) as usize;
    bad[last / 8] |= 1 << (last % 8);
    img.commit_log(&[bmap], &[bad]);
    let r = img.report();
    assert_eq!(r.log_replayed, Some(1));
    assert_error(
        &r,
        "leak after replay",
        |p| matches!(p, Problem::Leaked { first, .. } if *first == SIZE - 1),
    );
}

#[test]
fn later_log_entries_win() {
    // Two entries for one block are installed in order; the second sticks.
    let (mut img, _) = sample();
    let bmap = img.sb.bmapstart;
    let good = img.block(bmap).to_vec();
    let mut damaged = good.clone();
    damaged.fill(0);
    img.commit_log(&[bmap, bmap], &[damaged, good]);
    let r = img.report();
    assert_clean(&r);
}

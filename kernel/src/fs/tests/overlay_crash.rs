//! Power cuts during a copy-up: for every crash point across the copy-up
//! of a file spanning many transactions, the remounted image is consistent
//! and the upper layer holds either no copy (the old view) or the complete
//! one, never a part; a leftover temporary sits in `work/` only. Then the
//! mount that removes layers gives back every inode and block.

use std::sync::Arc;

use berth_abi::errno::Errno::ENOENT;
use berth_abi::fcntl::O_WRONLY;
use berth_abi::fs::{Dirent, DIRENT_SIZE};

use super::overlay::{mount_image_keeping, root, vget};
use super::*;
use crate::fs::FileSystem;

/// Never recycles a buffer during the run, so the run after the crash
/// point reads only its cache and behaves like the reference run.
const CRASH_NBUF: usize = 4096;

#[test]
fn every_crash_point_of_a_copy_up_leaves_old_or_complete() {
    let data = pattern(9, 120_000); // 118 blocks and an indirect one: several transactions
    let (base, base_free) = {
        let t = fresh_with(4000, 100, NBUF, 64);
        t.fs.mkdir(&t.root, b"/dir").unwrap();
        t.put("/dir/big", &data).unwrap();
        let free = (t.free_blocks(), t.free_inodes());
        drop(t.fs.create_layer(b"c").unwrap());
        (t.image(), free)
    };
    let run = |disk: &Arc<RamDisk>, crash: Option<u64>| -> u64 {
        let fs = FileSystem::mount_keeping_layers(disk.clone(), CRASH_NBUF, 64).unwrap();
        let l = fs.open_layer(b"c").unwrap();
        let (c0, w0) = (fs.commits(), disk.writes());
        if let Some(k) = crash {
            disk.crash_after(k);
        }
        let r = l.open(&root(), b"/dir/big", O_WRONLY).map(drop);
        if crash.is_none() {
            r.unwrap();
            assert!(
                fs.commits() - c0 >= 4,
                "copy-up took {} commits",
                fs.commits() - c0
            );
        }
        disk.writes() - w0
    };
    let total = {
        let disk = Arc::new(RamDisk::from_bytes(base.clone()).unwrap());
        run(&disk, None)
    };
    let (mut old, mut new, mut temps) = (0, 0, 0);
    for k in 0..=total {
        let disk = Arc::new(RamDisk::from_bytes(base.clone()).unwrap());
        run(&disk, Some(k));
        let t = mount_image_keeping(disk.snapshot());
        let problems = check::check_image(&t.image(), false);
        assert!(
            problems.is_empty(),
            "crash after {k}:\n{}",
            problems.join("\n")
        );
        {
            let l = t.fs.open_layer(b"c").unwrap();
            match t.fs.namei(l.upper_root(), b"dir/big") {
                Err(ENOENT) => old += 1,
                Ok(ip) => {
                    assert!(
                        read_all(&t.fs, &ip).unwrap() == data,
                        "crash after {k}: a partial copy"
                    );
                    new += 1;
                }
                Err(e) => panic!("crash after {k}: {e:?}"),
            }
            // Either way the view reads the whole file.
            assert!(vget(&l, "/dir/big").unwrap() == data, "crash after {k}");
            let work = t.fs.namei(l.layer_dir(), b"work").unwrap();
            let entries = read_all(&t.fs, &work).unwrap();
            let live = entries
                .chunks_exact(DIRENT_SIZE)
                .filter(|e| Dirent::from_bytes(e).inum != 0)
                .count();
            if live > 2 {
                temps += 1;
            }
        }
        let img = t.image();
        drop(t);
        let t = mount_image(img, NBUF, 64);
        assert_eq!(t.fs.mount_info().layers_removed, 1, "crash after {k}");
        assert_eq!(
            (t.free_blocks(), t.free_inodes()),
            base_free,
            "crash after {k}"
        );
        t.assert_consistent(false);
    }
    assert!(old > 0 && new > 0, "old {old}, new {new}");
    assert!(temps > 0, "no crash point left a temporary in work/");
    std::eprintln!(
        "{} crash points: {old} old, {new} complete, {temps} with a temporary",
        total + 1
    );
}

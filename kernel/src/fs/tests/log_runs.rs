//! The log's commit in runs (`log.rs`): a device that records every write
//! call shows a group of consecutive data blocks committing as one log run,
//! the header, a few home runs and the header again; power cuts anywhere in
//! such a commit, inside the log run or a home run, recover all or nothing.

use std::sync::{Arc, Mutex};
use std::vec::Vec;

use berth_abi::errno::Errno;
use berth_abi::fcntl::{O_CREATE, O_RDWR};
use berth_abi::fs::BSIZE;

use super::*;
use crate::fs::{BlockDevice, FileSystem, RamDisk};

/// One write call a device received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Write {
    One(u32),
    Run { start: u32, len: usize },
}

/// A RAM disk that records its write calls.
struct Counting {
    disk: Arc<RamDisk>,
    writes: Mutex<Vec<Write>>,
}

impl BlockDevice for Counting {
    fn read_block(&self, blockno: u32, buf: &mut [u8; BSIZE]) -> Result<(), Errno> {
        self.disk.read_block(blockno, buf)
    }
    fn write_block(&self, blockno: u32, buf: &[u8; BSIZE]) -> Result<(), Errno> {
        self.writes.lock().unwrap().push(Write::One(blockno));
        self.disk.write_block(blockno, buf)
    }
    fn write_blocks(&self, start: u32, bufs: &[&[u8; BSIZE]]) -> Result<(), Errno> {
        self.writes.lock().unwrap().push(Write::Run {
            start,
            len: bufs.len(),
        });
        self.disk.write_blocks(start, bufs)
    }
    fn block_count(&self) -> u32 {
        self.disk.block_count()
    }
}

/// File blocks one operation writes in these tests: past the direct
/// blocks, so the group holds an indirect block too, and well inside one
/// operation's budget.
const FILE_BLOCKS: usize = 20;

#[test]
fn consecutive_blocks_commit_as_one_log_run_and_few_home_runs() {
    let disk = Arc::new(RamDisk::from_bytes(formatted_image(2000, 64)).unwrap());
    let dev = Arc::new(Counting {
        disk: disk.clone(),
        writes: Mutex::new(Vec::new()),
    });
    let fs = FileSystem::mount_with(dev.clone(), NBUF, 64).unwrap();
    let root = fs.root().unwrap();
    let logstart = fs.superblock().logstart;
    let ip = fs.open_inode(&root, b"/f", O_CREATE | O_RDWR).unwrap();
    dev.writes.lock().unwrap().clear();
    let commits = fs.commits();
    let data = pattern(5, FILE_BLOCKS * BSIZE);
    assert_eq!(fs.write_file(&ip, 0, &data).unwrap(), data.len());
    assert_eq!(fs.commits() - commits, 1, "the write took one operation");

    let writes = dev.writes.lock().unwrap().clone();
    let n = match writes.first() {
        Some(&Write::Run { start, len }) if start == logstart + 1 => len,
        other => panic!("commit began with {other:?}, not a log run: {writes:?}"),
    };
    // The data blocks, their indirect block, the inode block and a bitmap block.
    assert_eq!(n, FILE_BLOCKS + 3, "{writes:?}");
    assert_eq!(
        writes[1],
        Write::One(logstart),
        "then the header: {writes:?}"
    );
    assert_eq!(
        writes.last(),
        Some(&Write::One(logstart)),
        "the header cleared last: {writes:?}"
    );
    let homes = &writes[2..writes.len() - 1];
    assert!(
        homes.len() <= 3,
        "{} home writes for {n} blocks: {writes:?}",
        homes.len()
    );
    let mut installed = 0;
    let mut longest = 0;
    let mut next = 0;
    for w in homes {
        let Write::Run { start, len } = *w else {
            panic!("a home block written alone: {writes:?}");
        };
        assert!(
            start >= next,
            "home runs out of order or overlapping: {writes:?}"
        );
        next = start + len as u32;
        installed += len;
        longest = longest.max(len);
    }
    assert_eq!(installed, n, "{writes:?}");
    assert!(
        longest > FILE_BLOCKS,
        "the file's blocks were not one run: {writes:?}"
    );
    drop((ip, root, fs));

    let t = mount_image(disk.snapshot(), NBUF, 64);
    assert_eq!(t.get("/f").unwrap(), data);
    t.assert_consistent(false);
}

#[test]
fn power_cut_inside_the_log_run_or_a_home_run_is_all_or_nothing() {
    let old = pattern(6, FILE_BLOCKS * BSIZE);
    let new = pattern(7, FILE_BLOCKS * BSIZE);
    let base = {
        let t = fresh_with(2000, 64, NBUF, 64);
        t.put("/f", &old).unwrap();
        t.image()
    };
    // Overwriting in place logs the data blocks (one run) and the inode block.
    let overwrite = |t: &TestFs| {
        let ip = t.fs.open_inode(&t.root, b"/f", O_RDWR).unwrap();
        assert_eq!(t.fs.write_file(&ip, 0, &new).unwrap(), new.len());
    };
    let total = {
        let t = mount_image(base.clone(), NBUF, 64);
        let before = t.disk.writes();
        overwrite(&t);
        t.disk.writes() - before
    };
    // Log run, header, home runs, header: every logged block twice.
    let n = (total - 2) / 2;
    assert_eq!(total, 2 * n + 2);
    assert!(n > FILE_BLOCKS as u64, "{n} blocks logged");
    for k in 0..=total {
        let t = mount_image(base.clone(), NBUF, 64);
        t.disk.crash_after(k);
        overwrite(&t);
        let img = t.image();
        drop(t);
        let t = mount_image(img, NBUF, 64);
        t.assert_consistent(false);
        let got = t.get("/f").unwrap();
        let replayed = t.fs.mount_info().replayed_blocks;
        if k <= n {
            // The header never said the group was there: a torn log run is ignored.
            assert!(got == old, "crash after {k} writes: not the old contents");
            assert_eq!(replayed, 0, "crash after {k} writes");
        } else {
            // Committed: a torn install (or none) is finished by the replay.
            assert!(got == new, "crash after {k} writes: not the new contents");
            let want = if k < total { n as usize } else { 0 };
            assert_eq!(replayed, want, "crash after {k} writes");
        }
    }
}

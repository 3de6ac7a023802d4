//! Write-ahead redo log with group commit (xv6's `log.c`, same on-disk format).
//!
//! Every change to the file system happens inside an operation
//! ([`Log::begin_op`] returns a [`Transaction`]; dropping it is `end_op`).
//! A cached block is changed only through [`BufGuard::modify`], which
//! records its number in the current group and pins the buffer. When the
//! last outstanding operation ends, that thread commits the whole group:
//!
//! 1. sort the group's block numbers (the group is a set; the header
//!    records whichever order the log holds them in) and write the logged
//!    buffers, the `i`-th to log block `i`, as one run
//!    ([`BlockDevice::write_blocks`]: one disk command on the IDE disk);
//! 2. write the header with the count and home block numbers: **this single
//!    block write is the commit point**: a crash before it loses the whole
//!    group, a crash after it is repaired by replaying the log at mount;
//! 3. install: write the buffers to their home blocks, one run per stretch
//!    of consecutive block numbers (a file's data blocks are mostly
//!    allocated in a row, so a big write installs in a few runs), and unpin
//!    them;
//! 4. write the header with a count of zero (the group is no longer needed).
//!
//! Why runs keep this correct: a run is not atomic, only each of its blocks
//! is (`device.rs`). A crash in the log run (1) leaves the header on disk
//! at count zero (the previous commit or recovery cleared it), so recovery
//! ignores the log area, torn or not. After the commit point the log holds
//! the whole group and replay rewrites every home block from it, so a crash
//! in the install (3) may leave any subset of the home blocks written, in
//! any order: the order of the home runs does not matter, only that all of
//! them have finished before (4) clears the header, and `write_blocks`
//! returns only when its transfer is done. The header itself is always
//! written alone with `write_block`.
//!
//! Recovery ([`recover`], at mount, before the cache exists) does 3 and 4
//! from the log blocks on disk, block by block. The log area is only ever
//! accessed directly through the device, never through the buffer cache.
//!
//! Admission: an operation may log at most [`MAXOPBLOCKS`] distinct blocks;
//! `begin_op` waits while a commit is running or while the reserved space of
//! the outstanding operations plus one more could overflow the log. Larger
//! updates (big writes, truncating big files) are split by their callers
//! into several operations; [`Transaction::fits`] tells them when to stop.
//! Exceeding the budget is a bug in the file system and panics.
//!
//! Locking: `state` (spinlock) covers the counters and the block list and is
//! never held across I/O. `begin_op` may sleep (on `wait`); the commit runs
//! in the thread whose `end_op` finished the group, holding no spinlock.
//! Lock order: an operation begins *before* its thread takes any inode lock
//! (otherwise a thread waiting for log space could hold a lock an
//! outstanding operation needs), and a thread never begins a second
//! operation while one is open.
//!
//! The commit holds the guards of all the group's buffers at once, from
//! step 1 until each buffer's home run is written, so the device reads them
//! in place: no copy and no memory per commit beyond two stack arrays of
//! [`LOGSIZE`] entries and the header buffer made at mount. That is the one
//! exception to `bio.rs`'s rule of one buffer guard per thread, and it
//! cannot deadlock:
//! - every buffer of the group is pinned, so `bread` finds it cached and
//!   valid: the committer never waits for a free buffer or a disk read,
//!   only for the sleep lock of a group buffer another thread holds;
//! - no operation is outstanding and none begins before the commit ends,
//!   so every other guard holder is outside a transaction (`ilock`,
//!   `readi`, directory lookups, mount's orphan scan; the overlay reaches
//!   blocks only through these inode-level calls). It holds that one guard
//!   only, and while holding it waits for nothing but the disk and
//!   spinlocks: not for another buffer (the one-guard rule), not for an
//!   inode lock (those come before buffers), not for the log (`begin_op`
//!   comes before any lock). So it lets go without needing anything the
//!   committer holds, and the committer's wait ends;
//! - a thread waiting for a free buffer holds no guard, and the buffers the
//!   commit holds were not free anyway (pinned).
//!
//! The cost: a reader of a block in the group waits for the log run and
//! the header, a few disk commands, instead of one block write; the guards
//! are let go run by run as the install proceeds.
//!
//! A device error during a commit makes the log refuse every later
//! operation with `EIO` (the disk still holds either the old state or a
//! committed log that the next mount replays).

use alloc::vec::Vec;
use core::cell::RefCell;

use berth_abi::errno::Errno;
use berth_abi::fs::{SuperBlock, BSIZE, LOGSIZE, MAXOPBLOCKS};

use super::bio::{BufCache, BufGuard};
use super::device::BlockDevice;
use super::MountError;
use crate::sync::{SleepLock, SpinLock, WaitQueue};

/// What `write_run` fills its array of block references with first.
static ZEROS: [u8; BSIZE] = [0; BSIZE];

/// The in-memory state of one file system's log.
pub struct Log {
    /// Block number of the header; log block `i` is at `start + 1 + i`.
    start: u32,
    /// Blocks one group may hold.
    capacity: usize,
    state: SpinLock<LogState>,
    wait: WaitQueue,
    /// The header as the commit writes it (only the committing thread
    /// takes this lock): on the heap, so the disk reads it in place.
    header: SleepLock<[u8; BSIZE]>,
}

struct LogState {
    /// Operations between `begin_op` and `end_op`.
    outstanding: usize,
    /// A commit is writing the current group.
    committing: bool,
    /// Distinct home blocks changed by the current group (each buffer pinned).
    blocks: Vec<u32>,
    /// Set when a commit failed; every later operation gets this error.
    failed: Option<Errno>,
    commits: u64,
}

/// An open file-system operation; ends (and maybe commits) on drop.
pub struct Transaction<'a> {
    log: &'a Log,
    cache: &'a BufCache,
    /// Distinct blocks this operation logged, for its budget.
    mine: RefCell<([u32; MAXOPBLOCKS], usize)>,
}

impl Log {
    /// The log described by `sb` (already validated and recovered by `mount`).
    pub(super) fn new(sb: &SuperBlock) -> Log {
        let capacity = (sb.nlog as usize - 1).min(LOGSIZE);
        Log {
            start: sb.logstart,
            capacity,
            state: SpinLock::new(
                "log",
                LogState {
                    outstanding: 0,
                    committing: false,
                    blocks: Vec::with_capacity(capacity),
                    failed: None,
                    commits: 0,
                },
            ),
            wait: WaitQueue::new(),
            header: SleepLock::new("log header", [0; BSIZE]),
        }
    }

    /// Groups committed since mount.
    pub fn commits(&self) -> u64 {
        self.state.lock().commits
    }

    /// Starts an operation, waiting while a commit runs or the log is too
    /// full to guarantee it `MAXOPBLOCKS` blocks. `EIO` after a failed commit.
    pub fn begin_op<'a>(&'a self, cache: &'a BufCache) -> Result<Transaction<'a>, Errno> {
        super::held::begin_tx();
        let mut st = self.state.lock();
        loop {
            if let Some(e) = st.failed {
                drop(st);
                super::held::end_tx();
                return Err(e);
            }
            if st.committing || st.blocks.len() + (st.outstanding + 1) * MAXOPBLOCKS > self.capacity
            {
                st = self.wait.sleep(st);
                continue;
            }
            st.outstanding += 1;
            break;
        }
        Ok(Transaction {
            log: self,
            cache,
            mine: RefCell::new(([0; MAXOPBLOCKS], 0)),
        })
    }

    fn end_op(&self, cache: &BufCache) {
        let mut st = self.state.lock();
        assert!(st.outstanding > 0, "end_op without begin_op");
        assert!(!st.committing, "end_op during a commit");
        st.outstanding -= 1;
        if st.outstanding > 0 || st.blocks.is_empty() {
            // Less space is reserved now: a waiting begin_op may fit.
            drop(st);
            self.wait.wake_all();
            return;
        }
        st.committing = true;
        let mut blocks = core::mem::take(&mut st.blocks);
        drop(st);

        // No operation is outstanding and none can start, so the pinned
        // buffers hold exactly the group's final contents.
        let result = self.commit(cache, &mut blocks);

        let mut st = self.state.lock();
        blocks.clear();
        st.blocks = blocks;
        st.committing = false;
        st.commits += 1;
        if let Err(e) = result {
            st.failed = Some(e);
        }
        drop(st);
        self.wait.wake_all();
    }

    fn commit(&self, cache: &BufCache, blocks: &mut [u32]) -> Result<(), Errno> {
        let dev = cache.device();
        let n = blocks.len();
        assert!(n <= LOGSIZE, "fs: a group of {n} blocks overflows the log");
        blocks.sort_unstable();
        // Every buffer is pinned, so cached: no read, no wait for a free one.
        let mut guards: [Option<BufGuard<'_>>; LOGSIZE] = core::array::from_fn(|_| None);
        for (g, &b) in guards.iter_mut().zip(blocks.iter()) {
            *g = Some(cache.bread(b)?);
        }
        write_run(dev, self.start + 1, &guards[..n])?;
        let mut header = self.header.lock();
        write_header(dev, self.start, blocks, &mut header)?; // the commit point
        let mut i = 0;
        while i < n {
            let len = run_len(&blocks[i..]);
            write_run(dev, blocks[i], &guards[i..i + len])?;
            for g in guards[i..i + len].iter_mut().filter_map(Option::take) {
                g.unpin();
            }
            i += len;
        }
        write_header(dev, self.start, &[], &mut header)
    }

    /// Number of operations currently open (for tests).
    #[cfg(test)]
    pub(super) fn outstanding(&self) -> usize {
        self.state.lock().outstanding
    }
}

impl Transaction<'_> {
    /// Records that this operation changed `buf` (xv6 `log_write`).
    fn log_write(&self, buf: &BufGuard<'_>) {
        let b = buf.blockno();
        {
            let mut mine = self.mine.borrow_mut();
            let (list, n) = &mut *mine;
            if !list[..*n].contains(&b) {
                assert!(
                    *n < MAXOPBLOCKS,
                    "fs: an operation logged more than MAXOPBLOCKS ({MAXOPBLOCKS}) blocks"
                );
                list[*n] = b;
                *n += 1;
            }
        }
        let mut st = self.log.state.lock();
        if !st.blocks.contains(&b) {
            // Admission control makes this impossible unless an operation broke its budget.
            assert!(st.blocks.len() < self.log.capacity, "fs: log overflow");
            st.blocks.push(b);
            buf.pin();
        }
    }

    /// Distinct blocks this operation has logged so far.
    pub fn logged(&self) -> usize {
        self.mine.borrow().1
    }

    /// Whether logging `blocks` (in addition to what this operation already
    /// logged) keeps it within `MAXOPBLOCKS - reserve` blocks.
    pub fn fits(&self, blocks: &[u32], reserve: usize) -> bool {
        let mine = self.mine.borrow();
        let (list, n) = &*mine;
        let mut extra = 0;
        for (i, b) in blocks.iter().enumerate() {
            if !list[..*n].contains(b) && !blocks[..i].contains(b) {
                extra += 1;
            }
        }
        n + extra + reserve <= MAXOPBLOCKS
    }

    /// The cache this operation reads and writes through.
    pub fn cache(&self) -> &BufCache {
        self.cache
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        self.log.end_op(self.cache);
        super::held::end_tx();
    }
}

impl BufGuard<'_> {
    /// The buffer's bytes for changing, recording the block in `tx` first;
    /// the only way to change a cached block.
    pub fn modify(&mut self, tx: &Transaction<'_>) -> &mut [u8; BSIZE] {
        tx.log_write(self);
        self.bytes_mut()
    }
}

/// How many blocks of `blocks` (sorted, distinct, not empty) from the first
/// on have consecutive numbers.
fn run_len(blocks: &[u32]) -> usize {
    1 + blocks
        .windows(2)
        .take_while(|w| w[0].checked_add(1) == Some(w[1]))
        .count()
}

/// Writes the buffers of `guards` (all held) to blocks `start..` as one run.
fn write_run(
    dev: &dyn BlockDevice,
    start: u32,
    guards: &[Option<BufGuard<'_>>],
) -> Result<(), Errno> {
    let mut refs: [&[u8; BSIZE]; LOGSIZE] = [&ZEROS; LOGSIZE];
    for (r, g) in refs.iter_mut().zip(guards) {
        *r = g
            .as_deref()
            .expect("log: a group buffer was let go before its write");
    }
    dev.write_blocks(start, &refs[..guards.len()])
}

/// Writes a header naming `blocks` to block `start`, built in `h`.
fn write_header(
    dev: &dyn BlockDevice,
    start: u32,
    blocks: &[u32],
    h: &mut [u8; BSIZE],
) -> Result<(), Errno> {
    h.fill(0);
    h[0..4].copy_from_slice(&(blocks.len() as u32).to_le_bytes());
    for (i, b) in blocks.iter().enumerate() {
        h[4 + 4 * i..8 + 4 * i].copy_from_slice(&b.to_le_bytes());
    }
    dev.write_block(start, h)
}

/// Replays a committed group found in the log of `sb` and clears the
/// header; returns how many blocks were installed. Runs at mount, before
/// anything is cached.
pub(super) fn recover(dev: &dyn BlockDevice, sb: &SuperBlock) -> Result<usize, MountError> {
    let io = |blockno: u32| move |e: Errno| MountError::Io { blockno, errno: e };
    let mut h = [0u8; BSIZE];
    dev.read_block(sb.logstart, &mut h)
        .map_err(io(sb.logstart))?;
    let word = |i: usize| u32::from_le_bytes([h[4 * i], h[4 * i + 1], h[4 * i + 2], h[4 * i + 3]]);
    let n = word(0) as usize;
    let capacity = (sb.nlog as usize - 1).min(LOGSIZE);
    if n > capacity {
        return Err(MountError::CorruptLog(alloc::format!(
            "log header counts {n} blocks but the log holds {capacity}"
        )));
    }
    let homes: Vec<u32> = (0..n).map(|i| word(1 + i)).collect();
    if let Some(&bad) = homes.iter().find(|&&b| b < sb.inodestart || b >= sb.size) {
        return Err(MountError::CorruptLog(alloc::format!(
            "log header names block {bad}, outside the inode, bitmap and data areas"
        )));
    }
    let mut data = [0u8; BSIZE];
    for (i, &home) in homes.iter().enumerate() {
        let from = sb.logstart + 1 + i as u32;
        dev.read_block(from, &mut data).map_err(io(from))?;
        dev.write_block(home, &data).map_err(io(home))?;
    }
    if n > 0 {
        write_header(dev, sb.logstart, &[], &mut data).map_err(io(sb.logstart))?;
    }
    Ok(n)
}

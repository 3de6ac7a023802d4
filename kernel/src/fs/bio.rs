//! Buffer cache: a fixed set of block-sized buffers in front of the device.
//!
//! The cache keeps at most one buffer per block number, so every user of a
//! block sees the same bytes and the per-buffer sleep lock serialises them;
//! that is what makes the rest of the file system's locking work. Buffers
//! whose reference count is zero sit on an LRU list and the least recently
//! released one is recycled for a block that is not cached. Lookups go
//! through a small chained hash table built once at mount, so nothing here
//! allocates after [`BufCache::new`].
//!
//! Only the log writes cached blocks to disk: file-system code never
//! writes a buffer to its home location itself. It changes a buffer through
//! [`BufGuard::modify`] (in `log.rs`), which records the block in the
//! current transaction and pins it (an extra reference) so it cannot be
//! recycled before the commit writes it to the log and then home.
//!
//! Locking:
//! - `meta` (spinlock) covers block numbers, reference counts, the hash
//!   chains and the LRU list. It is never held across I/O or a sleep lock.
//! - each buffer's bytes are under its own [`SleepLock`], held for the life
//!   of a [`BufGuard`] (which may span device I/O).
//! - `valid` says whether the bytes hold the block from disk. It is cleared
//!   only when a buffer is recycled (reference count zero, so no guard
//!   exists) under `meta`, and set only by the holder of the sleep lock.
//! - A thread holds at most one buffer guard at a time anywhere in the file
//!   system (indirect-block walks copy an address out and release the
//!   buffer before reading the next one). With `nbuf > LOGSIZE` that
//!   guarantees progress: a thread waiting for a free buffer holds none, the
//!   pinned ones are bounded by the log size and released by the commit.
//!   The one exception is the log's commit, which holds the guards of its
//!   (pinned) group at once so the device writes them in place; `log.rs`
//!   explains why that cannot deadlock.
//!   When every buffer is in use, [`BufCache::bread`] waits for a release
//!   instead of panicking like xv6.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::Deref;
use core::sync::atomic::{AtomicBool, Ordering};

use berth_abi::errno::Errno;
use berth_abi::fs::BSIZE;

use super::device::BlockDevice;
use crate::sync::{SleepLock, SleepLockGuard, SpinLock, WaitQueue};

const NIL: usize = usize::MAX;

/// The buffer cache of one file system.
pub struct BufCache {
    dev: Arc<dyn BlockDevice>,
    bufs: Box<[Buf]>,
    meta: SpinLock<Meta>,
    /// Waiters for a buffer to become free (reference count zero).
    freed: WaitQueue,
}

struct Buf {
    valid: AtomicBool,
    data: SleepLock<[u8; BSIZE]>,
}

#[derive(Clone, Copy)]
struct Slot {
    /// Block held, when `assigned`.
    blockno: u32,
    assigned: bool,
    /// Guards plus log pins.
    refcnt: u32,
    /// LRU list links (only while `refcnt == 0`).
    prev: usize,
    next: usize,
    /// Hash chain link (only while `assigned`).
    hnext: usize,
}

struct Meta {
    slots: Vec<Slot>,
    buckets: Vec<usize>,
    /// Least recently released free buffer: recycled first.
    lru_head: usize,
    /// Most recently released free buffer.
    lru_tail: usize,
    hits: u64,
    misses: u64,
    /// Threads sleeping in `get` for a free buffer (so a release only wakes when needed).
    waiting: usize,
}

impl Meta {
    fn bucket(&self, blockno: u32) -> usize {
        // Fibonacci hashing: consecutive block numbers spread over the table.
        (blockno.wrapping_mul(0x9E37_79B9) as usize) & (self.buckets.len() - 1)
    }

    fn find(&self, blockno: u32) -> Option<usize> {
        let mut i = self.buckets[self.bucket(blockno)];
        while i != NIL {
            if self.slots[i].blockno == blockno {
                return Some(i);
            }
            i = self.slots[i].hnext;
        }
        None
    }

    fn hash_insert(&mut self, i: usize) {
        let b = self.bucket(self.slots[i].blockno);
        self.slots[i].hnext = self.buckets[b];
        self.buckets[b] = i;
    }

    fn hash_remove(&mut self, i: usize) {
        let b = self.bucket(self.slots[i].blockno);
        if self.buckets[b] == i {
            self.buckets[b] = self.slots[i].hnext;
            return;
        }
        let mut p = self.buckets[b];
        while self.slots[p].hnext != i {
            p = self.slots[p].hnext;
        }
        self.slots[p].hnext = self.slots[i].hnext;
    }

    fn lru_push(&mut self, i: usize) {
        self.slots[i].prev = self.lru_tail;
        self.slots[i].next = NIL;
        if self.lru_tail == NIL {
            self.lru_head = i;
        } else {
            self.slots[self.lru_tail].next = i;
        }
        self.lru_tail = i;
    }

    fn lru_remove(&mut self, i: usize) {
        let Slot { prev, next, .. } = self.slots[i];
        if prev == NIL {
            self.lru_head = next;
        } else {
            self.slots[prev].next = next;
        }
        if next == NIL {
            self.lru_tail = prev;
        } else {
            self.slots[next].prev = prev;
        }
    }
}

/// A locked, referenced buffer; releases both on drop (`brelse`).
pub struct BufGuard<'a> {
    cache: &'a BufCache,
    idx: usize,
    blockno: u32,
    /// `Some` until drop, which releases the sleep lock before the reference.
    data: Option<SleepLockGuard<'a, [u8; BSIZE]>>,
}

impl BufGuard<'_> {
    /// The block this buffer holds.
    pub fn blockno(&self) -> u32 {
        self.blockno
    }

    /// Mutable bytes, for the log's `modify` (which records the change) only.
    pub(super) fn bytes_mut(&mut self) -> &mut [u8; BSIZE] {
        self.data.as_mut().expect("buffer guard used after release")
    }

    /// Adds a reference that keeps the buffer cached until [`BufGuard::unpin`] (log only).
    pub(super) fn pin(&self) {
        self.cache.meta.lock().slots[self.idx].refcnt += 1;
    }

    /// Drops a reference added by [`BufGuard::pin`].
    pub(super) fn unpin(&self) {
        let mut meta = self.cache.meta.lock();
        let slot = &mut meta.slots[self.idx];
        // The guard itself holds a reference, so this never reaches zero.
        assert!(
            slot.refcnt > 1,
            "bunpin: buffer {} was not pinned",
            self.blockno
        );
        slot.refcnt -= 1;
    }
}

impl Deref for BufGuard<'_> {
    type Target = [u8; BSIZE];
    fn deref(&self) -> &[u8; BSIZE] {
        self.data.as_ref().expect("buffer guard used after release")
    }
}

impl Drop for BufGuard<'_> {
    fn drop(&mut self) {
        // Unlock first: once the count reaches zero the buffer may be
        // recycled, and a recycled buffer must have no lock holder.
        drop(self.data.take());
        self.cache.release(self.idx);
    }
}

impl BufCache {
    /// A cache of `nbuf` buffers (at least one) over `dev`.
    pub fn new(dev: Arc<dyn BlockDevice>, nbuf: usize) -> BufCache {
        assert!(nbuf > 0, "buffer cache needs at least one buffer");
        let nbuckets = nbuf.next_power_of_two();
        let mut slots = Vec::with_capacity(nbuf);
        let mut bufs = Vec::with_capacity(nbuf);
        for i in 0..nbuf {
            slots.push(Slot {
                blockno: 0,
                assigned: false,
                refcnt: 0,
                prev: if i == 0 { NIL } else { i - 1 },
                next: if i + 1 == nbuf { NIL } else { i + 1 },
                hnext: NIL,
            });
            bufs.push(Buf {
                valid: AtomicBool::new(false),
                data: SleepLock::new("buffer", [0; BSIZE]),
            });
        }
        let meta = Meta {
            slots,
            buckets: alloc::vec![NIL; nbuckets],
            lru_head: 0,
            lru_tail: nbuf - 1,
            hits: 0,
            misses: 0,
            waiting: 0,
        };
        BufCache {
            dev,
            bufs: bufs.into_boxed_slice(),
            meta: SpinLock::new("bcache", meta),
            freed: WaitQueue::new(),
        }
    }

    /// Number of buffers.
    pub fn nbuf(&self) -> usize {
        self.bufs.len()
    }

    /// Lookups that found their block cached, and those that did not.
    pub fn stats(&self) -> (u64, u64) {
        let meta = self.meta.lock();
        (meta.hits, meta.misses)
    }

    /// Number of blocks on the device.
    pub fn device_blocks(&self) -> u32 {
        self.dev.block_count()
    }

    /// The device, for the log's direct access to its own area.
    pub(super) fn device(&self) -> &dyn BlockDevice {
        &*self.dev
    }

    /// The locked buffer holding block `blockno`, read from disk if it is not cached.
    /// May sleep: for the buffer's lock, the disk, or a free buffer.
    pub fn bread(&self, blockno: u32) -> Result<BufGuard<'_>, Errno> {
        let mut guard = self.get_locked(blockno)?;
        let buf = &self.bufs[guard.idx];
        if !buf.valid.load(Ordering::Acquire) {
            // On error the guard drops and the buffer stays invalid.
            self.dev.read_block(blockno, guard.bytes_mut())?;
            buf.valid.store(true, Ordering::Release);
        }
        Ok(guard)
    }

    /// Like [`BufCache::bread`] for a block whose old contents do not matter
    /// (a freshly allocated one): skips the disk read. The caller overwrites
    /// the whole block inside a transaction.
    pub(super) fn bread_for_overwrite(&self, blockno: u32) -> Result<BufGuard<'_>, Errno> {
        let mut guard = self.get_locked(blockno)?;
        let buf = &self.bufs[guard.idx];
        if !buf.valid.load(Ordering::Acquire) {
            guard.bytes_mut().fill(0);
            buf.valid.store(true, Ordering::Release);
        }
        Ok(guard)
    }

    fn get_locked(&self, blockno: u32) -> Result<BufGuard<'_>, Errno> {
        if blockno >= self.dev.block_count() {
            return Err(Errno::EIO);
        }
        let idx = self.get(blockno);
        Ok(BufGuard {
            cache: self,
            idx,
            blockno,
            data: Some(self.bufs[idx].data.lock()),
        })
    }

    /// Takes a reference to the buffer for `blockno`, recycling the least
    /// recently used free buffer when the block is not cached (xv6 `bget`).
    fn get(&self, blockno: u32) -> usize {
        let mut meta = self.meta.lock();
        loop {
            if let Some(i) = meta.find(blockno) {
                if meta.slots[i].refcnt == 0 {
                    meta.lru_remove(i);
                }
                meta.slots[i].refcnt += 1;
                meta.hits += 1;
                return i;
            }
            let victim = meta.lru_head;
            if victim != NIL {
                meta.lru_remove(victim);
                if meta.slots[victim].assigned {
                    meta.hash_remove(victim);
                }
                let slot = &mut meta.slots[victim];
                slot.blockno = blockno;
                slot.assigned = true;
                slot.refcnt = 1;
                meta.hash_insert(victim);
                meta.misses += 1;
                // No guard exists (count was zero), so nobody reads this concurrently.
                self.bufs[victim].valid.store(false, Ordering::Release);
                return victim;
            }
            meta.waiting += 1;
            meta = self.freed.sleep(meta);
            meta.waiting -= 1;
        }
    }

    fn release(&self, idx: usize) {
        let mut meta = self.meta.lock();
        let slot = &mut meta.slots[idx];
        assert!(
            slot.refcnt > 0,
            "brelse: buffer {} not referenced",
            slot.blockno
        );
        slot.refcnt -= 1;
        if slot.refcnt == 0 {
            meta.lru_push(idx);
            let wake = meta.waiting > 0;
            drop(meta);
            if wake {
                self.freed.wake_all();
            }
        }
    }

    /// Number of buffers with a reference (guards or pins), for tests.
    #[cfg(test)]
    pub(super) fn referenced(&self) -> usize {
        self.meta
            .lock()
            .slots
            .iter()
            .filter(|s| s.refcnt > 0)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::super::device::RamDisk;
    use super::*;

    fn cache(nblocks: u32, nbuf: usize) -> (Arc<RamDisk>, BufCache) {
        let disk = Arc::new(RamDisk::new(nblocks));
        for b in 0..nblocks {
            disk.write_block(b, &[b as u8; BSIZE]).unwrap();
        }
        (disk.clone(), BufCache::new(disk, nbuf))
    }

    #[test]
    fn reads_through_and_caches() {
        let (_disk, cache) = cache(16, 4);
        for round in 0..2 {
            for b in 0..4 {
                let g = cache.bread(b).unwrap();
                assert_eq!(g.blockno(), b);
                assert!(g.iter().all(|&x| x == b as u8), "round {round} block {b}");
            }
        }
        assert_eq!(cache.stats(), (4, 4));
        assert!(cache.bread(16).is_err());
        assert_eq!(cache.referenced(), 0);
    }

    #[test]
    fn recycles_least_recently_used() {
        let (_disk, cache) = cache(16, 3);
        for b in [1, 2, 3] {
            drop(cache.bread(b).unwrap());
        }
        drop(cache.bread(1).unwrap()); // 1 becomes most recent; 2 is now the oldest
        drop(cache.bread(4).unwrap()); // evicts 2
        let (hits, misses) = cache.stats();
        assert_eq!((hits, misses), (1, 4));
        drop(cache.bread(3).unwrap());
        drop(cache.bread(1).unwrap());
        assert_eq!(cache.stats(), (3, 4), "1 and 3 must still be cached");
        drop(cache.bread(2).unwrap());
        assert_eq!(cache.stats(), (3, 5), "2 was evicted");
    }

    #[test]
    fn pinned_buffer_is_not_recycled() {
        let (_disk, cache) = cache(16, 2);
        let g = cache.bread(5).unwrap();
        g.pin();
        drop(g);
        for b in 6..12 {
            drop(cache.bread(b).unwrap());
        }
        let g = cache.bread(5).unwrap();
        assert_eq!(cache.stats().0, 1, "pinned block 5 stayed cached");
        g.unpin();
        drop(g);
        assert_eq!(cache.referenced(), 0);
    }

    #[test]
    fn waits_for_a_free_buffer_instead_of_panicking() {
        let (_disk, cache) = cache(64, 2);
        std::thread::scope(|s| {
            for t in 0..4u32 {
                let cache = &cache;
                s.spawn(move || {
                    for i in 0..200u32 {
                        let b = (t * 13 + i) % 64;
                        let g = cache.bread(b).unwrap();
                        assert!(g.iter().all(|&x| x == b as u8));
                    }
                });
            }
        });
        assert_eq!(cache.referenced(), 0);
    }
}

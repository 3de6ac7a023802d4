//! Inodes: the in-memory inode table, reference handles, locking, and file
//! contents (block map, read, write, truncate).
//!
//! An [`InodeRef`] is a counted reference to an entry of a bounded table
//! (xv6's `iget`/`idup`/`iput`); the entry keeps its inode number while
//! referenced. Its on-disk fields are loaded on the first [`InodeRef::lock`]
//! (`ilock`) and stay in the entry, which is the authoritative copy: every
//! change goes through an [`InodeGuard`] and is written back with
//! `update` (`iupdate`) inside a transaction. A full table gives `ENFILE`.
//!
//! Freeing (xv6 `iput`): dropping the last reference of an inode whose link
//! count is zero truncates it and marks it free on disk (and looks again
//! before counting down: the freed number may have been reused, in the same
//! entry, and unlinked meanwhile; see `Drop`). That needs
//! transactions, which the drop opens itself (several if the file is big,
//! see `truncate_some`), so:
//!
//! **Rule: never drop an `InodeRef` while the thread holds an `InodeGuard`
//! or an open `Transaction`.** (It would begin an operation while holding
//! an inode lock or nest operations, both of which can deadlock the log.)
//! Code that obtains a reference inside an operation keeps it in a variable
//! declared before the `Transaction`, so it is dropped after the operation
//! ends. Host tests assert the rule on every drop. A crash between the last
//! unlink and the free leaves an allocated inode with no links; mount frees
//! such orphans.
//!
//! Locking:
//! - `meta` (spinlock): inode numbers and reference counts of the entries.
//!   Taken without sleeping, possibly while holding a buffer or inode lock.
//! - each entry's on-disk fields are under its own [`SleepLock`] (held by an
//!   `InodeGuard`). `valid` (fields loaded) and `linked` (nlink > 0, a copy
//!   `drop` can read without the sleep lock) change only under that lock,
//!   or, for `valid`, under `meta` when an unreferenced entry is reused.
//! - order: transaction, then inode locks (a parent before its child, never
//!   an ancestor while holding a descendant), then one buffer at a time.
//!
//! Files have 11 direct blocks, one indirect and one doubly-indirect block.
//! Holes (address 0 inside the size) read as zeros. Truncation frees blocks
//! from the end of the file, clearing each pointer and bitmap bit in the same
//! operation, so the image is consistent after every step. Invariant (fsck
//! checks it): no block of a file's tree, indirect blocks included, lies
//! wholly past its size: allocation links a block's whole path at once or
//! nothing, and truncation never ends an operation with an emptied table.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use berth_abi::errno::Errno;
use berth_abi::fs::{
    bitmap_block, inode_block, Dinode, BSIZE, DINODE_SIZE, IPB, LAYERS_INO, MAXFILE, MAXOPBLOCKS,
    NDINDIRECT, NDIRECT, NINDIRECT, ROOTINO, T_DEVICE, T_DIR, T_FILE, T_FREE,
};
use berth_abi::stat::Stat;

use super::io::{Sink, Source};
use super::log::Transaction;
use super::{held, Fs, ROOTDEV};
use crate::sync::{SleepLock, SleepLockGuard, SpinLock};

/// Most distinct blocks writing one not-yet-allocated block may log: the
/// data block, the doubly-indirect and second-level indirect blocks (each
/// possibly new), a bitmap block for each new block, and the inode block.
const WORST_NEW_BLOCK: usize = 7;

/// What a hole (a block never written) reads as.
static HOLE: [u8; BSIZE] = [0; BSIZE];

/// Log blocks truncation keeps free, while freeing data blocks, for freeing
/// the tables above the last one: a second-level table's bitmap block, the
/// doubly-indirect block, its bitmap block, and the inode block.
const CASCADE_RESERVE: usize = 4;

/// The table of in-memory inodes.
pub struct InodeCache {
    meta: SpinLock<Vec<Slot>>,
    cells: Box<[Cell]>,
}

#[derive(Clone, Copy)]
struct Slot {
    inum: u32,
    refcnt: u32,
}

struct Cell {
    valid: AtomicBool,
    linked: AtomicBool,
    data: SleepLock<Dinode>,
}

impl InodeCache {
    /// A table of `n` entries.
    pub fn new(n: usize) -> InodeCache {
        let cells = (0..n)
            .map(|_| Cell {
                valid: AtomicBool::new(false),
                linked: AtomicBool::new(false),
                data: SleepLock::new("inode", Dinode::default()),
            })
            .collect::<Vec<_>>()
            .into_boxed_slice();
        InodeCache {
            meta: SpinLock::new("itable", alloc::vec![Slot { inum: 0, refcnt: 0 }; n]),
            cells,
        }
    }

    /// Entries with a reference.
    pub(super) fn referenced(&self) -> usize {
        self.meta.lock().iter().filter(|s| s.refcnt > 0).count()
    }
}

/// A counted reference to an in-memory inode; dropping it is `iput`.
pub struct InodeRef {
    fs: Arc<Fs>,
    idx: usize,
    inum: u32,
}

/// A locked inode with its on-disk fields loaded; unlocks on drop.
pub struct InodeGuard<'a> {
    ip: &'a InodeRef,
    d: SleepLockGuard<'a, Dinode>,
}

impl Fs {
    /// A reference to inode `inum` without locking or reading it (xv6 `iget`).
    /// `EIO` for a number outside the inode area, `ENFILE` when the table is full.
    pub(super) fn iget(self: &Arc<Fs>, inum: u32) -> Result<InodeRef, Errno> {
        if inum == 0 || inum >= self.sb.ninodes {
            return Err(Errno::EIO);
        }
        let mut meta = self.icache.meta.lock();
        let mut empty = None;
        for (i, slot) in meta.iter_mut().enumerate() {
            if slot.refcnt > 0 && slot.inum == inum {
                slot.refcnt += 1;
                return Ok(InodeRef {
                    fs: self.clone(),
                    idx: i,
                    inum,
                });
            }
            if empty.is_none() && slot.refcnt == 0 {
                empty = Some(i);
            }
        }
        let i = empty.ok_or(Errno::ENFILE)?;
        meta[i] = Slot { inum, refcnt: 1 };
        // Unreferenced, so nobody holds or waits for its sleep lock.
        self.icache.cells[i].valid.store(false, Ordering::Release);
        Ok(InodeRef {
            fs: self.clone(),
            idx: i,
            inum,
        })
    }

    /// Allocates a free on-disk inode of type `kind` (all other fields zero)
    /// and returns a reference to it. `ENOSPC` when none is free. Like
    /// `balloc`, the search starts at a hint below which every inode was in
    /// use, and rescans from the start before reporting `ENOSPC`.
    pub(super) fn ialloc(
        self: &Arc<Fs>,
        tx: &Transaction<'_>,
        kind: i16,
    ) -> Result<InodeRef, Errno> {
        let hint = self.inode_hint.load(Ordering::Relaxed);
        let found = match self.ialloc_from(tx, kind, hint.max(1))? {
            Some(ip) => Some(ip),
            None if hint > 1 => self.ialloc_from(tx, kind, 1)?,
            None => None,
        };
        let ip = found.ok_or(Errno::ENOSPC)?;
        // Only if nothing moved the hint meanwhile: a free may have lowered it.
        let _ = self.inode_hint.compare_exchange(
            hint,
            ip.inum + 1,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        Ok(ip)
    }

    /// Takes the first free on-disk inode numbered `start` or above, if any.
    fn ialloc_from(
        self: &Arc<Fs>,
        tx: &Transaction<'_>,
        kind: i16,
        start: u32,
    ) -> Result<Option<InodeRef>, Errno> {
        let sb = &self.sb;
        let nblocks = sb.ninodes.div_ceil(IPB as u32);
        for blk in start / IPB as u32..nblocks {
            let mut buf = self.cache.bread(sb.inodestart + blk)?;
            for slot in 0..IPB as u32 {
                let inum = blk * IPB as u32 + slot;
                if inum < start.max(1) || inum >= sb.ninodes {
                    continue;
                }
                let off = slot as usize * DINODE_SIZE;
                let bytes = buf[off..off + DINODE_SIZE].try_into().unwrap();
                if Dinode::kind_and_nlink(bytes).0 != T_FREE {
                    continue;
                }
                // Take the table entry before claiming the disk inode, so a
                // full table leaves the disk untouched. The buffer lock keeps
                // other allocators off this inode meanwhile.
                let ip = self.iget(inum)?;
                let fresh = Dinode {
                    kind,
                    ..Dinode::default()
                };
                buf.modify(tx)[off..off + DINODE_SIZE].copy_from_slice(&fresh.to_bytes());
                return Ok(Some(ip));
            }
        }
        Ok(None)
    }

    /// `b` if it is a data block of this file system, else `EIO` (a corrupt address).
    pub(super) fn data_block(&self, b: u32) -> Result<u32, Errno> {
        if b < self.sb.data_start() || b >= self.sb.size {
            return Err(Errno::EIO);
        }
        Ok(b)
    }

    /// Entry `i` of indirect block `blk` (0 = none).
    fn indirect_entry(&self, blk: u32, i: usize) -> Result<u32, Errno> {
        let buf = self.cache.bread(blk)?;
        let e = read_u32(&buf[..], i);
        if e != 0 {
            self.data_block(e)?;
        }
        Ok(e)
    }

    /// Frees, from the last entry down, the blocks reachable from indirect
    /// block `blk` (`depth` 1: entries are data blocks; 2: entries are
    /// indirect blocks). Each entry is cleared in the same operation as its
    /// block's bitmap bit. Returns false when the operation's budget ran out
    /// first (leaving a consistent, partly emptied tree). `base` is the file
    /// block number of the first block under `blk`; `lowest` receives the
    /// lowest data block number freed.
    fn free_tree(
        &self,
        tx: &Transaction<'_>,
        blk: u32,
        depth: u32,
        base: usize,
        inode_blk: u32,
        lowest: &mut Option<usize>,
    ) -> Result<bool, Errno> {
        let span = if depth > 1 { NINDIRECT } else { 1 };
        let mut entries = [0u32; NINDIRECT];
        {
            let buf = self.cache.bread(blk)?;
            for (i, e) in entries.iter_mut().enumerate() {
                *e = read_u32(&buf[..], i);
            }
        }
        for i in (0..NINDIRECT).rev() {
            let e = entries[i];
            if e == 0 {
                continue;
            }
            self.data_block(e)?;
            // A data block may only be freed with room left to free the
            // tables above it should it be their last entry; a table is freed
            // from that reserve. So an operation never ends with an empty
            // table in the tree, which would lie beyond the shrunken size.
            let reserve = if depth > 1 {
                if !self.free_tree(tx, e, depth - 1, base + i * span, inode_blk, lowest)? {
                    return Ok(false);
                }
                0
            } else {
                CASCADE_RESERVE
            };
            if !tx.fits(&[bitmap_block(e, &self.sb), blk, inode_blk], reserve) {
                return Ok(false);
            }
            let mut buf = self.cache.bread(blk)?;
            buf.modify(tx)[4 * i..4 * i + 4].fill(0);
            drop(buf);
            self.bfree(tx, e)?;
            if depth == 1 {
                *lowest = Some(base + i);
            }
        }
        Ok(true)
    }
}

impl InodeRef {
    /// The inode number.
    pub fn inum(&self) -> u32 {
        self.inum
    }

    pub(super) fn fs(&self) -> &Arc<Fs> {
        &self.fs
    }

    fn cell(&self) -> &Cell {
        &self.fs.icache.cells[self.idx]
    }

    /// Locks the inode, reading it from disk the first time (xv6 `ilock`).
    /// `EIO` if the disk inode is free or has an unknown type (corruption).
    /// May sleep.
    pub fn lock(&self) -> Result<InodeGuard<'_>, Errno> {
        let cell = self.cell();
        let mut d = cell.data.lock();
        if !cell.valid.load(Ordering::Acquire) {
            let sb = &self.fs.sb;
            let buf = self.fs.cache.bread(inode_block(self.inum, sb))?;
            let off = (self.inum as usize % IPB) * DINODE_SIZE;
            let di = Dinode::from_bytes(&buf[off..off + DINODE_SIZE]);
            drop(buf);
            if !matches!(di.kind, T_DIR | T_FILE | T_DEVICE) || di.nlink < 0 {
                return Err(Errno::EIO);
            }
            *d = di;
            cell.linked.store(di.nlink > 0, Ordering::Release);
            cell.valid.store(true, Ordering::Release);
        }
        held::lock_inode();
        Ok(InodeGuard { ip: self, d })
    }

    /// Frees this (unlinked, last-referenced) inode: truncates it in as many
    /// operations as needed, then marks it free on disk.
    fn free(&self) -> Result<(), Errno> {
        loop {
            let tx = self.fs.begin_op()?;
            let mut g = self.lock()?;
            if g.truncate_some(&tx)? {
                *g.d = Dinode::default();
                g.update(&tx)?;
                self.fs.inode_hint.fetch_min(self.inum, Ordering::Relaxed);
                // Still locked: a later `iget` of the reused number reloads.
                self.cell().valid.store(false, Ordering::Release);
                return Ok(());
            }
        }
    }
}

impl Clone for InodeRef {
    /// Another reference to the same inode (xv6 `idup`).
    fn clone(&self) -> InodeRef {
        self.fs.icache.meta.lock()[self.idx].refcnt += 1;
        InodeRef {
            fs: self.fs.clone(),
            idx: self.idx,
            inum: self.inum,
        }
    }
}

impl Drop for InodeRef {
    /// xv6 `iput`: see the module's rule on where a reference may be dropped.
    fn drop(&mut self) {
        held::put_inode();
        let icache = &self.fs.icache;
        let mut meta = icache.meta.lock();
        // Freeing lets go of the table lock, and until our count comes down
        // the freed number can be allocated again into this very entry
        // (`ialloc` finds it free on disk and `iget` shares the entry): that
        // new file may be unlinked, and its other references dropped, before
        // we come back, leaving ours the last reference of an unlinked inode
        // again. So look again after every free. (Counting down without
        // looking left such a file allocated with no links: stress-fs at 8
        // CPUs, when the freeing thread was preempted after its free.)
        while self.must_free(&meta[self.idx]) {
            // Last reference to an inode no directory names: nobody else can
            // lock it (a new reference needs a link, or `ialloc` finding it
            // free). Keep our count while freeing so the entry is not reused.
            drop(meta);
            let freed = self.free();
            #[cfg(test)]
            seam::after_free();
            meta = icache.meta.lock();
            if freed.is_err() {
                // A broken log: the inode stays allocated with no links,
                // and the next mount frees it.
                break;
            }
        }
        meta[self.idx].refcnt -= 1;
    }
}

impl InodeRef {
    /// Whether this reference, with `slot` its entry's count, is the last
    /// one of an inode that no directory names (its fields loaded). The
    /// root and the layer area are never freed, even if a corrupt image
    /// gives them no links.
    fn must_free(&self, slot: &Slot) -> bool {
        let cell = self.cell();
        slot.refcnt == 1
            && self.inum != ROOTINO
            && self.inum != LAYERS_INO
            && cell.valid.load(Ordering::Acquire)
            && !cell.linked.load(Ordering::Acquire)
    }
}

impl fmt::Debug for InodeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InodeRef({})", self.inum)
    }
}

impl InodeGuard<'_> {
    pub fn inum(&self) -> u32 {
        self.ip.inum
    }
    /// `T_DIR`, `T_FILE` or `T_DEVICE`.
    pub fn kind(&self) -> i16 {
        self.d.kind
    }
    pub fn nlink(&self) -> i16 {
        self.d.nlink
    }
    pub fn size(&self) -> u32 {
        self.d.size
    }
    pub fn major(&self) -> i16 {
        self.d.major
    }
    pub fn minor(&self) -> i16 {
        self.d.minor
    }

    /// What `fstat` reports (xv6 `stati`).
    pub fn stat(&self) -> Stat {
        Stat {
            dev: ROOTDEV,
            ino: self.ip.inum,
            kind: self.d.kind,
            nlink: self.d.nlink,
            _pad: 0,
            size: self.d.size as u64,
        }
    }

    pub(super) fn inode_ref(&self) -> &InodeRef {
        self.ip
    }

    fn fs(&self) -> &Fs {
        &self.ip.fs
    }

    pub(super) fn set_nlink(&mut self, n: i16) {
        self.d.nlink = n;
        self.ip.cell().linked.store(n > 0, Ordering::Release);
    }

    pub(super) fn set_device(&mut self, major: i16, minor: i16) {
        self.d.major = major;
        self.d.minor = minor;
    }

    /// Writes the in-memory fields to the disk inode (xv6 `iupdate`). Logs one block.
    pub(super) fn update(&self, tx: &Transaction<'_>) -> Result<(), Errno> {
        let fs = self.fs();
        let mut buf = fs.cache.bread(inode_block(self.ip.inum, &fs.sb))?;
        let off = (self.ip.inum as usize % IPB) * DINODE_SIZE;
        buf.modify(tx)[off..off + DINODE_SIZE].copy_from_slice(&self.d.to_bytes());
        Ok(())
    }

    fn inode_blk(&self) -> u32 {
        inode_block(self.ip.inum, &self.fs().sb)
    }

    /// Disk address of file block `bn`, 0 for a hole (xv6 `bmap` without allocation).
    fn bmap_read(&self, bn: usize) -> Result<u32, Errno> {
        let fs = self.fs();
        if bn < NDIRECT {
            let a = self.d.addrs[bn];
            return if a == 0 { Ok(0) } else { fs.data_block(a) };
        }
        let bn = bn - NDIRECT;
        if bn < NINDIRECT {
            let ind = self.d.addrs[NDIRECT];
            return if ind == 0 {
                Ok(0)
            } else {
                fs.indirect_entry(fs.data_block(ind)?, bn)
            };
        }
        let bn = bn - NINDIRECT;
        if bn < NDINDIRECT {
            let dind = self.d.addrs[NDIRECT + 1];
            if dind == 0 {
                return Ok(0);
            }
            let l2 = fs.indirect_entry(fs.data_block(dind)?, bn / NINDIRECT)?;
            return if l2 == 0 {
                Ok(0)
            } else {
                fs.indirect_entry(l2, bn % NINDIRECT)
            };
        }
        Err(Errno::EFBIG)
    }

    /// Disk address of file block `bn`, allocating it and the indirect
    /// blocks on its path if needed (xv6 `bmap`). Every missing block is
    /// allocated before any is linked, so running out of space links
    /// nothing and never leaves an empty indirect block past the end of the
    /// file. Logs at most `WORST_NEW_BLOCK - 1` blocks (the caller logs the inode).
    fn bmap_alloc(&mut self, tx: &Transaction<'_>, bn: usize) -> Result<u32, Errno> {
        let fs = self.ip.fs.clone();
        // The path: a slot of the inode, then an entry in each table below it.
        let (slot, entries, depth) = if bn < NDIRECT {
            (bn, [0, 0], 0)
        } else if bn - NDIRECT < NINDIRECT {
            (NDIRECT, [bn - NDIRECT, 0], 1)
        } else if bn - NDIRECT - NINDIRECT < NDINDIRECT {
            let k = bn - NDIRECT - NINDIRECT;
            (NDIRECT + 1, [k / NINDIRECT, k % NINDIRECT], 2)
        } else {
            return Err(Errno::EFBIG);
        };
        // blocks[0] is in the inode, blocks[l] is entry entries[l - 1] of blocks[l - 1].
        let mut blocks = [0u32; 3];
        blocks[0] = self.d.addrs[slot];
        if blocks[0] != 0 {
            fs.data_block(blocks[0])?;
        }
        for level in 1..=depth {
            if blocks[level - 1] == 0 {
                break;
            }
            blocks[level] = fs.indirect_entry(blocks[level - 1], entries[level - 1])?;
        }
        let Some(first_missing) = blocks[..=depth].iter().position(|&b| b == 0) else {
            return Ok(blocks[depth]);
        };
        for level in first_missing..=depth {
            match fs.balloc(tx) {
                Ok(b) => blocks[level] = b,
                Err(e) => {
                    for &b in &blocks[first_missing..level] {
                        fs.bfree(tx, b)?;
                    }
                    return Err(e);
                }
            }
        }
        if first_missing == 0 {
            self.d.addrs[slot] = blocks[0];
        }
        for level in first_missing.max(1)..=depth {
            let i = entries[level - 1];
            let mut buf = fs.cache.bread(blocks[level - 1])?;
            buf.modify(tx)[4 * i..4 * i + 4].copy_from_slice(&blocks[level].to_le_bytes());
        }
        Ok(blocks[depth])
    }

    /// Reads up to `dst.len()` bytes at `off` (xv6 `readi`); short at end of file.
    pub fn read(&self, off: u64, dst: &mut [u8]) -> Result<usize, Errno> {
        self.read_to(off, dst)
    }

    /// Reads up to `dst.len()` bytes at `off` into `dst`, each piece
    /// copied straight from its cached block (a hole reads as zeros);
    /// short at end of file, or at the first piece `dst` refuses once
    /// something was read.
    pub fn read_to<S: Sink + ?Sized>(&self, off: u64, dst: &mut S) -> Result<usize, Errno> {
        let size = self.d.size as u64;
        if off >= size {
            return Ok(0);
        }
        let n = dst.len().min((size - off) as usize);
        let mut done = 0;
        while done < n {
            let pos = off + done as u64;
            let boff = (pos % BSIZE as u64) as usize;
            let m = (n - done).min(BSIZE - boff);
            let step = (|| -> Result<(), Errno> {
                let addr = self.bmap_read((pos / BSIZE as u64) as usize)?;
                if addr == 0 {
                    dst.put(done, &HOLE[..m])
                } else {
                    let buf = self.fs().cache.bread(addr)?;
                    dst.put(done, &buf[boff..boff + m])
                }
            })();
            match step {
                Ok(()) => done += m,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(done)
    }

    /// Writes `src` at `off` inside `tx` (xv6 `writei`), allocating blocks and
    /// growing the size. Stops early, with a short count, when the operation's
    /// log budget is nearly used up (the caller continues in a new operation)
    /// or when the disk fills up. `EFBIG` if the write would end past the
    /// largest file; `ENOSPC` if not even one byte could be written.
    pub(super) fn write(
        &mut self,
        tx: &Transaction<'_>,
        off: u64,
        src: &[u8],
    ) -> Result<usize, Errno> {
        self.write_from(tx, off, src)
    }

    /// [`InodeGuard::write`] of the bytes of `src`, each piece copied
    /// straight into its cached block.
    pub(super) fn write_from<S: Source + ?Sized>(
        &mut self,
        tx: &Transaction<'_>,
        off: u64,
        src: &S,
    ) -> Result<usize, Errno> {
        let end = off.checked_add(src.len() as u64).ok_or(Errno::EFBIG)?;
        if end > (MAXFILE * BSIZE) as u64 {
            return Err(Errno::EFBIG);
        }
        let inode_blk = self.inode_blk();
        let mut done = 0;
        let mut error = None;
        while done < src.len() {
            let pos = off + done as u64;
            let bn = (pos / BSIZE as u64) as usize;
            let boff = (pos % BSIZE as u64) as usize;
            let m = (src.len() - done).min(BSIZE - boff);
            let step = (|| -> Result<bool, Errno> {
                let mut addr = self.bmap_read(bn)?;
                if addr == 0 {
                    if tx.logged() + WORST_NEW_BLOCK > MAXOPBLOCKS {
                        return Ok(false);
                    }
                    addr = self.bmap_alloc(tx, bn)?;
                } else if !tx.fits(&[addr, inode_blk], 0) {
                    return Ok(false);
                }
                let mut buf = self.fs().cache.bread(addr)?;
                src.take(done, &mut buf.modify(tx)[boff..boff + m])?;
                Ok(true)
            })();
            match step {
                Ok(true) => done += m,
                Ok(false) => break,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        let new_end = off + done as u64;
        if new_end > self.d.size as u64 {
            self.d.size = new_end as u32;
        }
        // Even a failed write may have allocated blocks: record the addresses.
        self.update(tx)?;
        match error {
            Some(e) if done == 0 => Err(e),
            _ => Ok(done),
        }
    }

    /// Frees file blocks from the end until none is left (true) or this
    /// operation's budget is used up (false); the size shrinks to the freed
    /// point and the inode is written either way, so every step leaves a
    /// consistent image and a shorter prefix of the file.
    pub(super) fn truncate_some(&mut self, tx: &Transaction<'_>) -> Result<bool, Errno> {
        let mut lowest = None;
        let result = self.free_from_end(tx, &mut lowest);
        match result {
            Ok(true) => self.d.size = 0,
            _ => {
                if let Some(bn) = lowest {
                    self.d.size = self.d.size.min((bn * BSIZE) as u32);
                }
            }
        }
        self.update(tx)?;
        result
    }

    fn free_from_end(
        &mut self,
        tx: &Transaction<'_>,
        lowest: &mut Option<usize>,
    ) -> Result<bool, Errno> {
        let fs = self.ip.fs.clone();
        let inode_blk = self.inode_blk();
        let trees = [(NDIRECT + 1, 2, NDIRECT + NINDIRECT), (NDIRECT, 1, NDIRECT)];
        for (slot, depth, base) in trees {
            let blk = self.d.addrs[slot];
            if blk == 0 {
                continue;
            }
            fs.data_block(blk)?;
            if !fs.free_tree(tx, blk, depth, base, inode_blk, lowest)? {
                return Ok(false);
            }
            if !tx.fits(&[bitmap_block(blk, &fs.sb), inode_blk], 0) {
                return Ok(false);
            }
            fs.bfree(tx, blk)?;
            self.d.addrs[slot] = 0;
        }
        for i in (0..NDIRECT).rev() {
            let a = self.d.addrs[i];
            if a == 0 {
                continue;
            }
            fs.data_block(a)?;
            if !tx.fits(&[bitmap_block(a, &fs.sb), inode_blk], 0) {
                return Ok(false);
            }
            fs.bfree(tx, a)?;
            self.d.addrs[i] = 0;
            *lowest = Some(i);
        }
        Ok(true)
    }
}

impl Drop for InodeGuard<'_> {
    fn drop(&mut self) {
        held::unlock_inode();
    }
}

fn read_u32(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
}

/// Host-test seam: code a test runs on the freeing thread between a last
/// reference's free and its count coming down, where a preempted CPU can
/// stall, to put another thread's work there.
#[cfg(test)]
pub(super) mod seam {
    use std::boxed::Box;
    use std::cell::RefCell;

    std::thread_local! {
        static AFTER_FREE: RefCell<Option<Box<dyn FnOnce()>>> = const { RefCell::new(None) };
    }

    /// Runs `f` once, after the next free on this thread.
    pub fn set_after_free(f: impl FnOnce() + 'static) {
        AFTER_FREE.with(|h| *h.borrow_mut() = Some(Box::new(f)));
    }

    pub(in crate::fs) fn after_free() {
        if let Some(f) = AFTER_FREE.with(|h| h.borrow_mut().take()) {
            f();
        }
    }
}

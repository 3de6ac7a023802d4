//! A container's file table (the assignment's `fTable`): the files its
//! processes opened, under the container's own lock (no global file lock)
//! and with no fixed size. Entries are weak: a file is closed by its last
//! descriptor going away, as always, and its entry then counts no more; dead
//! entries are swept when the table doubles or reaches its cap,
//! `CONTAINER_MAX_FILES` (beyond it `open` and `pipe` are `ENFILE`: one
//! container cannot fill the kernel's inode table for everyone). `ctr
//! stats` shows the count. The host's table has no cap.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use crate::file::File;
use crate::sync::SpinLock;

pub struct FileTable {
    files: SpinLock<Vec<Weak<File>>>,
    /// Most entries (0: no cap).
    cap: usize,
}

impl FileTable {
    /// A table of at most `cap` open files (0: no cap).
    pub const fn new(cap: usize) -> FileTable {
        FileTable {
            files: SpinLock::new("container files", Vec::new()),
            cap,
        }
    }

    /// Records a file a member opened: `ENFILE` at the cap, `ENOMEM` when
    /// the heap is full.
    pub fn register(&self, f: &Arc<File>) -> Result<(), berth_abi::errno::Errno> {
        let mut files = self.files.lock();
        if files.len() == files.capacity() || (self.cap > 0 && files.len() >= self.cap) {
            files.retain(|w| w.strong_count() > 0);
        }
        if self.cap > 0 && files.len() >= self.cap {
            return Err(berth_abi::errno::Errno::ENFILE);
        }
        files
            .try_reserve(1)
            .map_err(|_| berth_abi::errno::Errno::ENOMEM)?;
        files.push(Arc::downgrade(f));
        Ok(())
    }

    /// Files still open.
    pub fn count(&self) -> usize {
        self.files
            .lock()
            .iter()
            .filter(|w| w.strong_count() > 0)
            .count()
    }

    /// Forgets every entry (destroy, once no member is left to hold one).
    /// Returns how many were still open (held by processes outside).
    pub fn clear(&self) -> usize {
        let old = core::mem::take(&mut *self.files.lock());
        old.iter().filter(|w| w.strong_count() > 0).count()
    }
}

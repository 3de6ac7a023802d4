//! A container's file table (the assignment's `fTable`): how many files
//! its processes opened, with no fixed size and no lock. Opening a file
//! (`open`, `pipe`) takes a [`FileCharge`] from the opener's container,
//! and the [`File`](crate::file::File) carries it: the file is closed by
//! its last descriptor going away, as always, and dropping it gives the
//! place back. The cap, `CONTAINER_MAX_FILES`, makes `open` and `pipe`
//! `ENFILE` beyond it (one container cannot fill the kernel's inode table
//! for everyone); the host's table has no cap. `ctr stats` shows the count.
//!
//! Why a count and not a list: the table used to hold a weak reference to
//! each file, swept when it doubled. A weak reference keeps the file's
//! allocation alive after its close, so the host's table (no cap, hence
//! few sweeps) held on to about 100 KiB after a stress run's 400 pipe ends
//! were closed, and nothing read the list but to count it.
//!
//! A charge holds the count itself (an `Arc`), not the container: a file
//! kept open by a process that left the container (or outlived it as a
//! zombie) neither keeps the container alive nor charges a new container
//! that reuses the id.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};

use berth_abi::errno::Errno;

/// The open files of one container.
pub struct FileTable {
    open: Arc<OpenCount>,
}

struct OpenCount {
    n: AtomicUsize,
    /// Most open files (0: no cap).
    cap: usize,
}

/// One open file's place in its container's table, given back on drop.
pub struct FileCharge(Arc<OpenCount>);

impl FileTable {
    /// A table of at most `cap` open files (0: no cap).
    pub fn new(cap: usize) -> FileTable {
        FileTable {
            open: Arc::new(OpenCount {
                n: AtomicUsize::new(0),
                cap,
            }),
        }
    }

    /// A place for one more open file: `ENFILE` at the cap.
    pub fn charge(&self) -> Result<FileCharge, Errno> {
        let c = &self.open;
        // Relaxed: the count orders nothing else; the compare-exchange
        // alone keeps it from passing the cap.
        c.n.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            (c.cap == 0 || n < c.cap).then_some(n + 1)
        })
        .map_err(|_| Errno::ENFILE)?;
        Ok(FileCharge(c.clone()))
    }

    /// Files open now.
    pub fn count(&self) -> usize {
        self.open.n.load(Ordering::Relaxed)
    }
}

impl Drop for FileCharge {
    fn drop(&mut self) {
        self.0.n.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_holds_and_closing_gives_places_back() {
        let t = FileTable::new(2);
        let a = t.charge().unwrap();
        let b = t.charge().unwrap();
        assert_eq!(t.charge().err(), Some(Errno::ENFILE));
        assert_eq!(t.count(), 2);
        drop(a);
        assert_eq!(t.count(), 1);
        let c = t.charge().unwrap();
        drop((b, c));
        assert_eq!(t.count(), 0);
    }

    #[test]
    fn no_cap_counts_and_charges_outlive_the_table() {
        let t = FileTable::new(0);
        let many: alloc::vec::Vec<_> = (0..1000).map(|_| t.charge().unwrap()).collect();
        assert_eq!(t.count(), 1000);
        drop(t);
        drop(many);
    }

    #[test]
    fn racing_opens_never_pass_the_cap() {
        let t = Arc::new(FileTable::new(50));
        let hs: alloc::vec::Vec<_> = (0..4)
            .map(|_| {
                let t = t.clone();
                std::thread::spawn(move || {
                    let mut held = alloc::vec::Vec::new();
                    for i in 0..10_000 {
                        if let Ok(c) = t.charge() {
                            held.push(c);
                        }
                        assert!(t.count() <= 50);
                        if i % 3 == 0 {
                            held.pop();
                        }
                    }
                    held
                })
            })
            .collect();
        let held: alloc::vec::Vec<_> = hs.into_iter().flat_map(|h| h.join().unwrap()).collect();
        assert_eq!(t.count(), held.len());
        drop(held);
        assert_eq!(t.count(), 0);
    }
}

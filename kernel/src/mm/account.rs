//! Memory accounts: the frames charged to a container and its page limit
//! (cgroup v2 `memory.max`, in pages).
//!
//! Everything a process causes to be allocated is charged to its
//! container's account: user pages and page tables (`uvm.rs`), its kernel
//! stack, pipe buffers. A charge that would pass the limit is refused
//! (`ENOMEM`) before the frame is taken; page-table frames, which the page
//! table allocates while mapping, are charged after the fact and may pass
//! the limit by the few tables one mapping needs. Every charge is undone
//! when its frame is freed (or the process that holds it exits), so an
//! account is back to zero once its processes and pipes are gone.
//!
//! Atomics only: a charge is a compare-exchange loop on `pages`, so two
//! CPUs charging at once cannot both pass the limit.

use core::sync::atomic::{AtomicU64, Ordering};

use berth_abi::errno::Errno;

/// One container's account.
pub struct MemAccount {
    /// The container it belongs to (0: the host).
    pub cid: i32,
    pages: AtomicU64,
    /// 0: no limit.
    limit: AtomicU64,
}

impl MemAccount {
    pub const fn new(cid: i32, limit: u64) -> MemAccount {
        MemAccount {
            cid,
            pages: AtomicU64::new(0),
            limit: AtomicU64::new(limit),
        }
    }

    /// Charges `n` frames, or `ENOMEM` if that would pass the limit.
    pub fn try_charge(&self, n: u64) -> Result<(), Errno> {
        self.try_charge_leaving(n, 0)
    }

    /// [`MemAccount::try_charge`] that also leaves `room` pages under the
    /// limit (a heap's promise leaves its process room for its stack and
    /// page tables, which come out of the same limit).
    pub fn try_charge_leaving(&self, n: u64, room: u64) -> Result<(), Errno> {
        let limit = self.limit.load(Ordering::Relaxed);
        self.pages
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |p| {
                let new = p.checked_add(n)?;
                (limit == 0 || new.checked_add(room)? <= limit).then_some(new)
            })
            .map(drop)
            .map_err(|_| Errno::ENOMEM)
    }

    /// Charges `n` frames already taken (page tables), limit or not.
    pub fn charge(&self, n: u64) {
        self.pages.fetch_add(n, Ordering::AcqRel);
    }

    /// Gives back `n` frames charged before.
    pub fn uncharge(&self, n: u64) {
        let old = self.pages.fetch_sub(n, Ordering::AcqRel);
        debug_assert!(old >= n, "memory account {} uncharged below zero", self.cid);
    }

    /// Frames charged now.
    pub fn pages(&self) -> u64 {
        self.pages.load(Ordering::Acquire)
    }

    pub fn limit(&self) -> u64 {
        self.limit.load(Ordering::Relaxed)
    }

    pub fn set_limit(&self, limit: u64) {
        self.limit.store(limit, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_enforced_and_charges_return() {
        let a = MemAccount::new(3, 10);
        a.try_charge(6).unwrap();
        assert_eq!(a.try_charge(5), Err(Errno::ENOMEM));
        a.try_charge(4).unwrap();
        assert_eq!(a.pages(), 10);
        a.charge(2); // page tables may pass it
        assert_eq!(a.try_charge(1), Err(Errno::ENOMEM));
        a.uncharge(12);
        assert_eq!(a.pages(), 0);
        let unlimited = MemAccount::new(0, 0);
        unlimited.try_charge(1 << 40).unwrap();
        assert_eq!(unlimited.try_charge(u64::MAX), Err(Errno::ENOMEM));
    }

    #[test]
    fn concurrent_charges_never_pass_the_limit() {
        let a = std::sync::Arc::new(MemAccount::new(1, 1000));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let a = a.clone();
                std::thread::spawn(move || (0..500).filter(|_| a.try_charge(1).is_ok()).count())
            })
            .collect();
        let ok: usize = hs.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(ok, 1000);
        assert_eq!(a.pages(), 1000);
    }
}

//! User address spaces: the pages a process owns and checked access to them.
//!
//! Layout (see `berth_abi::limits`): the program's segments from
//! `USER_TEXT_BASE` up, then the heap from `brk_start` to `brk` (grown and
//! shrunk by `sbrk`), and far above, the stack region below
//! `USER_STACK_TOP`. Heap and stack pages are zeroed frames mapped when
//! first touched (by the process, or by the kernel copying into it). A
//! heap page is promised when `sbrk` grows the break: charged to the
//! container then and counted against free memory (`mm::commit`), so
//! `sbrk` still says `ENOMEM` when the memory is not there (xv6's
//! contract), and growing the break costs no page of work. All user pages
//! are 4 KiB.
//!
//! `fork` copies no page: the child maps the parent's frames (counted in
//! `mm::refs`), and every writable page becomes read-only with the
//! software bit `PTE_COW` in both. The first write to one, by the process
//! (a page fault) or by the kernel copying into it (`copy_out`), breaks
//! the sharing: the writer gets its own copy, or, if every other mapper
//! has gone by then, simply gets the frame back writable. So no frame is
//! ever writable in two address spaces. Only the faulting space's own
//! TLB entry changes (the parent's at fork, reloaded by `remap`): a
//! process runs on one CPU at a time, and a CPU that kept its table
//! loaded reloads CR3 before resuming it after it ran elsewhere (see arch
//! `tlb.rs`), so no CPU uses a stale translation.
//!
//! Every frame an address space holds (pages and tables) is charged to its
//! owner's container ([`MemAccount`]): a page is charged before it is
//! taken (`ENOMEM` at the container's limit), tables as they appear; all is
//! uncharged when freed. A page shared after fork is charged to each space
//! that maps it (what it would cost once copied), so a fork is refused at
//! a container's limit exactly as a copying fork was, and a later write
//! never needs a charge it might not get. Page tables are charged before
//! they are made, within the limit too.
//!
//! Promises (`mm::commit`): a heap page below the break, and the copy a
//! copy-on-write page may need (one per extra mapper of a frame, taken at
//! fork), are counted against free frames, and every other frame
//! allocation leaves the promised ones alone. So a touch of promised
//! memory, or a write to a page shared by fork, always finds its frame:
//! memory runs out as `ENOMEM` from `sbrk`, `fork` or the call that needed
//! a frame, never as a kill of a process that did what it was promised
//! (a stack page, which nothing promises, is the exception). While the memory log is on, each page installed
//! for a container process prints `GVA -> HVA` (the direct-map address of
//! the frame now backing the user address).
//!
//! Kernel access to user memory never dereferences a user address: system
//! calls hold typed addresses (`mm::user`: `UserPtr<T>`, `UserSlice`) that
//! only the copies here can use. Every copy translates page by page through
//! the process's page table and goes through the direct map, so a bad
//! pointer is an `EFAULT`, never a kernel fault. A range is checked in full
//! before anything is copied, a copy never runs past the range the caller
//! gave, and structures cross whole (`berth_abi::pod`): one copy each.

use alloc::sync::Arc;
use alloc::vec::Vec;

use berth_abi::errno::Errno;
use berth_abi::limits::{MAX_USER_MEMORY, USER_STACK_BYTES, USER_STACK_TOP};
use berth_abi::pod::{bytes_of, bytes_of_mut, slice_bytes, Pod};

use super::account::MemAccount;
use super::user::{UserPtr, UserSlice};
use crate::arch::x86_64::paging::{
    nx_bit, phys_to_virt, PageTable, PTE_COW, PTE_WRITABLE, USER_END,
};

const PAGE: u64 = 4096;
const _: () = assert!(super::user::USER_END == USER_END);
/// Pages a heap's promise leaves under its container's limit, for the
/// stack and page tables its process still needs once `sbrk` said ENOMEM.
const STACK_ROOM: u64 = 16;
/// Lowest stack address a process may touch.
pub const STACK_BOTTOM: u64 = USER_STACK_TOP - USER_STACK_BYTES;

/// Protection of a user mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prot {
    pub write: bool,
    pub exec: bool,
}

/// What a user page fault came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Mapped now: the process retries the access.
    Resolved,
    /// A real fault (no mapping, or no right to the access).
    Refused,
    /// A legal access that needed a frame the container's limit or the
    /// machine could not give: what it asked for.
    OutOfMemory(&'static str),
}

/// A process's memory.
pub struct AddressSpace {
    table: Option<PageTable>,
    /// Pages of the program image and heap (not the stack), for accounting.
    image_pages: u64,
    /// Start of the heap: the page after the highest loaded segment.
    pub brk_start: u64,
    /// Current program break.
    pub brk: u64,
    /// Stack pages currently mapped.
    stack_pages: u64,
    /// Heap pages below the break not yet touched: charged and committed,
    /// not mapped.
    heap_pending: u64,
    /// Where its frames are charged.
    account: Arc<MemAccount>,
    /// Its process's pid in its container's numbering (for the memory log).
    log_pid: i32,
    /// Table frames charged so far.
    charged_tables: u64,
}

fn pte_flags(p: Prot) -> u64 {
    let mut f = 0;
    if p.write {
        f |= PTE_WRITABLE;
    }
    if !p.exec {
        f |= nx_bit();
    }
    f
}

impl AddressSpace {
    /// An empty address space (kernel half only) charged to `account`,
    /// for the process numbered `log_pid` in its container.
    pub fn new(account: Arc<MemAccount>, log_pid: i32) -> Result<AddressSpace, Errno> {
        account.try_charge(1)?;
        let Some(table) = PageTable::new() else {
            account.uncharge(1);
            return Err(Errno::ENOMEM);
        };
        Ok(AddressSpace {
            table: Some(table),
            image_pages: 0,
            brk_start: 0,
            brk: 0,
            stack_pages: 0,
            heap_pending: 0,
            account,
            log_pid,
            charged_tables: 1,
        })
    }

    /// Frames held (pages and tables): what its account is charged for it.
    pub fn frames(&self) -> u64 {
        self.image_pages + self.heap_pending + self.stack_pages + self.charged_tables
    }

    /// Moves every charge to `account` (a process joining or leaving a
    /// container); `ENOMEM`, with nothing moved, if that passes its limit.
    pub fn move_to(&mut self, account: Arc<MemAccount>, log_pid: i32) -> Result<(), Errno> {
        let n = self.frames();
        account.try_charge(n)?;
        self.account.uncharge(n);
        self.account = account;
        self.log_pid = log_pid;
        Ok(())
    }

    /// A charged frame, not zeroed; `ENOMEM` at the limit or when memory is out.
    fn charged_frame(&self) -> Result<u64, Errno> {
        self.account.try_charge(1)?;
        crate::mm::alloc_frame().ok_or_else(|| {
            self.account.uncharge(1);
            Errno::ENOMEM
        })
    }

    /// A charged, zeroed frame.
    fn zeroed_frame(&self) -> Result<u64, Errno> {
        let f = self.charged_frame()?;
        // SAFETY: a fresh frame from the allocator, reached through the direct map.
        unsafe { core::ptr::write_bytes(phys_to_virt(f) as *mut u8, 0, PAGE as usize) };
        Ok(f)
    }

    /// Drops a charged page mapped with `flags`: frees its frame unless
    /// another address space still maps it.
    fn free_charged(&self, f: u64, flags: u64) {
        crate::mm::release_user_frame(f, flags);
        self.account.uncharge(1);
    }

    fn table(&self) -> &PageTable {
        self.table
            .as_ref()
            .expect("address space used after teardown")
    }

    fn table_mut(&mut self) -> &mut PageTable {
        self.table
            .as_mut()
            .expect("address space used after teardown")
    }

    /// CR3 value.
    pub fn root(&self) -> u64 {
        self.table().root()
    }

    /// Makes this address space current on this CPU.
    pub fn activate(&self) {
        self.table().activate();
    }

    /// Bytes of user memory in use (image + heap + stack).
    pub fn size_bytes(&self) -> u64 {
        (self.image_pages + self.heap_pending + self.stack_pages) * PAGE
    }

    /// Maps frame `f` (ours) at the unmapped user page `va` and counts it;
    /// on failure frees `f`.
    fn install(&mut self, va: u64, f: u64, flags: u64) -> Result<(), Errno> {
        self.map_page(va, f, flags)
            .inspect_err(|_| self.free_charged(f, flags))
    }

    /// Maps frame `f` at the unmapped user page `va` and counts it (its
    /// charge is the caller's); on failure nothing is mapped or counted.
    fn map_page(&mut self, va: u64, f: u64, flags: u64) -> Result<(), Errno> {
        // The tables it makes are charged first, within the limit.
        let need = self.table().tables_needed(va);
        self.account.try_charge(need)?;
        let mapped = self.table_mut().map(va, f, flags);
        let now = self.table().table_frames();
        let made = now - self.charged_tables;
        self.charged_tables = now;
        self.account.uncharge(need.saturating_sub(made));
        if mapped.is_err() {
            return Err(Errno::ENOMEM);
        }
        if self.account.cid != 0 && crate::container::log::memory_log_on() {
            crate::container::log::memory(self.log_pid, self.account.cid, va, phys_to_virt(f));
        }
        if va >= STACK_BOTTOM {
            self.stack_pages += 1;
        } else {
            self.image_pages += 1;
        }
        Ok(())
    }

    /// Maps zeroed pages over `[start, end)` (page-rounded) with `prot`.
    /// Pages already mapped are left alone (segments may share a page).
    pub fn map_zeroed(&mut self, start: u64, end: u64, prot: Prot) -> Result<(), Errno> {
        let mut va = start & !(PAGE - 1);
        while va < end {
            if self.table().translate(va).is_none() {
                let f = self.zeroed_frame()?;
                self.install(va, f, pte_flags(prot))?;
            } else if prot.write || prot.exec {
                // A page shared by two segments gets the union of their rights.
                self.widen(va, prot);
            }
            va += PAGE;
        }
        Ok(())
    }

    fn widen(&mut self, va: u64, prot: Prot) {
        if let Some((pa, _)) = self.table().translate(va) {
            let old = self.table().translate(va).map_or(0, |(_, f)| f);
            let mut flags = old & (PTE_WRITABLE | nx_bit());
            if prot.write {
                flags |= PTE_WRITABLE;
            }
            if prot.exec {
                flags &= !nx_bit();
            }
            self.table_mut().unmap(va);
            let _ = self.table_mut().map(va, pa, flags);
        }
    }

    fn unmap_range(&mut self, start: u64, end: u64) {
        let mut va = start;
        while va < end {
            if let Some((pa, flags)) = self.table_mut().unmap(va) {
                self.free_charged(pa, flags);
                if va >= STACK_BOTTOM {
                    self.stack_pages -= 1;
                } else {
                    self.image_pages -= 1;
                }
            }
            va += PAGE;
        }
    }

    /// Grows or shrinks the heap by `delta` bytes; returns the old break.
    /// New pages are promised, not mapped (see the header).
    pub fn sbrk(&mut self, delta: i64) -> Result<u64, Errno> {
        let old = self.brk;
        if delta >= 0 {
            let new = old.checked_add(delta as u64).ok_or(Errno::ENOMEM)?;
            if new > MAX_USER_MEMORY || new > STACK_BOTTOM {
                return Err(Errno::ENOMEM);
            }
            let pages = (new.next_multiple_of(PAGE) - old.next_multiple_of(PAGE)) / PAGE;
            self.promise(pages)?;
            self.brk = new;
        } else {
            let new = old.checked_sub(delta.unsigned_abs()).ok_or(Errno::EINVAL)?;
            if new < self.brk_start {
                return Err(Errno::EINVAL);
            }
            let (from, to) = (new.next_multiple_of(PAGE), old.next_multiple_of(PAGE));
            let mapped_before = self.image_pages;
            self.unmap_range(from, to);
            let untouched = (to - from) / PAGE - (mapped_before - self.image_pages);
            self.unpromise(untouched);
            self.brk = new;
        }
        Ok(old)
    }

    /// Charges and commits `pages` untouched heap pages, leaving
    /// [`STACK_ROOM`] under the container's limit.
    fn promise(&mut self, pages: u64) -> Result<(), Errno> {
        self.account.try_charge_leaving(pages, STACK_ROOM)?;
        if let Err(e) = crate::mm::commit(pages) {
            self.account.uncharge(pages);
            return Err(e);
        }
        self.heap_pending += pages;
        Ok(())
    }

    /// Gives back `pages` promised heap pages that were never touched.
    fn unpromise(&mut self, pages: u64) {
        self.heap_pending -= pages;
        crate::mm::uncommit(pages);
        self.account.uncharge(pages);
    }

    /// Whether `va` is a heap page below the break not mapped yet.
    fn in_heap(&self, va: u64) -> bool {
        (self.brk_start..self.brk.next_multiple_of(PAGE)).contains(&va)
    }

    /// Maps the promised heap page at `va` (unmapped, in the heap): its
    /// charge and commitment become a zeroed frame.
    fn fault_in_heap(&mut self, va: u64) -> Result<(), Errno> {
        let va = va & !(PAGE - 1);
        let f = crate::mm::alloc_promised_frame().ok_or(Errno::ENOMEM)?;
        // SAFETY: a fresh frame from the allocator, reached through the direct map.
        unsafe { core::ptr::write_bytes(phys_to_virt(f) as *mut u8, 0, PAGE as usize) };
        let flags = pte_flags(Prot {
            write: true,
            exec: false,
        });
        if let Err(e) = self.map_page(va, f, flags) {
            // No table for it: the page stays promised, the frame goes back.
            crate::mm::free_frame(f);
            return Err(e);
        }
        // Its charge was the promise's; `map_page` counted it as an image page.
        self.heap_pending -= 1;
        crate::mm::uncommit(1);
        Ok(())
    }

    /// Handles a user page fault at `addr` (`write`: a write access): a
    /// write to a copy-on-write page gets the page its own frame; a touch
    /// of the stack region maps a page.
    pub fn resolve_fault(&mut self, addr: u64, write: bool) -> Fault {
        match self.table().translate(addr) {
            Some((_, flags)) if write && flags & PTE_COW != 0 => {
                match self.break_cow(addr & !(PAGE - 1)) {
                    Ok(()) => Fault::Resolved,
                    Err(_) => Fault::OutOfMemory("a copy-on-write copy of a page"),
                }
            }
            Some(_) => Fault::Refused,
            None if self.in_heap(addr) => match self.fault_in_heap(addr) {
                Ok(()) => Fault::Resolved,
                Err(_) => Fault::OutOfMemory("a heap page"),
            },
            None if (STACK_BOTTOM..USER_STACK_TOP).contains(&addr) => {
                if self.fault_in_stack(addr) {
                    Fault::Resolved
                } else {
                    Fault::OutOfMemory("a stack page")
                }
            }
            None => Fault::Refused,
        }
    }

    /// Makes the copy-on-write page at `va` writable in this space: a copy
    /// of its own, or the frame itself when no other space maps it now.
    fn break_cow(&mut self, va: u64) -> Result<(), Errno> {
        let (pa, flags) = self.table().translate(va).ok_or(Errno::EFAULT)?;
        let writable = (flags & nx_bit()) | PTE_WRITABLE;
        if !crate::mm::refs().shared(pa) {
            self.table_mut().remap(va, pa, writable);
            return Ok(());
        }
        // The copy's charge comes with the page's own, its frame with the
        // promise made at fork (see the header): take a frame first, then
        // give the shared one (and the promise) back.
        let f = crate::mm::alloc_promised_frame().ok_or(Errno::ENOMEM)?;
        // SAFETY: both frames are in the direct map; `f` is fresh and ours,
        // `pa` stays mapped (read-only) here until the remap below.
        unsafe {
            core::ptr::copy_nonoverlapping(
                phys_to_virt(pa) as *const u8,
                phys_to_virt(f) as *mut u8,
                PAGE as usize,
            )
        };
        self.table_mut().remap(va, f, writable);
        crate::mm::release_user_frame(pa, flags);
        if self.account.cid != 0 && crate::container::log::memory_log_on() {
            crate::container::log::memory(self.log_pid, self.account.cid, va, phys_to_virt(f));
        }
        Ok(())
    }

    /// Maps a stack page if `addr` lies unmapped in the stack region.
    pub fn fault_in_stack(&mut self, addr: u64) -> bool {
        (STACK_BOTTOM..USER_STACK_TOP).contains(&addr)
            && self.table().translate(addr).is_none()
            && self
                .map_zeroed(
                    addr,
                    addr + 1,
                    Prot {
                        write: true,
                        exec: false,
                    },
                )
                .is_ok()
    }

    /// The child's address space for fork, charged to the same account,
    /// for the child numbered `log_pid`: every page shared, the writable
    /// ones copy-on-write in both (see the header).
    pub fn duplicate(&mut self, log_pid: i32) -> Result<AddressSpace, Errno> {
        let mut child = AddressSpace::new(self.account.clone(), log_pid)?;
        child.brk_start = self.brk_start;
        child.brk = self.brk;
        child.promise(self.heap_pending)?;
        let mut pages = Vec::new();
        self.table().try_for_each_page(|va, pa, flags| {
            pages
                .try_reserve(1)
                .map_err(|_| Errno::ENOMEM)
                .map(|()| pages.push((va, pa, flags)))
        })?;
        for (va, pa, flags) in pages {
            let mut keep = flags & (PTE_WRITABLE | PTE_COW | nx_bit());
            let cow = keep & (PTE_WRITABLE | PTE_COW) != 0;
            // A page one of the two may write needs a copy one day: its
            // frame is promised now (fork says ENOMEM if it is not there).
            if cow {
                crate::mm::commit(1)?;
            }
            if let Err(e) = child.account.try_charge(1) {
                if cow {
                    crate::mm::uncommit(1);
                }
                return Err(e);
            }
            if keep & PTE_WRITABLE != 0 {
                keep = (keep & !PTE_WRITABLE) | PTE_COW;
                self.table_mut().remap(va, pa, keep);
            }
            crate::mm::refs().share(pa);
            // On failure `install` drops the share, the promise and the
            // charge again.
            child.install(va, pa, keep)?;
        }
        Ok(child)
    }

    /// Checks that `[addr, addr+len)` is user memory mapped with the needed
    /// rights (stack pages are faulted in), page by page, before any copy.
    fn check_range(&mut self, addr: u64, len: u64, write: bool) -> Result<(), Errno> {
        if len == 0 {
            return Ok(());
        }
        let end = addr.checked_add(len).ok_or(Errno::EFAULT)?;
        if addr == 0 || end > USER_END {
            return Err(Errno::EFAULT);
        }
        let mut va = addr & !(PAGE - 1);
        while va < end {
            match self.table().translate(va) {
                Some((_, flags)) if !write || flags & PTE_WRITABLE != 0 => {}
                Some((_, flags)) if flags & PTE_COW != 0 => self.break_cow(va)?,
                Some(_) => return Err(Errno::EFAULT),
                None if self.in_heap(va) => self.fault_in_heap(va)?,
                None if self.fault_in_stack(va) => {}
                None => return Err(Errno::EFAULT),
            }
            va += PAGE;
        }
        Ok(())
    }

    /// Copies `len` bytes between user `addr` and a kernel buffer, after
    /// checking the whole range. `f(kernel_chunk, user_chunk_ptr)`.
    fn for_each_chunk(
        &mut self,
        addr: u64,
        len: usize,
        write: bool,
        mut f: impl FnMut(usize, *mut u8, usize),
    ) -> Result<(), Errno> {
        // Fast path: a range inside one page already mapped with the
        // needed rights (a file read's or write's piece, a structure) is
        // checked and translated by one walk. Anything else (several
        // pages, a page to fault in or to unshare) is checked in full first.
        let end = addr.checked_add(len as u64).ok_or(Errno::EFAULT)?;
        if len > 0 && addr != 0 && end <= USER_END && addr / PAGE == (end - 1) / PAGE {
            if let Some((pa, flags)) = self.table().translate(addr) {
                if !write || flags & PTE_WRITABLE != 0 {
                    f(0, (phys_to_virt(pa) + addr % PAGE) as *mut u8, len);
                    return Ok(());
                }
            }
        }
        self.check_range(addr, len as u64, write)?;
        let mut done = 0usize;
        while done < len {
            let va = addr + done as u64;
            let (pa, _) = self.table().translate(va).ok_or(Errno::EFAULT)?;
            let off = (va % PAGE) as usize;
            let n = (PAGE as usize - off).min(len - done);
            f(done, (phys_to_virt(pa) + off as u64) as *mut u8, n);
            done += n;
        }
        Ok(())
    }

    /// Copies `src` into user memory at the start of `dst`; `EFAULT` if
    /// `dst` is shorter (the caller gave less room than the kernel means
    /// to fill) or not writable user memory.
    pub fn copy_out(&mut self, dst: UserSlice, src: &[u8]) -> Result<(), Errno> {
        if src.len() as u64 > dst.len() {
            return Err(Errno::EFAULT);
        }
        self.for_each_chunk(dst.addr(), src.len(), true, |done, user, n| {
            // SAFETY: `user` points at n bytes of a frame this process owns
            // (checked writable above), reached through the direct map.
            unsafe { core::ptr::copy_nonoverlapping(src[done..].as_ptr(), user, n) };
        })
    }

    /// Writes `src` at the start of `dst` regardless of the page's write
    /// permission (the loader filling read-only segments); the range must
    /// be mapped.
    pub fn fill(&mut self, dst: UserSlice, src: &[u8]) -> Result<(), Errno> {
        if src.len() as u64 > dst.len() {
            return Err(Errno::EFAULT);
        }
        self.for_each_chunk(dst.addr(), src.len(), false, |done, user, n| {
            // SAFETY: `user` points at n bytes of a frame this process owns, via the direct map.
            unsafe { core::ptr::copy_nonoverlapping(src[done..].as_ptr(), user, n) };
        })
    }

    /// Fills `dst` from the start of user range `src`; `EFAULT` if `src`
    /// is shorter or not readable user memory.
    pub fn copy_in(&mut self, src: UserSlice, dst: &mut [u8]) -> Result<(), Errno> {
        let len = dst.len();
        if len as u64 > src.len() {
            return Err(Errno::EFAULT);
        }
        self.for_each_chunk(src.addr(), len, false, |done, user, n| {
            // SAFETY: `user` points at n mapped bytes of this process's memory.
            unsafe {
                core::ptr::copy_nonoverlapping(user as *const u8, dst[done..].as_mut_ptr(), n)
            };
        })
    }

    /// Copies the value `v` out whole to `dst` (one copy of its bytes).
    pub fn write<T: Pod>(&mut self, dst: UserPtr<T>, v: &T) -> Result<(), Errno> {
        self.copy_out(dst.array(1)?, bytes_of(v))
    }

    /// Copies `vs` out to consecutive `T`s from `dst`, in one copy.
    pub fn write_all<T: Pod>(&mut self, dst: UserPtr<T>, vs: &[T]) -> Result<(), Errno> {
        self.copy_out(dst.array(vs.len())?, slice_bytes(vs))
    }

    /// Copies a whole `T` in from `src` (any bytes make one).
    pub fn read<T: Pod + Default>(&mut self, src: UserPtr<T>) -> Result<T, Errno> {
        let mut v = T::default();
        self.copy_in(src.array(1)?, bytes_of_mut(&mut v))?;
        Ok(v)
    }

    /// Reads the user pointer stored at `src` (an element of `argv`).
    pub fn read_ptr<T>(&mut self, src: UserPtr<UserPtr<T>>) -> Result<UserPtr<T>, Errno> {
        let addr: u64 = self.read(UserPtr::new(src.addr()))?;
        Ok(UserPtr::new(addr))
    }

    /// Checks a range is writable user memory without copying (for calls
    /// that fill it later), faulting in what is not there yet.
    pub fn check_writable(&mut self, range: UserSlice) -> Result<(), Errno> {
        self.check_range(range.addr(), range.len(), true)
    }

    /// Checks a range is readable user memory.
    pub fn check_readable(&mut self, range: UserSlice) -> Result<(), Errno> {
        self.check_range(range.addr(), range.len(), false)
    }

    /// Reads a NUL-terminated string of at most `max` bytes (terminator excluded).
    pub fn read_cstr(&mut self, src: UserPtr<u8>, max: usize) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        let mut va = src.addr();
        loop {
            if va == 0 || va >= USER_END {
                return Err(Errno::EFAULT);
            }
            let (pa, _) = match self.table().translate(va) {
                Some(t) => t,
                None if self.in_heap(va) => {
                    self.fault_in_heap(va)?;
                    self.table().translate(va).ok_or(Errno::EFAULT)?
                }
                None if self.fault_in_stack(va) => {
                    self.table().translate(va).ok_or(Errno::EFAULT)?
                }
                None => return Err(Errno::EFAULT),
            };
            let off = va % PAGE;
            let avail = (PAGE - off) as usize;
            // SAFETY: the page is mapped for this process; we read `avail`
            // bytes of it through the direct map.
            let bytes = unsafe {
                core::slice::from_raw_parts((phys_to_virt(pa) + off) as *const u8, avail)
            };
            let take = bytes.iter().position(|&b| b == 0).unwrap_or(avail);
            if out.len() + take > max {
                return Err(Errno::ENAMETOOLONG);
            }
            // Up to `max` bytes (64 KiB for an exec argument) a caller
            // chooses: a full heap is the caller's ENOMEM, not a panic.
            out.try_reserve(take).map_err(|_| Errno::ENOMEM)?;
            out.extend_from_slice(&bytes[..take]);
            if take < avail {
                return Ok(out);
            }
            va += avail as u64;
        }
    }
}

impl Drop for AddressSpace {
    /// Frees every page (unless another space still maps it) and table in
    /// one walk of what is mapped. The owner has already switched away
    /// from these tables (exec and exit activate the new or the kernel
    /// table first), so no TLB flush is needed.
    fn drop(&mut self) {
        if let Some(t) = self.table.take() {
            crate::mm::uncommit(self.heap_pending);
            t.destroy(crate::mm::release_user_frame);
            self.account.uncharge(self.frames());
        }
    }
}

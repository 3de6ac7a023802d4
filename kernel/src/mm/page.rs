//! [`Page`]: one owned frame used as a kernel buffer, reached through the
//! direct map and freed on drop.
//!
//! Buffers whose number users control (a pipe's ring, one per pipe, up to
//! NPROC x NOFILE / 2 of them) come from the frame allocator rather than
//! the kernel heap: running out of frames is an `ENOMEM` for the caller,
//! while running the fixed-size heap dry would stop the kernel.

use berth_abi::errno::Errno;

use super::frame::FRAME_SIZE;
use crate::arch::x86_64::paging::phys_to_virt;

/// A zeroed 4 KiB frame owned by its holder.
pub struct Page {
    phys: u64,
}

impl Page {
    /// A fresh zeroed page; `ENOMEM` when no frame is free.
    pub fn new() -> Result<Page, Errno> {
        let phys = super::alloc_frame().ok_or(Errno::ENOMEM)?;
        let mut page = Page { phys };
        page.bytes_mut().fill(0);
        Ok(page)
    }

    /// The page's bytes.
    pub fn bytes(&self) -> &[u8; FRAME_SIZE as usize] {
        // SAFETY: the frame is ours alone until drop, mapped by the direct
        // map, 4 KiB long and page-aligned.
        unsafe { &*(phys_to_virt(self.phys) as *const [u8; FRAME_SIZE as usize]) }
    }

    /// The page's bytes, writable.
    pub fn bytes_mut(&mut self) -> &mut [u8; FRAME_SIZE as usize] {
        // SAFETY: as in `bytes`; `&mut self` makes this the only reference.
        unsafe { &mut *(phys_to_virt(self.phys) as *mut [u8; FRAME_SIZE as usize]) }
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        super::free_frame(self.phys);
    }
}

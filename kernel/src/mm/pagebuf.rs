//! [`PageBuf`]: a byte buffer of any size kept in frames, charged to a
//! memory account: for kernel buffers whose size a user controls (a merged
//! directory listing a container's open directory serves), so that their
//! cost is the container's pages (its limit, its `ENOMEM`) and never the
//! fixed-size kernel heap.

use alloc::sync::Arc;
use alloc::vec::Vec;

use berth_abi::errno::Errno;

use super::account::MemAccount;
use super::frame::FRAME_SIZE;
use super::page::Page;
use crate::fs::io::Sink;

const PAGE: usize = FRAME_SIZE as usize;

pub struct PageBuf {
    pages: Vec<Page>,
    len: usize,
    account: Arc<MemAccount>,
}

impl PageBuf {
    /// An empty buffer charged to `account` as it grows.
    pub fn new(account: Arc<MemAccount>) -> PageBuf {
        PageBuf {
            pages: Vec::new(),
            len: 0,
            account,
        }
    }

    /// Appends `data`; `ENOMEM` at the account's limit or without frames.
    pub fn extend(&mut self, mut data: &[u8]) -> Result<(), Errno> {
        while !data.is_empty() {
            if self.len == self.pages.len() * PAGE {
                self.pages.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
                self.account.try_charge(1)?;
                match Page::new() {
                    Ok(p) => self.pages.push(p),
                    Err(e) => {
                        self.account.uncharge(1);
                        return Err(e);
                    }
                }
            }
            let off = self.len % PAGE;
            let n = (PAGE - off).min(data.len());
            let page = self.pages.len() - 1;
            self.pages[page].bytes_mut()[off..off + n].copy_from_slice(&data[..n]);
            self.len += n;
            data = &data[n..];
        }
        Ok(())
    }

    /// Copies bytes from `off` into `dst`; how many (0 at the end, short
    /// at the first piece `dst` refuses once some were copied).
    pub fn read_at<S: Sink + ?Sized>(&self, off: usize, dst: &mut S) -> Result<usize, Errno> {
        let mut done = 0;
        while done < dst.len() && off + done < self.len {
            let at = off + done;
            let n = (PAGE - at % PAGE).min(dst.len() - done).min(self.len - at);
            if let Err(e) = dst.put(
                done,
                &self.pages[at / PAGE].bytes()[at % PAGE..at % PAGE + n],
            ) {
                return if done == 0 { Err(e) } else { Ok(done) };
            }
            done += n;
        }
        Ok(done)
    }
}

impl Drop for PageBuf {
    fn drop(&mut self) {
        self.account.uncharge(self.pages.len() as u64);
    }
}

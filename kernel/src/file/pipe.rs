//! Pipes: a bounded byte buffer between a reading and a writing end.
//!
//! Readers sleep while the pipe is empty and a writer is open; writers
//! sleep while it is full and a reader is open. Writing with no reader left
//! is `EPIPE`; reading with no writer left and nothing buffered is end of
//! file. A sleeping reader or writer that is killed returns `EINTR`.
//! The ring is a frame of its own ([`Page`]), not heap: users choose how
//! many pipes exist, and a failed frame allocation is only an `ENOMEM`.
//! The frame is charged to the creator's container until the pipe is gone.

use alloc::sync::Arc;

use berth_abi::errno::Errno;

use crate::mm::account::MemAccount;
use crate::mm::frame::FRAME_SIZE;
use crate::mm::page::Page;
use crate::sync::{SpinLock, WaitQueue};

/// Bytes a pipe buffers: one page.
pub const PIPESIZE: usize = FRAME_SIZE as usize;
/// Writes of at most this many bytes are messages: their reader is woken
/// beside the writer, which usually waits for the answer next (see
/// `WaitQueue::wake_all_beside`).
const MESSAGE_MAX: usize = 64;

struct Inner {
    buf: Page,
    nread: usize,
    nwrite: usize,
    reader_open: bool,
    writer_open: bool,
}

pub struct Pipe {
    inner: SpinLock<Inner>,
    readable: WaitQueue,
    writable: WaitQueue,
    /// Where the ring's frame is charged.
    account: Arc<MemAccount>,
}

impl Drop for Pipe {
    fn drop(&mut self) {
        self.account.uncharge(1);
    }
}

fn killed() -> bool {
    crate::proc::current().is_some_and(|p| p.killed())
}

impl Pipe {
    /// An empty pipe with both ends open, its frame charged to `account`;
    /// `ENOMEM` without a free frame or at the account's limit.
    pub fn new(account: Arc<MemAccount>) -> Result<Pipe, Errno> {
        account.try_charge(1)?;
        let buf = match Page::new() {
            Ok(b) => b,
            Err(e) => {
                account.uncharge(1);
                return Err(e);
            }
        };
        Ok(Pipe {
            inner: SpinLock::new(
                "pipe",
                Inner {
                    buf,
                    nread: 0,
                    nwrite: 0,
                    reader_open: true,
                    writer_open: true,
                },
            ),
            readable: WaitQueue::new(),
            writable: WaitQueue::new(),
            account,
        })
    }

    /// Writes all of `data`, sleeping while the pipe is full. When the
    /// reader goes away or the writer is killed part-way, the bytes already
    /// in the pipe count: the result is their number, and the error comes
    /// only when none went in.
    pub fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        let mut i = 0;
        let mut g = self.inner.lock();
        while i < data.len() {
            let stop = if !g.reader_open {
                Some(Errno::EPIPE)
            } else if g.nwrite - g.nread == PIPESIZE && killed() {
                Some(Errno::EINTR)
            } else {
                None
            };
            if let Some(e) = stop {
                drop(g);
                if i == 0 {
                    return Err(e);
                }
                self.readable.wake_all();
                return Ok(i);
            }
            let space = PIPESIZE - (g.nwrite - g.nread);
            if space == 0 {
                self.readable.wake_all();
                g = self.writable.sleep_interruptible(g);
                continue;
            }
            // Copy as much as fits, in at most two runs around the ring's end.
            let n = space.min(data.len() - i);
            let at = g.nwrite % PIPESIZE;
            let first = n.min(PIPESIZE - at);
            g.buf.bytes_mut()[at..at + first].copy_from_slice(&data[i..i + first]);
            g.buf.bytes_mut()[..n - first].copy_from_slice(&data[i + first..i + n]);
            g.nwrite += n;
            i += n;
        }
        drop(g);
        if i <= MESSAGE_MAX {
            // The writer of a short message (a request, a token) usually
            // waits for the answer next: the reader waits on this CPU.
            self.readable.wake_all_beside();
        } else {
            // Bulk data: the reader copies on another CPU while the writer
            // goes on (on one CPU, 4 KiB writes ran at 160 MB/s, not 275).
            self.readable.wake_all();
        }
        Ok(i)
    }

    pub fn read(&self, out: &mut [u8]) -> Result<usize, Errno> {
        let mut g = self.inner.lock();
        while g.nread == g.nwrite && g.writer_open {
            if killed() {
                return Err(Errno::EINTR);
            }
            g = self.readable.sleep_interruptible(g);
        }
        let n = out.len().min(g.nwrite - g.nread);
        let at = g.nread % PIPESIZE;
        let first = n.min(PIPESIZE - at);
        out[..first].copy_from_slice(&g.buf.bytes()[at..at + first]);
        out[first..n].copy_from_slice(&g.buf.bytes()[..n - first]);
        g.nread += n;
        drop(g);
        self.writable.wake_all();
        Ok(n)
    }

    pub fn close_reader(&self) {
        self.inner.lock().reader_open = false;
        self.writable.wake_all();
    }

    pub fn close_writer(&self) {
        self.inner.lock().writer_open = false;
        self.readable.wake_all();
    }
}

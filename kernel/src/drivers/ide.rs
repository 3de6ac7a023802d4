//! IDE (ATA PIO) disk driver for QEMU's primary master, interrupt driven.
//!
//! Why IDE rather than virtio-blk: QEMU's `pc` machine has it at fixed
//! ports with IRQ 14 routed through the IOAPIC, so the driver needs no PCI
//! enumeration or shared-memory rings, and one request per interrupt keeps
//! the concurrency story plain; the file system's buffer cache, not the
//! driver, is where throughput comes from on this machine.
//!
//! Requests from any CPU join one queue under a spinlock; the head is the
//! request the disk is working on. The caller sleeps on the request's
//! completion; the IRQ handler finishes the head (reading the data for a
//! read), wakes its waiter and starts the next. Each 1 KiB block is two
//! sectors moved with READ/WRITE MULTIPLE so there is one interrupt per
//! block (QEMU's default multiple-sector count is 16).

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};

use berth_abi::errno::Errno;
use berth_abi::fs::BSIZE;

use crate::arch::x86_64::cpu::{inb, insl, outb, outsl};
use crate::fs::device::BlockDevice;
use crate::sync::{SpinLock, WaitQueue};

const DATA: u16 = 0x1f0;
const SECTOR_COUNT: u16 = 0x1f2;
const LBA_LOW: u16 = 0x1f3;
const LBA_MID: u16 = 0x1f4;
const LBA_HIGH: u16 = 0x1f5;
const DRIVE_HEAD: u16 = 0x1f6;
const STATUS_COMMAND: u16 = 0x1f7;
const CONTROL: u16 = 0x3f6;

const STATUS_BUSY: u8 = 0x80;
const STATUS_READY: u8 = 0x40;
const STATUS_FAULT: u8 = 0x20;
const STATUS_ERROR: u8 = 0x01;

const CMD_READ_MULTIPLE: u8 = 0xc4;
const CMD_WRITE_MULTIPLE: u8 = 0xc5;
const CMD_IDENTIFY: u8 = 0xec;

/// ISA IRQ of the primary IDE channel.
pub const IDE_IRQ: u8 = 14;
const SECTORS_PER_BLOCK: u8 = (BSIZE / 512) as u8;

struct Request {
    blockno: u32,
    write: bool,
    data: SpinLock<Box<[u8; BSIZE]>>,
    done: AtomicBool,
    failed: AtomicBool,
}

/// The primary master disk.
pub struct IdeDisk {
    queue: SpinLock<VecDeque<Arc<Request>>>,
    completed: WaitQueue,
    blocks: u32,
}

/// Waits until the drive is not busy; returns its status.
fn wait_ready() -> u8 {
    loop {
        let s = inb(STATUS_COMMAND);
        if s & (STATUS_BUSY | STATUS_READY) == STATUS_READY || s == 0xff {
            return s;
        }
        core::hint::spin_loop();
    }
}

fn start(r: &Request) {
    wait_ready();
    let sector = r.blockno * u32::from(SECTORS_PER_BLOCK);
    outb(CONTROL, 0); // interrupts on
    outb(SECTOR_COUNT, SECTORS_PER_BLOCK);
    outb(LBA_LOW, sector as u8);
    outb(LBA_MID, (sector >> 8) as u8);
    outb(LBA_HIGH, (sector >> 16) as u8);
    outb(DRIVE_HEAD, 0xe0 | ((sector >> 24) & 0x0f) as u8);
    if r.write {
        outb(STATUS_COMMAND, CMD_WRITE_MULTIPLE);
        let data = r.data.lock();
        let words: [u32; BSIZE / 4] = core::array::from_fn(|i| {
            u32::from_le_bytes(data[4 * i..4 * i + 4].try_into().unwrap())
        });
        outsl(DATA, &words);
    } else {
        outb(STATUS_COMMAND, CMD_READ_MULTIPLE);
    }
}

static DISK: spin::Once<Arc<IdeDisk>> = spin::Once::new();

/// Probes the primary master; returns the disk if one is attached.
pub fn probe() -> Option<Arc<IdeDisk>> {
    outb(DRIVE_HEAD, 0xe0);
    if inb(STATUS_COMMAND) == 0xff || inb(STATUS_COMMAND) == 0 {
        return None; // floating bus or no device
    }
    wait_ready();
    outb(CONTROL, 0x02); // no interrupt for IDENTIFY: it is polled
    outb(STATUS_COMMAND, CMD_IDENTIFY);
    let s = wait_ready();
    if s == 0 || s & (STATUS_ERROR | STATUS_FAULT) != 0 {
        return None;
    }
    while inb(STATUS_COMMAND) & 0x08 == 0 {
        core::hint::spin_loop();
    }
    let mut id = [0u32; 128];
    insl(DATA, &mut id);
    // Words 60-61: LBA28 sector count.
    let sectors = id[30];
    let disk = Arc::new(IdeDisk {
        queue: SpinLock::new("ide", VecDeque::new()),
        completed: WaitQueue::new(),
        blocks: sectors / u32::from(SECTORS_PER_BLOCK),
    });
    DISK.call_once(|| disk.clone());
    crate::arch::x86_64::ioapic::route_isa_irq(
        IDE_IRQ,
        crate::arch::x86_64::percpu::cpu(0)
            .apic_id
            .load(Ordering::Relaxed),
    );
    Some(disk)
}

/// IRQ 14: the head request finished.
pub fn on_interrupt() {
    let Some(disk) = DISK.get() else {
        inb(STATUS_COMMAND);
        return;
    };
    let mut q = disk.queue.lock();
    let status = inb(STATUS_COMMAND); // also acknowledges the interrupt
    let Some(r) = q.pop_front() else { return };
    if status & (STATUS_ERROR | STATUS_FAULT) != 0 {
        r.failed.store(true, Ordering::Relaxed);
    } else if !r.write {
        let mut words = [0u32; BSIZE / 4];
        insl(DATA, &mut words);
        let mut data = r.data.lock();
        for (i, w) in words.iter().enumerate() {
            data[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
        }
    }
    r.done.store(true, Ordering::Release);
    if let Some(next) = q.front() {
        start(next);
    }
    drop(q);
    disk.completed.wake_all();
}

impl IdeDisk {
    fn submit(&self, blockno: u32, write: bool, data: [u8; BSIZE]) -> Result<[u8; BSIZE], Errno> {
        if blockno >= self.blocks {
            return Err(Errno::EIO);
        }
        let r = Arc::new(Request {
            blockno,
            write,
            data: SpinLock::new("ide request", Box::new(data)),
            done: AtomicBool::new(false),
            failed: AtomicBool::new(false),
        });
        let mut q = self.queue.lock();
        q.push_back(r.clone());
        if q.len() == 1 {
            start(&r);
        }
        while !r.done.load(Ordering::Acquire) {
            q = self.completed.sleep(q);
        }
        drop(q);
        if r.failed.load(Ordering::Relaxed) {
            return Err(Errno::EIO);
        }
        let out = **r.data.lock();
        Ok(out)
    }
}

impl BlockDevice for IdeDisk {
    fn read_block(&self, blockno: u32, buf: &mut [u8; BSIZE]) -> Result<(), Errno> {
        *buf = self.submit(blockno, false, [0; BSIZE])?;
        Ok(())
    }

    fn write_block(&self, blockno: u32, buf: &[u8; BSIZE]) -> Result<(), Errno> {
        self.submit(blockno, true, *buf).map(|_| ())
    }

    fn block_count(&self) -> u32 {
        self.blocks
    }
}

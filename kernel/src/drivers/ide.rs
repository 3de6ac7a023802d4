//! IDE disk driver for QEMU's primary master: bus-master DMA, interrupt
//! driven, with a PIO fallback.
//!
//! Why IDE rather than virtio-blk: QEMU's `pc` machine has it at fixed
//! ports with IRQ 14 routed through the IOAPIC, so the driver needs no
//! shared-memory rings, and one request at a time on the drive keeps the
//! concurrency story plain; the file system's buffer cache, not the
//! driver, is where throughput comes from on this machine.
//!
//! Transfers: each 1 KiB block is two sectors. With the PIIX IDE function's
//! bus-master engine (found on PCI bus 0, BAR 4) a block moves by DMA
//! through one static, 2 KiB-aligned area below 4 GiB (a one-entry PRD
//! table and the data), copied to or from the request under the queue lock.
//! Without it, or with `ide=pio` on the kernel command line, blocks move
//! with READ/WRITE MULTIPLE and `rep insd`/`rep outsd`. DMA is the default
//! because string port output traps once per dword under this machine's
//! software KVM: a PIO block write took 2 ms of `rep outsd` there.
//!
//! Requests from any CPU join one queue under a spinlock; the head is the
//! request the drive is working on. The caller sleeps on the request's
//! completion; whoever finishes the head (copying the data for a read)
//! wakes the waiters and starts the next.
//!
//! Hybrid completion: the IRQ handler finishes the head, but the owner of
//! the head request also polls the alternate status register until
//! [`POLL_US`] after the request started before it sleeps, and finishes
//! the request itself when the drive is done. QEMU's disk answers in about
//! 0.1 ms, while an interrupt under this machine's software KVM can wait
//! for the host's next 4 ms tick. Completion is keyed on the drive's
//! status, not on who got there first: [`IdeDisk::finish_head`] finishes
//! the head only when the status says the drive is done with it, so an
//! interrupt that arrives after a poller finished a request (or while the
//! next one is in flight) changes nothing.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use berth_abi::errno::Errno;
use berth_abi::fs::BSIZE;

use crate::arch::x86_64::cpu::{inb, insl, outb, outl, outsl, rdtsc};
use crate::arch::x86_64::{paging, pci, tsc};
use crate::fs::device::BlockDevice;
use crate::sync::{SpinLock, SpinLockGuard, WaitQueue};

const DATA: u16 = 0x1f0;
const SECTOR_COUNT: u16 = 0x1f2;
const LBA_LOW: u16 = 0x1f3;
const LBA_MID: u16 = 0x1f4;
const LBA_HIGH: u16 = 0x1f5;
const DRIVE_HEAD: u16 = 0x1f6;
const STATUS_COMMAND: u16 = 0x1f7;
/// Device control when written, alternate status (no interrupt ack) when read.
const CONTROL: u16 = 0x3f6;

const STATUS_BUSY: u8 = 0x80;
const STATUS_READY: u8 = 0x40;
const STATUS_FAULT: u8 = 0x20;
const STATUS_DRQ: u8 = 0x08;
const STATUS_ERROR: u8 = 0x01;

const CMD_READ_MULTIPLE: u8 = 0xc4;
const CMD_WRITE_MULTIPLE: u8 = 0xc5;
const CMD_READ_DMA: u8 = 0xc8;
const CMD_WRITE_DMA: u8 = 0xca;
const CMD_IDENTIFY: u8 = 0xec;

/// Bus-master registers of the primary channel, as offsets from BAR 4.
const BM_COMMAND: u16 = 0;
const BM_STATUS: u16 = 2;
const BM_PRD_TABLE: u16 = 4;
/// BM_COMMAND bits: run the engine; transfer towards memory (a disk read).
const BM_START: u8 = 1 << 0;
const BM_TO_MEMORY: u8 = 1 << 3;
/// BM_STATUS bits, cleared by writing 1.
const BM_STATUS_ERROR: u8 = 1 << 1;
const BM_STATUS_IRQ: u8 = 1 << 2;
/// Where the bus-master registers go when firmware left BAR 4 unassigned:
/// the start of the PCI I/O window that SeaBIOS also uses, free on `pc`.
const BM_DEFAULT_PORT: u16 = 0xc000;
/// PRD flag: last entry of the table.
const PRD_END_OF_TABLE: u32 = 1 << 31;
/// PCI class of an IDE controller: mass storage (1), IDE (1).
const PCI_CLASS_STORAGE: u8 = 0x01;
const PCI_SUBCLASS_IDE: u8 = 0x01;
/// Programming-interface bit: the controller can master the bus.
const PCI_PROGIF_BUS_MASTER: u8 = 0x80;

/// How long the owner of the request in progress polls before sleeping.
const POLL_US: u64 = 500;

/// ISA IRQ of the primary IDE channel.
pub const IDE_IRQ: u8 = 14;
const SECTORS_PER_BLOCK: u8 = (BSIZE / 512) as u8;

/// The DMA area: data first, then the one-entry PRD table. Aligned to its
/// (rounded) size, so neither part crosses a 64 KiB boundary, which the
/// bus-master engine forbids; it lives in the kernel image, below 4 GiB.
#[repr(C, align(2048))]
struct DmaArea {
    data: [u8; BSIZE],
    prd: [u32; 2],
}

/// Touched only under the disk's queue lock (it is this lock's data so the
/// copies in and out are checked), and by the drive while a DMA runs.
static DMA_AREA: SpinLock<DmaArea> = SpinLock::new(
    "ide dma",
    DmaArea {
        data: [0; BSIZE],
        prd: [0; 2],
    },
);

/// How blocks move between memory and the drive.
#[derive(Clone, Copy)]
enum Transfer {
    /// Bus-master DMA: the engine's I/O base, and the physical address of
    /// the DMA area's data (the engine holds the PRD table's).
    Dma { bm: u16, data: u32 },
    /// Programmed I/O through the data register.
    Pio,
}

struct Request {
    blockno: u32,
    write: bool,
    data: SpinLock<Box<[u8; BSIZE]>>,
    done: AtomicBool,
    failed: AtomicBool,
    /// TSC when the drive was given this request (0: not yet).
    started: AtomicU64,
}

type QueueGuard<'a> = SpinLockGuard<'a, VecDeque<Arc<Request>>>;

/// The primary master disk.
pub struct IdeDisk {
    queue: SpinLock<VecDeque<Arc<Request>>>,
    completed: WaitQueue,
    blocks: u32,
    transfer: Transfer,
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

static DISK: spin::Once<Arc<IdeDisk>> = spin::Once::new();

/// Finds the IDE controller's bus-master engine and turns it on, unless the
/// command line says `ide=pio`.
fn find_dma() -> Transfer {
    if crate::cmdline::value("ide") == Some("pio") {
        return Transfer::Pio;
    }
    let Some(f) = pci::find(PCI_CLASS_STORAGE, PCI_SUBCLASS_IDE) else {
        return Transfer::Pio;
    };
    let (_, _, progif) = f.class();
    let mut bar4 = f.bar(4);
    // An I/O BAR has bit 0 set. qboot assigns no I/O BARs: place it ourselves.
    if progif & PCI_PROGIF_BUS_MASTER == 0 || bar4 & 1 == 0 {
        return Transfer::Pio;
    }
    if bar4 & 0xfffc == 0 {
        if !f.assign_io_bar(4, BM_DEFAULT_PORT) {
            return Transfer::Pio;
        }
        bar4 = f.bar(4);
    }
    f.enable_io_and_bus_master();
    let area = DMA_AREA.lock();
    // The kernel image sits in the first few MiB of physical memory.
    let phys = |p: *const u8| {
        u32::try_from(paging::virt_to_phys(p as u64)).expect("ide: DMA area above 4 GiB")
    };
    let bm = (bar4 & 0xfffc) as u16;
    outb(bm + BM_COMMAND, 0);
    outl(bm + BM_PRD_TABLE, phys(area.prd.as_ptr().cast()));
    outb(bm + BM_STATUS, BM_STATUS_ERROR | BM_STATUS_IRQ);
    Transfer::Dma {
        bm,
        data: phys(area.data.as_ptr()),
    }
}

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
    while inb(STATUS_COMMAND) & STATUS_DRQ == 0 {
        core::hint::spin_loop();
    }
    let mut id = [0u8; 512];
    insl(DATA, &mut id);
    // Words 60-61: LBA28 sector count.
    let sectors = u32::from_le_bytes([id[120], id[121], id[122], id[123]]);
    let disk = Arc::new(IdeDisk {
        queue: SpinLock::new("ide", VecDeque::new()),
        completed: WaitQueue::new(),
        blocks: sectors / u32::from(SECTORS_PER_BLOCK),
        transfer: find_dma(),
    });
    DISK.call_once(|| disk.clone());
    outb(CONTROL, 0); // interrupts on from now on
    crate::arch::x86_64::ioapic::route_isa_irq(
        IDE_IRQ,
        crate::arch::x86_64::percpu::cpu(0)
            .apic_id
            .load(Ordering::Relaxed),
    );
    Some(disk)
}

/// IRQ 14: the drive finished the head request (or a poller already did).
pub fn on_interrupt() {
    let Some(disk) = DISK.get() else {
        inb(STATUS_COMMAND);
        return;
    };
    let mut q = disk.queue.lock();
    let finished = disk.finish_head(&mut q);
    drop(q);
    if finished {
        disk.completed.wake_all();
    }
}

impl IdeDisk {
    /// How the disk moves blocks ("DMA" or "PIO"), for the boot report.
    pub fn transfer_mode(&self) -> &'static str {
        match self.transfer {
            Transfer::Dma { .. } => "DMA",
            Transfer::Pio => "PIO",
        }
    }

    /// Gives `r` to the drive. Called with the queue locked, `r` its head.
    fn start(&self, r: &Request) {
        wait_ready();
        if let Transfer::Dma { data, .. } = self.transfer {
            let mut area = DMA_AREA.lock();
            if r.write {
                area.data.copy_from_slice(&r.data.lock()[..]);
            }
            area.prd = [data, BSIZE as u32 | PRD_END_OF_TABLE];
            // The engine is stopped and its status clear since the last
            // finish (or setup); the PRD table address never changes.
        }
        let sector = r.blockno * u32::from(SECTORS_PER_BLOCK);
        outb(SECTOR_COUNT, SECTORS_PER_BLOCK);
        outb(LBA_LOW, sector as u8);
        outb(LBA_MID, (sector >> 8) as u8);
        outb(LBA_HIGH, (sector >> 16) as u8);
        outb(DRIVE_HEAD, 0xe0 | ((sector >> 24) & 0x0f) as u8);
        r.started.store(rdtsc().max(1), Ordering::Relaxed);
        match (self.transfer, r.write) {
            (Transfer::Dma { bm, .. }, write) => {
                outb(
                    STATUS_COMMAND,
                    if write { CMD_WRITE_DMA } else { CMD_READ_DMA },
                );
                outb(
                    bm + BM_COMMAND,
                    BM_START | if write { 0 } else { BM_TO_MEMORY },
                );
            }
            (Transfer::Pio, true) => {
                outb(STATUS_COMMAND, CMD_WRITE_MULTIPLE);
                outsl(DATA, &r.data.lock()[..]);
            }
            (Transfer::Pio, false) => outb(STATUS_COMMAND, CMD_READ_MULTIPLE),
        }
    }

    /// Whether a status byte says the drive has finished `r` (or failed it).
    fn finished(&self, r: &Request, status: u8) -> bool {
        if status & STATUS_BUSY != 0 {
            return false;
        }
        if status & (STATUS_ERROR | STATUS_FAULT) != 0 {
            return true;
        }
        let data_waiting = status & STATUS_DRQ != 0;
        match self.transfer {
            // A DMA command holds DRQ until the engine has moved the data.
            Transfer::Dma { .. } => !data_waiting,
            // A finished PIO read offers its data; a finished write wants none.
            Transfer::Pio => data_waiting != r.write,
        }
    }

    /// Finishes the head request if the drive is done with it: copies its
    /// data in, marks it done, starts the next request. Returns whether it
    /// did. Reading the status register also acknowledges the interrupt.
    fn finish_head(&self, q: &mut VecDeque<Arc<Request>>) -> bool {
        let status = inb(STATUS_COMMAND);
        let Some(r) = q.front() else { return false };
        if r.started.load(Ordering::Relaxed) == 0 || !self.finished(r, status) {
            return false;
        }
        let mut failed = status & (STATUS_ERROR | STATUS_FAULT) != 0;
        match self.transfer {
            Transfer::Dma { bm, .. } => {
                outb(bm + BM_COMMAND, 0);
                let bm_status = inb(bm + BM_STATUS);
                outb(bm + BM_STATUS, bm_status | BM_STATUS_ERROR | BM_STATUS_IRQ);
                failed |= bm_status & BM_STATUS_ERROR != 0;
                if !failed && !r.write {
                    r.data.lock().copy_from_slice(&DMA_AREA.lock().data);
                }
            }
            Transfer::Pio => {
                if !failed && !r.write {
                    insl(DATA, &mut r.data.lock()[..]);
                }
            }
        }
        r.failed.store(failed, Ordering::Relaxed);
        r.done.store(true, Ordering::Release);
        q.pop_front();
        if let Some(next) = q.front() {
            self.start(next);
        }
        true
    }

    /// Polls, with the queue unlocked, for the drive to finish `r` (the
    /// head, already started) until [`POLL_US`] after its start, finishing
    /// it if the drive is done. Hands the guard back untouched when that
    /// time has already passed.
    fn poll<'a>(&'a self, r: &Request, q: QueueGuard<'a>) -> Result<(), QueueGuard<'a>> {
        let budget = tsc::hz() / 1_000_000 * POLL_US;
        let started = r.started.load(Ordering::Relaxed);
        if rdtsc().wrapping_sub(started) >= budget {
            return Err(q);
        }
        drop(q);
        loop {
            // The alternate status register does not acknowledge the interrupt.
            if self.finished(r, inb(CONTROL)) {
                let mut q = self.queue.lock();
                if self.finish_head(&mut q) {
                    drop(q);
                    self.completed.wake_all();
                }
                return Ok(());
            }
            if rdtsc().wrapping_sub(started) >= budget {
                return Ok(());
            }
            core::hint::spin_loop();
        }
    }

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
            started: AtomicU64::new(0),
        });
        let mut q = self.queue.lock();
        q.push_back(r.clone());
        if q.len() == 1 {
            self.start(&r);
        }
        while !r.done.load(Ordering::Acquire) {
            if q.front().is_some_and(|head| Arc::ptr_eq(head, &r)) {
                match self.poll(&r, q) {
                    Ok(()) => {
                        q = self.queue.lock();
                        continue;
                    }
                    Err(still_locked) => q = still_locked,
                }
            }
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

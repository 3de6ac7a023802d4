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
//! bus-master engine (found on PCI bus 0, BAR 4) the drive moves a request's
//! data by DMA straight to or from the caller's buffers: the request's PRD
//! table ([`super::prd`]) points at them, each 4 KiB page translated on its
//! own. The buffer cache's buffers live in the kernel heap, which is
//! reached through the direct map, so the engine can reach them; a buffer
//! it cannot reach (on a kernel stack, whose region this driver does not
//! walk; odd; at or above 4 GiB) makes its one-block request bounce
//! through a static 1 KiB area in the kernel image instead (a copy, as
//! every request paid before). [`BlockDevice::write_blocks`] moves up to
//! [`MAX_RUN`] blocks (LBA28's 256 sectors) per command through one
//! scatter-gather table; a run that cannot go direct is written block by
//! block. Without the engine, or with `ide=pio` on the kernel command
//! line, blocks move one per command with READ/WRITE MULTIPLE and `rep
//! insd`/`rep outsd`. DMA is the default because string port output traps
//! once per dword under this machine's software KVM: a PIO block write
//! took 2 ms of `rep outsd` there.
//!
//! Requests allocate nothing. A request is one of [`SLOTS`] slots in the
//! disk, each with its own PRD table in static memory (below 4 GiB, each
//! table aligned to its 2 KiB size so none crosses a 64 KiB boundary); the
//! queue is a fixed ring of slot numbers under a spinlock, its head the
//! request the drive is working on. A submitter takes a free slot
//! (sleeping while there is none), builds the slot's table from its
//! buffers, queues it, and sleeps until the request is done. It borrows
//! its buffers for the whole call and returns only once the request is
//! done, which the finisher marks only after the drive and the engine have
//! stopped: no buffer is released while the drive may still touch it.
//!
//! Who moves data: a request's buffers are borrowed by its submitter (the
//! owner) alone, so every CPU copy of request data (PIO's `insd`/`outsd`,
//! the bounce copies) is made by the owner, under the queue lock. Direct
//! DMA needs no CPU copy, so whoever finishes the head also starts the next
//! request when that one needs no data from its owner (a direct transfer or
//! any read). Otherwise the finisher leaves the drive idle for the owner: a
//! PIO or bounced write becomes *startable* (its owner starts it, giving
//! the drive its data), a finished PIO or bounced read *data ready* (its
//! owner takes the data, then retires it and starts the next request).
//! So the driver needs no raw pointers and no `unsafe`: the hardware is
//! given physical addresses, which is no memory access in Rust's sense;
//! the addresses come from `as` casts of the owner's references (exposing
//! them), and the owner learns of completion through port reads and the
//! queue lock, across which the compiler assumes exposed memory may change.
//!
//! Hybrid completion: the IRQ handler finishes the head, but the owner of
//! the head request also polls the alternate status register until
//! [`POLL_US`] after the request started before it sleeps, and finishes
//! the request itself when the drive is done. QEMU's disk answers in about
//! 0.1 ms, while an interrupt under this machine's software KVM can wait
//! for the host's next 4 ms tick. Completion is keyed on the drive's
//! status, not on who got there first: [`IdeDisk::finish_head`] finishes
//! the head only when it is on the drive and the status says the drive is
//! done with it, so an interrupt that arrives after a poller finished a
//! request (or while the next one is in flight) changes nothing.

use alloc::sync::Arc;
use core::mem::offset_of;
use core::sync::atomic::{AtomicU64, Ordering};

use berth_abi::errno::Errno;
use berth_abi::fs::BSIZE;

use super::prd;
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
/// PCI class of an IDE controller: mass storage (1), IDE (1).
const PCI_CLASS_STORAGE: u8 = 0x01;
const PCI_SUBCLASS_IDE: u8 = 0x01;
/// Programming-interface bit: the controller can master the bus.
const PCI_PROGIF_BUS_MASTER: u8 = 0x80;

/// How long the owner of the request in progress polls before sleeping.
const POLL_US: u64 = 500;

/// ISA IRQ of the primary IDE channel.
pub const IDE_IRQ: u8 = 14;
const SECTORS_PER_BLOCK: u32 = (BSIZE / 512) as u32;
/// Most blocks one command moves: LBA28's 256 sectors (a sector count of 0).
pub const MAX_RUN: usize = 256 / SECTORS_PER_BLOCK as usize;
/// PRD entries a request may need: a 1 KiB buffer spans at most two pages.
const MAX_PRD: usize = 2 * MAX_RUN;
/// Requests in the disk at once; more submitters wait for a slot.
pub const SLOTS: usize = 8;

/// One slot's PRD table, aligned to its size so it crosses no 64 KiB boundary.
#[repr(C, align(2048))]
struct PrdTable([prd::Entry; MAX_PRD]);

/// The bounce area, aligned like a table so it crosses no 64 KiB boundary.
#[repr(C, align(2048))]
struct Bounce([u8; BSIZE]);

/// What the engine reads or writes besides callers' buffers: each slot's
/// PRD table, then the bounce area. In the kernel image, below 4 GiB.
#[repr(C)]
struct DmaMemory {
    tables: [PrdTable; SLOTS],
    bounce: Bounce,
}

const _: () = assert!(core::mem::size_of::<PrdTable>() == 2048);

/// Touched by the CPU only under the disk's queue lock (it is a lock of its
/// own so that those accesses are checked), and by the engine while a DMA
/// runs: the head's table, and the bounce area if the head bounces.
static DMA_MEMORY: SpinLock<DmaMemory> = SpinLock::new(
    "ide dma",
    DmaMemory {
        tables: [const { PrdTable([[0; 2]; MAX_PRD]) }; SLOTS],
        bounce: Bounce([0; BSIZE]),
    },
);

/// How blocks move between memory and the drive.
#[derive(Clone, Copy)]
enum Transfer {
    /// Bus-master DMA: the engine's I/O base, and the physical address of
    /// [`DMA_MEMORY`]'s data.
    Dma { bm: u16, mem: u32 },
    /// Programmed I/O through the data register.
    Pio,
}

/// Where a request's data goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Path {
    /// By DMA, the slot's table naming the owner's buffers.
    Direct,
    /// By DMA through the bounce area (one block), copied by the owner.
    Bounce,
    /// Through the data register (one block), moved by the owner.
    Pio,
}

/// Where a request stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Free,
    /// Queued behind the head.
    Queued,
    /// The head, with the drive idle: only its owner can start it (it must
    /// give the drive data only the owner can reach).
    Startable,
    /// On the drive since TSC `started`.
    Started,
    /// The drive has finished a read whose data only the owner can take
    /// (from the data register or the bounce area); the drive waits for it.
    DataReady,
    /// Finished, `failed` saying how; the owner frees the slot.
    Done,
}

#[derive(Clone, Copy)]
struct Slot {
    phase: Phase,
    /// First block, and how many (1..=MAX_RUN).
    blockno: u32,
    blocks: u32,
    write: bool,
    path: Path,
    failed: bool,
    started: u64,
}

impl Slot {
    const FREE: Slot = Slot {
        phase: Phase::Free,
        blockno: 0,
        blocks: 0,
        write: false,
        path: Path::Direct,
        failed: false,
        started: 0,
    };

    /// Whether only the owner can start it: the drive needs its data first.
    fn owner_starts(&self) -> bool {
        self.write && self.path != Path::Direct
    }

    /// Whether only the owner can finish it: its data waits outside its buffer.
    fn owner_finishes(&self) -> bool {
        !self.write && self.path != Path::Direct
    }
}

/// The slots and the ring of queued slot numbers, oldest (the head) first.
struct Queue {
    slots: [Slot; SLOTS],
    ring: [u8; SLOTS],
    head: usize,
    len: usize,
    /// Submitters sleeping for a free slot.
    waiting: usize,
}

impl Queue {
    fn front(&self) -> Option<usize> {
        (self.len > 0).then(|| usize::from(self.ring[self.head]))
    }

    fn push(&mut self, k: usize) {
        // Each queued slot is in the ring once, so it never holds more than SLOTS.
        assert!(self.len < SLOTS, "ide: request ring overflow");
        self.ring[(self.head + self.len) % SLOTS] = k as u8;
        self.len += 1;
    }

    fn pop(&mut self) {
        self.head = (self.head + 1) % SLOTS;
        self.len -= 1;
    }
}

type QueueGuard<'a> = SpinLockGuard<'a, Queue>;

/// A request's data, borrowed from its owner for the whole request.
enum Io<'a> {
    Read(&'a mut [u8; BSIZE]),
    Write(&'a [&'a [u8; BSIZE]]),
}

impl Io<'_> {
    fn blocks(&self) -> usize {
        match self {
            Io::Read(_) => 1,
            Io::Write(bufs) => bufs.len(),
        }
    }
}

/// The primary master disk.
pub struct IdeDisk {
    queue: SpinLock<Queue>,
    completed: WaitQueue,
    /// Requests retired so far, so a poller sees its request finished by
    /// someone else without taking the lock.
    retired: AtomicU64,
    /// Requests that bounced (their buffer was out of the engine's reach).
    bounced: AtomicU64,
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

/// The physical address the engine reaches kernel address `virt` at, for
/// the kernel image and the direct map (where the heap is); `None` for the
/// rest (kernel stacks, mapped page by page, and user addresses).
fn dma_address(virt: u64) -> Option<u64> {
    let mapped = virt >= paging::KERNEL_VMA
        || (paging::DIRECT_MAP_BASE..paging::KSTACK_REGION).contains(&virt);
    mapped.then(|| paging::virt_to_phys(virt))
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
    // The kernel image sits in the first few MiB of physical memory.
    let mem = &*DMA_MEMORY.lock() as *const DmaMemory as u64;
    let mem = u32::try_from(paging::virt_to_phys(mem)).expect("ide: DMA memory above 4 GiB");
    let bm = (bar4 & 0xfffc) as u16;
    outb(bm + BM_COMMAND, 0);
    outb(bm + BM_STATUS, BM_STATUS_ERROR | BM_STATUS_IRQ);
    Transfer::Dma { bm, mem }
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
        queue: SpinLock::new(
            "ide",
            Queue {
                slots: [Slot::FREE; SLOTS],
                ring: [0; SLOTS],
                head: 0,
                len: 0,
                waiting: 0,
            },
        ),
        completed: WaitQueue::new(),
        retired: AtomicU64::new(0),
        bounced: AtomicU64::new(0),
        blocks: sectors / SECTORS_PER_BLOCK,
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

    /// Requests that bounced through the driver's own area so far.
    pub fn bounced(&self) -> u64 {
        self.bounced.load(Ordering::Relaxed)
    }

    /// Decides how slot `k`'s request moves and, for DMA, fills the slot's
    /// PRD table. Called with the queue locked and slot `k` free (so the
    /// engine is not reading its table).
    fn plan(&self, k: usize, io: &mut Io<'_>) -> Path {
        let Transfer::Dma { mem, .. } = self.transfer else {
            return Path::Pio;
        };
        let mut dma = DMA_MEMORY.lock();
        let table = &mut dma.tables[k].0;
        let direct = match io {
            // From the exclusive borrow: the engine writes this buffer.
            Io::Read(buf) => prd::build([(buf.as_mut_ptr() as u64, BSIZE)], dma_address, table),
            Io::Write(bufs) => prd::build(
                bufs.iter().map(|b| (b.as_ptr() as u64, BSIZE)),
                dma_address,
                table,
            ),
        };
        if direct.is_some() {
            return Path::Direct;
        }
        let bounce = mem + offset_of!(DmaMemory, bounce) as u32;
        table[0] = [bounce, BSIZE as u32 | prd::END_OF_TABLE];
        Path::Bounce
    }

    /// Gives slot `k`, the head, to the idle drive. Called with the queue
    /// locked; `io` is the request's data, which only its owner has, and
    /// which a request that [`Slot::owner_starts`] needs.
    fn start(&self, q: &mut Queue, k: usize, io: Option<&Io<'_>>) {
        let s = q.slots[k];
        let data = || match io {
            Some(Io::Write(bufs)) => bufs[0],
            _ => panic!("ide: a write started without its data"),
        };
        wait_ready();
        if let Transfer::Dma { bm, mem } = self.transfer {
            if s.path == Path::Bounce && s.write {
                DMA_MEMORY.lock().bounce.0.copy_from_slice(data());
            }
            // The engine is stopped and its status clear since the last
            // finish (or setup).
            let table = mem + offset_of!(DmaMemory, tables) as u32 + (k * 2048) as u32;
            outl(bm + BM_PRD_TABLE, table);
        }
        let sector = s.blockno * SECTORS_PER_BLOCK;
        // 256 sectors are written as 0.
        outb(SECTOR_COUNT, (s.blocks * SECTORS_PER_BLOCK) as u8);
        outb(LBA_LOW, sector as u8);
        outb(LBA_MID, (sector >> 8) as u8);
        outb(LBA_HIGH, (sector >> 16) as u8);
        outb(DRIVE_HEAD, 0xe0 | ((sector >> 24) & 0x0f) as u8);
        q.slots[k].started = rdtsc().max(1);
        q.slots[k].phase = Phase::Started;
        match (self.transfer, s.write) {
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
                let mut status = inb(CONTROL);
                while status & STATUS_BUSY != 0 {
                    core::hint::spin_loop();
                    status = inb(CONTROL);
                }
                // Without DRQ the drive refused the command: the status
                // says so when the request is finished.
                if status & STATUS_DRQ != 0 {
                    outsl(DATA, data());
                }
            }
            (Transfer::Pio, false) => outb(STATUS_COMMAND, CMD_READ_MULTIPLE),
        }
    }

    /// Whether a status byte says the drive has finished `s` (or failed it).
    fn finished(&self, s: &Slot, status: u8) -> bool {
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
            Transfer::Pio => data_waiting != s.write,
        }
    }

    /// Finishes the head request if it is on the drive and the drive is
    /// done with it: stops the engine, then either marks it data ready
    /// (its owner takes the data and retires it) or retires it at once and
    /// starts the next. Returns whether it changed anything. Reading the
    /// status register also acknowledges the interrupt.
    fn finish_head(&self, q: &mut Queue) -> bool {
        let status = inb(STATUS_COMMAND);
        let Some(k) = q.front() else { return false };
        let s = q.slots[k];
        if s.phase != Phase::Started || !self.finished(&s, status) {
            return false;
        }
        let mut failed = status & (STATUS_ERROR | STATUS_FAULT) != 0;
        if let Transfer::Dma { bm, .. } = self.transfer {
            outb(bm + BM_COMMAND, 0);
            let bm_status = inb(bm + BM_STATUS);
            outb(bm + BM_STATUS, bm_status | BM_STATUS_ERROR | BM_STATUS_IRQ);
            failed |= bm_status & BM_STATUS_ERROR != 0;
        }
        q.slots[k].failed = failed;
        if !failed && s.owner_finishes() {
            q.slots[k].phase = Phase::DataReady;
        } else {
            self.retire_head(q);
        }
        true
    }

    /// Marks the head done, takes it off the ring and gives the drive the
    /// next request: starts it, or leaves it startable for its owner.
    fn retire_head(&self, q: &mut Queue) {
        let k = q.front().expect("ide: retiring with an empty queue");
        q.slots[k].phase = Phase::Done;
        q.pop();
        self.retired.fetch_add(1, Ordering::Relaxed);
        if let Some(next) = q.front() {
            if q.slots[next].owner_starts() {
                q.slots[next].phase = Phase::Startable;
            } else {
                self.start(q, next, None);
            }
        }
    }

    /// Polls, with the queue unlocked, for the drive to finish slot `k`
    /// (the head, on the drive) until [`POLL_US`] after its start,
    /// finishing it if the drive is done. Hands the guard back untouched
    /// when that time has already passed.
    fn poll<'a>(&'a self, k: usize, q: QueueGuard<'a>) -> Result<(), QueueGuard<'a>> {
        let s = q.slots[k];
        let budget = tsc::hz() / 1_000_000 * POLL_US;
        if rdtsc().wrapping_sub(s.started) >= budget {
            return Err(q);
        }
        let retired = self.retired.load(Ordering::Relaxed);
        drop(q);
        loop {
            // The alternate status register does not acknowledge the interrupt.
            if self.finished(&s, inb(CONTROL)) {
                let mut q = self.queue.lock();
                if self.finish_head(&mut q) {
                    drop(q);
                    self.completed.wake_all();
                }
                return Ok(());
            }
            if rdtsc().wrapping_sub(s.started) >= budget
                || self.retired.load(Ordering::Relaxed) != retired
            {
                return Ok(());
            }
            core::hint::spin_loop();
        }
    }

    /// Moves a finished read's data into its buffer (PIO or bounce).
    fn take_data(&self, s: &Slot, io: &mut Io<'_>) {
        let Io::Read(buf) = io else {
            panic!("ide: a write has no data to take");
        };
        match s.path {
            Path::Pio => insl(DATA, &mut buf[..]),
            Path::Bounce => buf.copy_from_slice(&DMA_MEMORY.lock().bounce.0),
            Path::Direct => {}
        }
    }

    /// Moves `io` to or from blocks `blockno..` (at most [`MAX_RUN`]) and
    /// returns once the drive is done with the buffers.
    fn submit(&self, blockno: u32, mut io: Io<'_>) -> Result<(), Errno> {
        let n = io.blocks();
        assert!((1..=MAX_RUN).contains(&n), "ide: a request of {n} blocks");
        if u64::from(blockno) + n as u64 > u64::from(self.blocks) {
            return Err(Errno::EIO);
        }
        let mut q = self.queue.lock();
        let k = loop {
            if let Some(k) = q.slots.iter().position(|s| s.phase == Phase::Free) {
                break k;
            }
            q.waiting += 1;
            q = self.completed.sleep(q);
            q.waiting -= 1;
        };
        let path = self.plan(k, &mut io);
        if n > 1 && path != Path::Direct {
            // PIO and the bounce area move one block per command.
            drop(q);
            let Io::Write(bufs) = io else { unreachable!() };
            return self.one_by_one(blockno, bufs);
        }
        if path == Path::Bounce {
            self.bounced.fetch_add(1, Ordering::Relaxed);
        }
        q.slots[k] = Slot {
            phase: Phase::Queued,
            blockno,
            blocks: n as u32,
            write: matches!(io, Io::Write(_)),
            path,
            failed: false,
            started: 0,
        };
        q.push(k);
        if q.front() == Some(k) {
            // Nothing was queued, so the drive is idle.
            self.start(&mut q, k, Some(&io));
        }
        let mut woke_next = false;
        loop {
            match q.slots[k].phase {
                Phase::Done => break,
                Phase::Startable => {
                    self.start(&mut q, k, Some(&io));
                    continue;
                }
                Phase::DataReady => {
                    let s = q.slots[k];
                    self.take_data(&s, &mut io);
                    self.retire_head(&mut q);
                    woke_next = true;
                    break;
                }
                Phase::Started => match self.poll(k, q) {
                    Ok(()) => {
                        q = self.queue.lock();
                        continue;
                    }
                    Err(still_locked) => q = still_locked,
                },
                Phase::Queued => {}
                Phase::Free => unreachable!("ide: a queued request's slot is free"),
            }
            q = self.completed.sleep(q);
        }
        let failed = q.slots[k].failed;
        q.slots[k] = Slot::FREE;
        let wake = woke_next || q.waiting > 0;
        drop(q);
        if wake {
            self.completed.wake_all();
        }
        if failed {
            return Err(Errno::EIO);
        }
        Ok(())
    }

    /// Writes `bufs` to blocks `start..` one block per request.
    fn one_by_one(&self, start: u32, bufs: &[&[u8; BSIZE]]) -> Result<(), Errno> {
        for (i, buf) in bufs.iter().enumerate() {
            self.submit(start + i as u32, Io::Write(core::slice::from_ref(buf)))?;
        }
        Ok(())
    }
}

impl BlockDevice for IdeDisk {
    fn read_block(&self, blockno: u32, buf: &mut [u8; BSIZE]) -> Result<(), Errno> {
        self.submit(blockno, Io::Read(buf))
    }

    fn write_block(&self, blockno: u32, buf: &[u8; BSIZE]) -> Result<(), Errno> {
        self.submit(blockno, Io::Write(core::slice::from_ref(&buf)))
    }

    /// One command per [`MAX_RUN`] blocks, each with one scatter-gather table.
    fn write_blocks(&self, start: u32, bufs: &[&[u8; BSIZE]]) -> Result<(), Errno> {
        for (i, run) in bufs.chunks(MAX_RUN).enumerate() {
            let first = u32::try_from(i * MAX_RUN)
                .ok()
                .and_then(|off| start.checked_add(off))
                .ok_or(Errno::EIO)?;
            self.submit(first, Io::Write(run))?;
        }
        Ok(())
    }

    fn block_count(&self) -> u32 {
        self.blocks
    }
}

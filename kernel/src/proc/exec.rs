//! `exec`: replace the caller's memory with a program and its arguments.
//!
//! The new address space is built completely (segments copied, stack with
//! the argument strings and the `argv` array) before the old one is
//! dropped, so a failing `exec` leaves the caller untouched. On entry to
//! `_start`: `rdi = argc`, `rsi = argv`, `rsp` 16-byte aligned.
//!
//! The program file stays locked while it loads (as in xv6) and is read
//! piecewise: the ELF headers, then each segment's bytes, a chunk at a time,
//! straight into the new address space. A program, or a huge file that only
//! claims to be one, never needs its size in kernel heap.

use alloc::string::String;
use alloc::vec::Vec;

use berth_abi::errno::Errno;
use berth_abi::limits::{MAXARG, MAXARGBYTES, MAX_USER_MEMORY, USER_STACK_TOP};
use berth_abi::trace::event;

use super::elf::{self, ReadAt};
use super::Proc;
use crate::arch::x86_64::gdt::{USER_CODE, USER_DATA};
use crate::arch::x86_64::trap::TrapFrame;
use crate::file::view::ProcFs;
use crate::mm::user::{UserPtr, UserSlice};
use crate::mm::uvm::{AddressSpace, Prot, STACK_BOTTOM};

/// Bytes of a segment copied per read while loading.
const LOAD_CHUNK: usize = 4096;

/// Loads the executable `file` into the empty `mm` and sets `frame` to enter it with `args`.
pub fn load<F: ReadAt + ?Sized>(
    mm: &mut AddressSpace,
    file: &F,
    args: &[&[u8]],
    frame: &mut TrapFrame,
) -> Result<(), Errno> {
    if args.len() > MAXARG {
        return Err(Errno::E2BIG);
    }
    let exe = elf::parse(file, STACK_BOTTOM)?;
    // The same ceiling as the heap's break (sbrk): a program whose image
    // alone reaches past it could not be given the memory.
    if exe
        .segments
        .iter()
        .any(|s| s.vaddr + s.memsz > MAX_USER_MEMORY)
    {
        return Err(Errno::ENOMEM);
    }
    let mut top = 0;
    let mut chunk = alloc::vec![0u8; LOAD_CHUNK];
    for s in &exe.segments {
        mm.map_zeroed(
            s.vaddr,
            s.vaddr + s.memsz,
            Prot {
                write: s.writable,
                exec: s.executable,
            },
        )?;
        let mut done = 0;
        while done < s.filesz {
            let n = (s.filesz - done).min(LOAD_CHUNK as u64) as usize;
            file.read_exact_at(s.offset + done, &mut chunk[..n])?;
            mm.fill(UserSlice::new(s.vaddr + done, n as u64)?, &chunk[..n])?;
            done += n as u64;
        }
        top = top.max(s.vaddr + s.memsz);
    }
    mm.brk_start = top.next_multiple_of(4096);
    mm.brk = mm.brk_start;

    // Stack: strings at the top, then the argv array, then alignment.
    let mut sp = USER_STACK_TOP;
    let mut ptrs: Vec<u64> = Vec::with_capacity(args.len() + 1);
    let mut total = 0usize;
    for a in args {
        total += a.len() + 1;
        if total > MAXARGBYTES {
            return Err(Errno::E2BIG);
        }
        sp -= a.len() as u64 + 1;
        let at = UserSlice::new(sp, a.len() as u64 + 1)?;
        mm.copy_out(at, a)?;
        mm.copy_out(at.sub(a.len() as u64, 1)?, &[0])?;
        ptrs.push(sp);
    }
    ptrs.push(0);
    sp &= !0xf;
    sp -= 8 * ptrs.len() as u64;
    sp &= !0xf;
    mm.write_all(UserPtr::<u64>::new(sp), &ptrs)?;
    let argv = sp;

    *frame = TrapFrame {
        rip: exe.entry,
        cs: u64::from(USER_CODE),
        rflags: 0x202,
        rsp: sp,
        ss: u64::from(USER_DATA),
        rdi: args.len() as u64,
        rsi: argv,
        ..TrapFrame::default()
    };
    Ok(())
}

/// The last path component, as the process name.
fn base_name(path: &[u8]) -> &[u8] {
    path.rsplit(|&b| b == b'/')
        .find(|s| !s.is_empty())
        .unwrap_or(path)
}

/// Runs `f` on program `path`, opened for reading: in the caller's view
/// from its current directory when there is a file system (see
/// `View::exec_reader`), else from the programs built into the kernel.
pub fn with_program<R>(
    fs: Option<&ProcFs>,
    path: &[u8],
    f: impl FnOnce(&dyn ReadAt) -> Result<R, Errno>,
) -> Result<R, Errno> {
    match fs {
        Some(pfs) => pfs.view.exec_reader(&pfs.cwd, path, f),
        None => {
            let name = core::str::from_utf8(path).map_err(|_| Errno::ENOENT)?;
            f(&super::programs::find(name).ok_or(Errno::ENOENT)?)
        }
    }
}

/// A new address space holding program `path`, and the frame that enters
/// it with `args`, charged to `account` for the process numbered `log_pid`.
pub fn load_program(
    fs: Option<&ProcFs>,
    path: &[u8],
    args: &[&[u8]],
    account: alloc::sync::Arc<crate::mm::account::MemAccount>,
    log_pid: i32,
) -> Result<(AddressSpace, TrapFrame), Errno> {
    with_program(fs, path, |file| {
        let mut mm = AddressSpace::new(account, log_pid)?;
        let mut frame = TrapFrame::default();
        load(&mut mm, file, args, &mut frame)?;
        Ok((mm, frame))
    })
}

/// `exec(path, args)` for the current process `p`, whose user frame is `frame`.
pub fn exec(p: &Proc, path: &[u8], args: &[Vec<u8>], frame: &mut TrapFrame) -> Result<(), Errno> {
    let fs = p.fs.lock().clone();
    let arg_refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    let account = p.container().mem.clone();
    let log_pid = p.vpid.load(core::sync::atomic::Ordering::Relaxed);
    let loaded = load_program(fs.as_ref(), path, &arg_refs, account, log_pid);
    drop(fs);
    let (mm, new_frame) = loaded?;
    // Install and activate together, with interrupts off: were we
    // preempted in between, the scheduler would resume us on whichever
    // table `page_root` named, and we would then free it under our own feet.
    let old = {
        let mut slot = p.lock_mm();
        crate::arch::x86_64::percpu::push_irq_off();
        p.page_root
            .store(mm.root(), core::sync::atomic::Ordering::Relaxed);
        mm.activate();
        let old = slot.replace(mm);
        crate::arch::x86_64::percpu::pop_irq_off();
        old
    };
    drop(old);
    // A fresh program starts with a fresh FPU (the registers are the live state).
    crate::arch::x86_64::fpu::FpuState::initial().restore();
    *frame = new_frame;
    let name = String::from_utf8_lossy(base_name(path)).into_owned();
    if crate::cmdline::test_mode() && crate::cmdline::value("run") == Some(name.as_str()) {
        p.is_test_program
            .store(true, core::sync::atomic::Ordering::Relaxed);
    }
    // The name is noted whenever anything is traced (a recording of
    // switches alone names its processes too).
    let cid = p.container.load(core::sync::atomic::Ordering::Relaxed);
    crate::trace::note_name(p.pid, cid, name.as_bytes());
    if crate::trace::on(event::EXEC) {
        crate::trace::emit(event::EXEC, p.pid, cid, 0, 0);
    }
    p.identity.lock().name = name;
    Ok(())
}

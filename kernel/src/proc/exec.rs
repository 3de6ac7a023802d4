//! `exec`: replace the caller's memory with a program and its arguments.
//!
//! The new address space is built completely (segments copied, stack with
//! the argument strings and the `argv` array) before the old one is
//! dropped, so a failing `exec` leaves the caller untouched. On entry to
//! `_start`: `rdi = argc`, `rsi = argv`, `rsp` 16-byte aligned.

use alloc::string::String;
use alloc::vec::Vec;

use berth_abi::errno::Errno;
use berth_abi::limits::{MAXARG, MAXARGBYTES, USER_STACK_TOP};

use super::{elf, Proc};
use crate::arch::x86_64::gdt::{USER_CODE, USER_DATA};
use crate::arch::x86_64::trap::TrapFrame;
use crate::mm::uvm::{AddressSpace, Prot, STACK_BOTTOM};

/// Loads `image` into the empty `mm` and sets `frame` to enter it with `args`.
pub fn load(
    mm: &mut AddressSpace,
    image: &[u8],
    args: &[&str],
    frame: &mut TrapFrame,
) -> Result<(), Errno> {
    if args.len() > MAXARG {
        return Err(Errno::E2BIG);
    }
    let exe = elf::parse(image, STACK_BOTTOM)?;
    let mut top = 0;
    for s in &exe.segments {
        mm.map_zeroed(
            s.vaddr,
            s.vaddr + s.memsz,
            Prot {
                write: s.writable,
                exec: s.executable,
            },
        )?;
        let file = &image[s.offset as usize..(s.offset + s.filesz) as usize];
        mm.fill(s.vaddr, file)?;
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
        mm.copy_out(sp, a.as_bytes())?;
        mm.copy_out(sp + a.len() as u64, &[0])?;
        ptrs.push(sp);
    }
    ptrs.push(0);
    sp &= !0xf;
    let argv_bytes: Vec<u8> = ptrs.iter().flat_map(|p| p.to_le_bytes()).collect();
    sp -= argv_bytes.len() as u64;
    sp &= !0xf;
    mm.copy_out(sp, &argv_bytes)?;
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
fn base_name(path: &str) -> &str {
    path.rsplit('/').find(|s| !s.is_empty()).unwrap_or(path)
}

/// Largest program file `exec` reads.
const MAX_PROGRAM_BYTES: u64 = 64 << 20;

/// The bytes of program `path`: from the file system when one is mounted
/// (relative to `cwd`, or the root), else from the programs built into the kernel.
pub fn read_program(cwd: Option<&crate::fs::InodeRef>, path: &str) -> Result<Vec<u8>, Errno> {
    let Some(fs) = crate::file::mount::root_fs() else {
        return super::programs::find(path)
            .map(<[u8]>::to_vec)
            .ok_or(Errno::ENOENT);
    };
    let root;
    let cwd = match cwd {
        Some(c) => c,
        None => {
            root = fs.root()?;
            &root
        }
    };
    let ip = fs.namei(cwd, path.as_bytes())?;
    let st = fs.stat(&ip)?;
    if st.kind != berth_abi::fs::T_FILE {
        return Err(Errno::EACCES);
    }
    if st.size > MAX_PROGRAM_BYTES {
        return Err(Errno::ENOEXEC);
    }
    let mut image = alloc::vec![0u8; st.size as usize];
    let mut done = 0;
    while done < image.len() {
        let n = fs.read_file(&ip, done as u64, &mut image[done..])?;
        if n == 0 {
            break;
        }
        done += n;
    }
    image.truncate(done);
    drop(ip);
    Ok(image)
}

/// `exec(path, args)` for the current process `p`, whose user frame is `frame`.
pub fn exec(p: &Proc, path: &str, args: &[String], frame: &mut TrapFrame) -> Result<(), Errno> {
    let cwd = p.cwd.lock().clone();
    let image = read_program(cwd.as_ref(), path);
    drop(cwd);
    let image = image?;
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut mm = AddressSpace::new()?;
    let mut new_frame = TrapFrame::default();
    load(&mut mm, &image, &arg_refs, &mut new_frame)?;
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
    let name = base_name(path);
    p.identity.lock().name = String::from(name);
    if crate::cmdline::test_mode() && crate::cmdline::value("run") == Some(name) {
        p.is_test_program
            .store(true, core::sync::atomic::Ordering::Relaxed);
    }
    Ok(())
}

//! `kstats` (number 45; see `berth_abi::syscall`): kernel-wide counters
//! for leak checks after a stress run. The host's only: inside a
//! container they would tell of the whole machine.

use berth_abi::errno::Errno;
use berth_abi::syscall::KernelStats;

use super::Ctx;
use crate::mm::user::UserPtr;

pub fn kstats(ctx: &mut Ctx, out: UserPtr<KernelStats>) -> Result<i64, Errno> {
    if !ctx.proc.on_host() {
        return Err(Errno::EPERM);
    }
    let stats = gather();
    super::proc::with_mm(ctx, |mm| mm.write(out, &stats))?;
    Ok(0)
}

fn gather() -> KernelStats {
    let (heap_used, heap_size) = crate::mm::heap::usage();
    let containers = crate::container::all();
    let pages_charged = containers.iter().map(|c| c.mem.pages()).sum::<u64>()
        + crate::container::host().mem.pages();
    KernelStats {
        frames_total: crate::mm::usable_bytes() / 4096,
        frames_free: crate::mm::free_frames(),
        pages_committed: crate::mm::committed(),
        pages_charged,
        heap_used: heap_used as u64,
        heap_size: heap_size as u64,
        procs: crate::proc::table::PROCS.live() as u32,
        containers: containers.len() as u32,
        inodes_cached: crate::file::mount::root_fs().map_or(0, |fs| fs.inodes_referenced() as u32),
        _pad: 0,
        tlb_shootdowns: crate::arch::x86_64::tlb::shootdowns(),
    }
}

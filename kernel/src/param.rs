//! Kernel-wide constants, with their units (xv6's `param.h`).

/// Most CPUs berth runs on (QEMU `-smp` beyond this is refused at boot).
pub const MAX_CPUS: usize = 8;
/// Scheduler/timer ticks per second (xv6: 100 Hz; `sleep` and `uptime` count these).
pub const TICKS_PER_SEC: u64 = 100;
/// Pages in each kernel stack (per CPU boot stack, IST stacks, per process).
pub const KSTACK_PAGES: u64 = 8;
/// Most RAM regions kept from the firmware memory map.
pub const MAX_MEMORY_REGIONS: usize = 64;
/// Smallest kernel heap, in bytes.
pub const HEAP_MIN_BYTES: u64 = 4 << 20;
/// Largest kernel heap, in bytes (the rest of RAM stays in the frame allocator).
pub const HEAP_MAX_BYTES: u64 = 64 << 20;
/// Kernel version printed in the banner.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// In-memory inode table entries of the root file system (xv6's NINODE).
pub const NINODE: usize = 2048;
/// Process slots containers together may never take: the host can always fork.
pub const HOST_RESERVED_PROCS: usize = 64;
/// Files one container's processes may hold open at once (its file table):
/// a quarter of the inode table, so no one container can fill it for the host.
pub const CONTAINER_MAX_FILES: usize = NINODE / 4;

//! Raw system calls: one stub per entry of `berth_abi::for_each_syscall!`.
//!
//! Each stub puts the call's number in `rax` and its arguments in `rdi, rsi,
//! rdx, r10, r8, r9`, executes `syscall`, and returns `rax` untouched: a
//! negative value is `-errno`. The stubs are generated from the same table
//! as the kernel's dispatcher and the C stubs (`tools/usys`), so a call
//! cannot be missing or numbered differently here. [`result`] turns a
//! return value into `Result`; the safe wrappers live in
//! [`crate::process`] and [`crate::fd`].

use berth_abi::errno::Errno;
pub use berth_abi::syscall::nr;

/// A value that travels in one 64-bit argument register.
pub trait Reg {
    /// The register's contents.
    fn reg(self) -> u64;
}

impl Reg for i32 {
    /// Sign-extended, as C compilers pass an `int` (the kernel reads only the low 32 bits).
    fn reg(self) -> u64 {
        i64::from(self) as u64
    }
}

impl Reg for u32 {
    fn reg(self) -> u64 {
        u64::from(self)
    }
}

impl Reg for u64 {
    fn reg(self) -> u64 {
        self
    }
}

impl Reg for usize {
    fn reg(self) -> u64 {
        self as u64
    }
}

impl Reg for isize {
    fn reg(self) -> u64 {
        self as u64
    }
}

impl<T> Reg for *const T {
    fn reg(self) -> u64 {
        self as usize as u64
    }
}

impl<T> Reg for *mut T {
    fn reg(self) -> u64 {
        self as usize as u64
    }
}

/// Executes system call `nr` with six argument registers.
///
/// # Safety
/// The kernel reads and writes user memory through pointer arguments: any
/// memory it writes must be memory Rust lets this caller mutate, and the
/// call must make sense for the process (for example `exec` replaces it).
#[inline(always)]
pub unsafe fn syscall6(nr: u64, a: [u64; 6]) -> i64 {
    let ret: i64;
    // SAFETY: the `syscall` instruction enters the kernel, which preserves
    // every register but rax (the result), rcx and r11 (clobbered by the
    // instruction itself); the argument registers are declared clobbered
    // anyway so the stubs do not depend on the kernel restoring them.
    // Memory effects are the caller's contract (see `# Safety`).
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") nr => ret,
            inlateout("rdi") a[0] => _,
            inlateout("rsi") a[1] => _,
            inlateout("rdx") a[2] => _,
            inlateout("r10") a[3] => _,
            inlateout("r8") a[4] => _,
            inlateout("r9") a[5] => _,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// Executes system call `nr` with up to six arguments (missing ones are 0).
///
/// # Safety
/// As for [`syscall6`].
#[inline(always)]
pub unsafe fn syscall(nr: u64, args: &[u64]) -> i64 {
    let mut a = [0u64; 6];
    a[..args.len()].copy_from_slice(args);
    // SAFETY: forwarded from the caller.
    unsafe { syscall6(nr, a) }
}

macro_rules! stubs {
    ($($num:literal $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(
            #[doc = concat!("`", stringify!($name), "` (system call ", stringify!($num),
                "): the kernel's raw return value, `-errno` on failure.")]
            ///
            /// # Safety
            /// Pointer arguments are handed to the kernel as they are: memory
            /// the kernel writes must be memory this caller may mutate (the
            /// kernel itself rejects bad addresses with `-EFAULT`).
            #[inline(always)]
            pub unsafe fn $name($($arg: $ty),*) -> $ret {
                let regs: &[u64] = &[$(Reg::reg($arg)),*];
                // SAFETY: forwarded from the caller.
                unsafe { syscall(nr::$name as u64, regs) }
            }
        )*
    };
}
berth_abi::for_each_syscall!(stubs);

/// Turns a raw return value into `Ok(value)` or `Err(errno)`. A negative
/// value that is no known errno (a kernel bug) reads as `EIO`.
pub fn result(ret: i64) -> Result<u64, Errno> {
    if ret >= 0 {
        Ok(ret as u64)
    } else {
        Err(Errno::from_return(ret).unwrap_or(Errno::EIO))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_decode_errno() {
        assert_eq!(result(0), Ok(0));
        assert_eq!(result(0x40_0000), Ok(0x40_0000));
        assert_eq!(result(-14), Err(Errno::EFAULT));
        assert_eq!(result(-38), Err(Errno::ENOSYS));
        assert_eq!(result(-6), Err(Errno::EIO), "6 is no errno berth uses");
        assert_eq!(result(i64::MIN), Err(Errno::EIO));
    }

    #[test]
    fn registers_carry_c_values() {
        assert_eq!((-1i32).reg(), u64::MAX);
        assert_eq!(7i32.reg(), 7);
        assert_eq!(u32::MAX.reg(), 0xffff_ffff);
        assert_eq!((-2isize).reg(), u64::MAX - 1);
        assert_eq!((0x1234 as *const u8).reg(), 0x1234);
    }
}

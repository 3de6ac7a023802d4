//! Argument decoding: from a register to the type the ABI table declares.
//!
//! The dispatcher (`mod.rs`) decodes each argument with the type written
//! in `berth_abi::for_each_syscall!` and passes it to the handler as that
//! type, so a handler's signature must match the table (it does not compile
//! otherwise) and no handler touches a raw register: it cannot read
//! argument 2 as the wrong type, or a pointer as a number.
//!
//! The C types map as C's calling convention has them: an `int` or
//! `unsigned` is the low 32 bits of its register (the upper half is the
//! caller's junk), 64-bit integers the whole register, and a pointer
//! becomes a [`UserPtr`] to the kernel's view of the pointee (a
//! `const char *const *` is a `UserPtr<UserPtr<u8>>`). `const` and `mut`
//! pointers decode alike: the address space checks the page rights of
//! each copy.

use berth_abi::container::{ContainerInfo, ContainerSpec};
use berth_abi::stat::Stat;
use berth_abi::syscall::{KernelStats, ProcInfo};

use crate::mm::user::UserPtr;

/// A type an argument is declared with in the ABI table.
pub trait Arg {
    /// What the handler gets.
    type Kernel;
    /// The argument from its 64-bit register.
    fn decode(reg: u64) -> Self::Kernel;
}

/// Integer arguments: `$t` from its register by `$decode`.
macro_rules! integer_args {
    ($($t:ty => $decode:expr;)*) => {$(
        impl Arg for $t {
            type Kernel = $t;
            fn decode(reg: u64) -> $t {
                let decode: fn(u64) -> $t = $decode;
                decode(reg)
            }
        }
    )*};
}
integer_args! {
    // C `int` / `unsigned`: the low half (the upper one is the caller's junk).
    i32 => |r| r as u32 as i32;
    u32 => |r| r as u32;
    u64 => |r| r;
    usize => |r| r as usize;
    isize => |r| r as i64 as isize;
}

/// A type a pointer argument points at, and the kernel's name for it.
pub trait Pointee {
    type Kernel;
}

macro_rules! plain_pointees {
    ($($t:ty),*) => {$(
        impl Pointee for $t {
            type Kernel = $t;
        }
    )*};
}
plain_pointees!(
    u8,
    i32,
    Stat,
    ProcInfo,
    ContainerSpec,
    ContainerInfo,
    KernelStats
);

impl<T: Pointee> Pointee for *const T {
    type Kernel = UserPtr<T::Kernel>;
}

impl<T: Pointee> Arg for *const T {
    type Kernel = UserPtr<T::Kernel>;
    fn decode(reg: u64) -> Self::Kernel {
        UserPtr::new(reg)
    }
}

impl<T: Pointee> Arg for *mut T {
    type Kernel = UserPtr<T::Kernel>;
    fn decode(reg: u64) -> Self::Kernel {
        UserPtr::new(reg)
    }
}

//! Plain old data: the marker for the ABI's `#[repr(C)]` structures, and
//! their bytes.
//!
//! A [`Pod`] type is `#[repr(C)]`, has no padding and only fields that are
//! themselves plain data (integers, and arrays and structures of them), so
//! every byte of a value is initialised and every bit pattern is a valid
//! value. That is what lets the kernel copy a whole structure out to user
//! memory as its bytes ([`bytes_of`]) and copy one in from arbitrary user
//! bytes ([`bytes_of_mut`]) without decoding it field by field, and lets
//! user programs and host tools read the same structures directly.
//!
//! Structures get the marker only through [`pod!`], which writes the
//! `#[repr(C)]` itself and checks at compile time that the size is the sum
//! of the field sizes (no padding anywhere: a hole must be named as a
//! `_pad` field) and that every field is [`Pod`]. The `unsafe impl` in that
//! macro, the primitive impls below and the two byte views are the crate's
//! only `unsafe` code.
//!
//! ```compile_fail
//! berth_abi::pod! {
//!     /// Four bytes of padding after `a`: refused.
//!     pub struct Padded { pub a: u32, pub b: u64 }
//! }
//! ```
//!
//! ```compile_fail
//! berth_abi::pod! {
//!     /// A `bool` has invalid bit patterns: refused.
//!     pub struct Flag { pub on: bool }
//! }
//! ```

// The byte views are the machine's byte order; the ABI is x86_64's.
#[cfg(not(target_endian = "little"))]
compile_error!("berth's ABI structures are little-endian (x86_64)");

/// Plain old data: `#[repr(C)]` (or a primitive), no padding, every bit
/// pattern valid.
///
/// # Safety
/// Implement only through [`pod!`] (or for a primitive integer or an
/// array of `Pod`): the byte views in this module rely on every byte being
/// initialised and every bit pattern being a value.
pub unsafe trait Pod: Copy + 'static {}

macro_rules! primitive_pod {
    ($($t:ty),*) => {$(
        // SAFETY: an integer has no padding and every bit pattern is a value.
        unsafe impl Pod for $t {}
    )*};
}
primitive_pod!(u8, u16, u32, u64, i8, i16, i32, i64, usize, isize);

// SAFETY: an array of plain data is its elements back to back (an element's
// size is a multiple of its alignment, so there is no padding between them).
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

/// Whether a `#[repr(C)]` structure of `size` bytes whose fields take
/// `field_sizes` bytes has no padding (what [`pod!`] asserts).
pub const fn padding_free(size: usize, field_sizes: &[usize]) -> bool {
    let mut sum = 0;
    let mut i = 0;
    while i < field_sizes.len() {
        sum += field_sizes[i];
        i += 1;
    }
    sum == size
}

/// Compile-time check that `T` is [`Pod`] (used by [`pod!`] on each field).
pub const fn assert_pod<T: Pod>() {}

/// The bytes of a plain-data value.
pub fn bytes_of<T: Pod>(v: &T) -> &[u8] {
    // SAFETY: `T: Pod` has no padding, so all `size_of::<T>()` bytes behind
    // the reference are initialised; the slice borrows `v`.
    unsafe { core::slice::from_raw_parts((v as *const T).cast::<u8>(), core::mem::size_of::<T>()) }
}

/// The bytes of a plain-data value, for filling it in place (any bytes
/// written make a valid `T`).
pub fn bytes_of_mut<T: Pod>(v: &mut T) -> &mut [u8] {
    // SAFETY: as in `bytes_of`, and every bit pattern is a valid `T`, so
    // whatever is written through the slice leaves `v` a value.
    unsafe {
        core::slice::from_raw_parts_mut((v as *mut T).cast::<u8>(), core::mem::size_of::<T>())
    }
}

/// The bytes of a slice of plain-data values, back to back.
pub fn slice_bytes<T: Pod>(v: &[T]) -> &[u8] {
    // SAFETY: a slice of `T` is `len` values with no gaps between them
    // (size is a multiple of alignment) and none inside them (`Pod`).
    unsafe { core::slice::from_raw_parts(v.as_ptr().cast::<u8>(), core::mem::size_of_val(v)) }
}

/// A value read from the first `size_of::<T>()` bytes of `bytes`
/// (`None` when there are fewer).
pub fn from_bytes<T: Pod + Default>(bytes: &[u8]) -> Option<T> {
    let mut v = T::default();
    let n = core::mem::size_of::<T>();
    bytes_of_mut(&mut v).copy_from_slice(bytes.get(..n)?);
    Some(v)
}

/// Defines `#[repr(C)]` structures of the ABI as [`Pod`]: the attributes
/// and fields are written as usual, without `#[repr(C)]`; the macro adds
/// it and refuses (at compile time) padding or a field that is not plain
/// data.
#[macro_export]
macro_rules! pod {
    ($(
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty ),* $(,)?
        }
    )*) => {$(
        $(#[$meta])*
        #[repr(C)]
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field : $fty ),*
        }

        const _: () = {
            assert!(
                $crate::pod::padding_free(
                    ::core::mem::size_of::<$name>(),
                    &[$(::core::mem::size_of::<$fty>()),*],
                ),
                concat!(stringify!($name), " has padding: name each hole as a `_pad` field"),
            );
            $($crate::pod::assert_pod::<$fty>();)*
        };

        // SAFETY: `#[repr(C)]`, no padding and every field `Pod`, all
        // checked at compile time just above.
        unsafe impl $crate::pod::Pod for $name {}
    )*};
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::{ContainerInfo, ContainerSpec};
    use crate::stat::Stat;
    use crate::syscall::{KernelStats, ProcInfo};

    #[test]
    fn padding_is_detected() {
        #[allow(dead_code)]
        #[repr(C)]
        struct Padded {
            a: u32,
            b: u64,
        }
        assert!(!padding_free(core::mem::size_of::<Padded>(), &[4, 8]));
        assert!(padding_free(16, &[4, 4, 8]));
        assert!(padding_free(0, &[]));
    }

    #[test]
    fn stat_bytes_are_the_c_layout() {
        let st = Stat {
            dev: 1,
            ino: 0x0203_0405,
            kind: 2,
            nlink: -1,
            _pad: 0,
            size: 0x1122_3344_5566_7788,
        };
        let b = bytes_of(&st);
        assert_eq!(b.len(), 24);
        assert_eq!(&b[0..4], &1i32.to_le_bytes());
        assert_eq!(&b[4..8], &0x0203_0405u32.to_le_bytes());
        assert_eq!(&b[8..10], &2i16.to_le_bytes());
        assert_eq!(&b[10..12], &(-1i16).to_le_bytes());
        assert_eq!(&b[12..16], &[0; 4]);
        assert_eq!(&b[16..24], &0x1122_3344_5566_7788u64.to_le_bytes());
    }

    #[test]
    fn values_round_trip_through_their_bytes() {
        let mut info = ProcInfo {
            pid: 7,
            ppid: 1,
            cycles: u64::MAX - 3,
            ..ProcInfo::default()
        };
        info.name[..4].copy_from_slice(b"init");
        let back: ProcInfo = from_bytes(bytes_of(&info)).unwrap();
        assert_eq!(back, info);

        let spec = ContainerSpec {
            id: 3,
            max_pages: 99,
            deny: [1, 1 << 63],
            ..ContainerSpec::default()
        };
        assert_eq!(from_bytes::<ContainerSpec>(bytes_of(&spec)), Some(spec));
        assert_eq!(from_bytes::<ContainerSpec>(&[0; 55]), None);

        // Any bytes make a value (a copy-in from user memory cannot fail).
        let noise = noise();
        let s: KernelStats = from_bytes(&noise).unwrap();
        assert_eq!(bytes_of(&s), &noise[..72]);
    }

    #[test]
    fn slices_are_their_elements_back_to_back() {
        let rows = [
            ContainerInfo::default(),
            ContainerInfo {
                id: 2,
                ..ContainerInfo::default()
            },
        ];
        let b = slice_bytes(&rows);
        assert_eq!(b.len(), 2 * 392);
        assert_eq!(&b[392..396], &2i32.to_le_bytes());
        let mut v = 0u64;
        bytes_of_mut(&mut v).copy_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0x80]);
        assert_eq!(v, 0x8000_0000_0000_0001);
    }

    /// A fixed pseudo-random byte pattern (xorshift; the crate is `no_std`).
    fn noise() -> [u8; 128] {
        let mut b = [0u8; 128];
        let mut x = 0x9e37_79b9u32;
        for v in &mut b {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *v = x as u8;
        }
        b
    }
}

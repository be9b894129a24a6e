//! Byte views of plain data: how the kernel turns ABI structs into the
//! bytes a user copy moves, and back, without `unsafe` outside the shim.

use abi::types::{Iovec, Stat, Termios, Timespec, Utsname, Winsize};

/// Types whose every byte is initialized data and for which every byte
/// pattern is a valid value: integers, and `repr(C)` ABI structs made of
/// them with no implicit padding.
///
/// # Safety
/// Implement only for such types.
pub unsafe trait Plain: Copy + 'static {}

macro_rules! plain {
    ($($type:ty),*) => {
        // SAFETY: integers, and ABI structs of integers and byte arrays
        // laid out `repr(C)` with explicit padding fields (their layouts
        // are checked against libc in the abi crate's tests).
        $(unsafe impl Plain for $type {})*
    };
}

plain!(u8, u16, u32, u64, i32, i64, [u8; 16], Stat, Timespec, Iovec, Termios, Winsize, Utsname);

/// The bytes of `value`.
pub fn of<T: Plain>(value: &T) -> &[u8] {
    // SAFETY: `T: Plain` has no uninitialized bytes; the slice covers
    // exactly the value and borrows it.
    unsafe { core::slice::from_raw_parts((value as *const T).cast::<u8>(), size_of::<T>()) }
}

/// The bytes of `value`, writable (any bytes make a valid `T`).
pub fn of_mut<T: Plain>(value: &mut T) -> &mut [u8] {
    // SAFETY: as in `of`, and `T: Plain` is valid for every byte pattern.
    unsafe { core::slice::from_raw_parts_mut((value as *mut T).cast::<u8>(), size_of::<T>()) }
}

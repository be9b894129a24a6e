//! The declarative system call table.
//!
//! Each subject module declares its calls with [`syscalls!`], one line per
//! number (`READ => |c| read(c, ...)`). [`gather`] folds those lines into
//! an array indexed by number when the kernel is compiled: a number no
//! line names has no handler and is `ENOSYS` by construction, and a number
//! named twice, or one beyond the array, fails the build.

use fs::KResult;

use super::Ctx;

/// A system call handler: reads its arguments from the context.
pub(super) type Handler = fn(&mut Ctx<'_>) -> KResult<u64>;

/// One table line: a system call number and its handler.
pub(super) type Line = (u64, Handler);

/// Numbers the table can hold (Linux x86_64 uses fewer than 512).
pub(super) const SIZE: usize = 512;

/// Declares a subject's table lines as `pub(super) const TABLE`.
macro_rules! syscalls {
    ($($number:ident => $handler:expr,)*) => {
        /// This subject's system calls, one line each.
        pub(super) const TABLE: &[super::table::Line] = &[$((abi::nr::$number, $handler),)*];
    };
}
pub(super) use syscalls;

/// The handlers of every subject's lines, indexed by number.
pub(super) const fn gather(subjects: &[&[Line]]) -> [Option<Handler>; SIZE] {
    let mut table: [Option<Handler>; SIZE] = [None; SIZE];
    let mut s = 0;
    while s < subjects.len() {
        let mut l = 0;
        while l < subjects[s].len() {
            let (number, handler) = subjects[s][l];
            assert!((number as usize) < SIZE, "a system call number beyond the table");
            assert!(table[number as usize].is_none(), "a system call number with two handlers");
            table[number as usize] = Some(handler);
            l += 1;
        }
        s += 1;
    }
    table
}

//! Futexes (`FUTEX_WAIT`/`FUTEX_WAKE` and the requeue, wake-op and bitset
//! variants): how threads sleep on a word of their shared memory. A futex is keyed by its process and address; a
//! wake bumps its sequence number, so a waiter that checked the word just
//! before a wake still sees it (a wake may end more waits than asked: the
//! callers re-check their word, as futex users must anyway).

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use abi::errno::{EAGAIN, EFAULT, EINTR, ENOSYS, ETIMEDOUT};
use abi::flags::futex::FUTEX_OP_OPARG_SHIFT;
use fs::KResult;
use runtime::sync::{SpinLock, WaitQueue};

use crate::process::Process;
use crate::uaccess;

/// One futex word's waiters.
#[derive(Default)]
struct Futex {
    waiters: WaitQueue,
    wakes: AtomicU64,
}

/// Futexes with waiters (or recently woken), by (process, address).
static FUTEXES: SpinLock<BTreeMap<(usize, u64), Arc<Futex>>> = SpinLock::new(BTreeMap::new());

fn key(process: &Process, addr: u64) -> (usize, u64) {
    (process as *const Process as usize, addr)
}

/// `FUTEX_WAIT`: sleeps while the word at `addr` holds `expected`, until a
/// wake, a signal (`EINTR`) or `deadline_ns` (`ETIMEDOUT`); `EAGAIN` if
/// the word already differs.
pub fn wait(process: &Process, addr: u64, expected: u32, deadline_ns: u64) -> KResult<u64> {
    let futex = Arc::clone(FUTEXES.lock().entry(key(process, addr)).or_default());
    let seen = futex.wakes.load(Ordering::Acquire);
    let word: u32 = uaccess::read_value(process, addr)?;
    let result = if word != expected {
        Err(EAGAIN)
    } else {
        match futex
            .waiters
            .wait_interruptible_until(deadline_ns, || (futex.wakes.load(Ordering::Acquire) != seen).then_some(()))
        {
            Ok(Some(())) => Ok(0),
            Ok(None) => Err(ETIMEDOUT),
            Err(_) => Err(EINTR),
        }
    };
    forget_if_idle(process, addr, &futex);
    result
}

/// `FUTEX_REQUEUE` and `FUTEX_CMP_REQUEUE` (with `expected`, checked
/// first: `EAGAIN` if the word at `addr` differs): wake `count` waiters of
/// `addr` and move up to `requeue` others to wait on `target`. Here every
/// waiter of `addr` is woken instead of being moved: a futex waiter must
/// expect a spurious wake-up anyway (it re-checks its word and waits
/// again, on whichever word it now needs), so this is correct, only less
/// economical than Linux's queue move. Returns the waiters woken (with
/// `expected`: woken and "requeued", i.e. all).
pub fn requeue(process: &Process, addr: u64, count: u32, requeue: u32, expected: Option<u32>) -> KResult<u64> {
    if let Some(expected) = expected {
        let word: u32 = uaccess::read_value(process, addr)?;
        if word != expected {
            return Err(EAGAIN);
        }
    }
    let woken = wake(process, addr, u32::MAX);
    let reported =
        if expected.is_some() { u64::from(count).saturating_add(u64::from(requeue)) } else { u64::from(count) };
    Ok(woken.min(reported))
}

/// `FUTEX_WAKE`: wakes up to `count` waiters on `addr`; returns how many
/// were waiting (at most `count`).
pub fn wake(process: &Process, addr: u64, count: u32) -> u64 {
    let Some(futex) = FUTEXES.lock().get(&key(process, addr)).cloned() else { return 0 };
    futex.wakes.fetch_add(1, Ordering::Release);
    let waiting = futex.waiters.len().min(count as usize);
    futex.waiters.wake_all();
    waiting as u64
}

/// `FUTEX_WAKE_OP`: changes the word at `addr2` by `op` (atomically
/// against the process's other threads), wakes up to `count` waiters of
/// `addr` and, if the word's old value passes `op`'s comparison, up to
/// `count2` of `addr2`; returns how many it woke.
pub fn wake_op(process: &Process, addr: u64, count: u32, addr2: u64, count2: u32, op: WakeOp) -> KResult<u64> {
    uaccess::check_writable(process, addr2, 4)?;
    let old = update_word(addr2, |value| op.apply(value))?;
    let mut woken = wake(process, addr, count);
    if op.compares_true(old) {
        woken += wake(process, addr2, count2);
    }
    Ok(woken)
}

/// Tries this many times to change a word other threads keep changing,
/// then gives up with `EAGAIN` (Linux loops without bound).
const UPDATE_TRIES: u32 = 1000;

/// Replaces the user word at `addr` (present and writable) with
/// `f(old)`, atomically; returns the old value.
fn update_word(addr: u64, f: impl Fn(u32) -> u32) -> KResult<u32> {
    let mut old = shim::mem::usercopy::compare_exchange_user_u32(addr, 0, 0).map_err(|_| EFAULT)?;
    for _ in 0..UPDATE_TRIES {
        match shim::mem::usercopy::compare_exchange_user_u32(addr, old, f(old)) {
            Ok(seen) if seen == old => return Ok(old),
            Ok(seen) => old = seen,
            Err(_) => return Err(EFAULT),
        }
    }
    Err(EAGAIN)
}

/// A `FUTEX_WAKE_OP` operation, decoded from the call's last argument:
/// an operation and its operand on the second word, and a comparison of
/// its old value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WakeOp {
    op: u32,
    oparg: u32,
    cmp: u32,
    cmparg: i32,
}

impl WakeOp {
    /// Decodes Linux's encoding (`FUTEX_OP(op, oparg, cmp, cmparg)`):
    /// `ENOSYS` for an unknown operation or comparison, as Linux.
    pub fn decode(encoded: u32) -> KResult<WakeOp> {
        let (op, cmp) = (encoded >> 28, (encoded >> 24) & 0xf);
        // 12-bit signed fields.
        let signed = |bits: u32| ((bits << 20) as i32) >> 20;
        let mut oparg = signed((encoded >> 12) & 0xfff) as u32;
        if op & FUTEX_OP_OPARG_SHIFT != 0 {
            oparg = 1 << (oparg & 31);
        }
        let op = op & !FUTEX_OP_OPARG_SHIFT;
        if op > 4 || cmp > 5 {
            return Err(ENOSYS);
        }
        Ok(WakeOp { op, oparg, cmp, cmparg: signed(encoded & 0xfff) })
    }

    /// The new value of a word that held `old`: set, add, or, and-not, xor.
    fn apply(self, old: u32) -> u32 {
        match self.op {
            0 => self.oparg,
            1 => old.wrapping_add(self.oparg),
            2 => old | self.oparg,
            3 => old & !self.oparg,
            _ => old ^ self.oparg,
        }
    }

    /// Whether `old` (as a signed word) compares true: ==, !=, <, <=, >, >=.
    fn compares_true(self, old: u32) -> bool {
        let (old, arg) = (old as i32, self.cmparg);
        match self.cmp {
            0 => old == arg,
            1 => old != arg,
            2 => old < arg,
            3 => old <= arg,
            4 => old > arg,
            _ => old >= arg,
        }
    }
}

fn forget_if_idle(process: &Process, addr: u64, futex: &Arc<Futex>) {
    let mut futexes = FUTEXES.lock();
    // Ours and the map's are the only references: nobody else waits.
    if Arc::strong_count(futex) == 2 && futex.waiters.is_empty() {
        futexes.remove(&key(process, addr));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Linux's `FUTEX_OP(op, oparg, cmp, cmparg)`.
    fn encode(op: u32, oparg: i32, cmp: u32, cmparg: i32) -> u32 {
        ((op & 0xf) << 28) | ((cmp & 0xf) << 24) | (((oparg as u32) & 0xfff) << 12) | ((cmparg as u32) & 0xfff)
    }

    #[test]
    fn wake_ops_decode_apply_and_compare() {
        // glibc's condition variable: set to 0, wake the second if it was > 1.
        let op = WakeOp::decode(encode(0, 0, 4, 1)).unwrap();
        assert_eq!((op.apply(5), op.compares_true(2), op.compares_true(1)), (0, true, false));
        let add = WakeOp::decode(encode(1, -1, 2, 0)).unwrap();
        assert_eq!((add.apply(5), add.compares_true(u32::MAX), add.compares_true(0)), (4, true, false));
        assert_eq!(WakeOp::decode(encode(2, 6, 0, 0)).unwrap().apply(1), 7);
        assert_eq!(WakeOp::decode(encode(3, 6, 0, 0)).unwrap().apply(7), 1);
        assert_eq!(WakeOp::decode(encode(4, 6, 0, 0)).unwrap().apply(3), 5);
        let shifted = WakeOp::decode(encode(2 | FUTEX_OP_OPARG_SHIFT, 4, 5, -2)).unwrap();
        assert_eq!((shifted.apply(1), shifted.compares_true(u32::MAX - 1)), (17, true));
        assert_eq!(WakeOp::decode(encode(5, 0, 0, 0)), Err(ENOSYS));
        assert_eq!(WakeOp::decode(encode(0, 0, 6, 0)), Err(ENOSYS));
    }
}

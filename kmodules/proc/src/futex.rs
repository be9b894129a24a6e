//! Futexes (`FUTEX_WAIT`/`FUTEX_WAKE`): how threads sleep on a word of
//! their shared memory. A futex is keyed by its process and address; a
//! wake bumps its sequence number, so a waiter that checked the word just
//! before a wake still sees it (a wake may end more waits than asked: the
//! callers re-check their word, as futex users must anyway).

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use abi::errno::{EAGAIN, EINTR, ETIMEDOUT};
use fs::KResult;
use runtime::sync::WaitQueue;

use crate::process::Process;
use crate::uaccess;

/// One futex word's waiters.
#[derive(Default)]
struct Futex {
    waiters: WaitQueue,
    wakes: AtomicU64,
}

/// Futexes with waiters (or recently woken), by (process, address).
static FUTEXES: spin::Mutex<BTreeMap<(usize, u64), Arc<Futex>>> = spin::Mutex::new(BTreeMap::new());

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

fn forget_if_idle(process: &Process, addr: u64, futex: &Arc<Futex>) {
    let mut futexes = FUTEXES.lock();
    // Ours and the map's are the only references: nobody else waits.
    if Arc::strong_count(futex) == 2 && futex.waiters.is_empty() {
        futexes.remove(&key(process, addr));
    }
}

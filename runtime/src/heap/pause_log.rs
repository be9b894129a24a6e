//! An optional log of every pause of every heap, for measurements that
//! need the whole distribution (the histogram in [`HeapStats`](super::HeapStats)
//! keeps only power-of-two buckets).
//!
//! Off unless the boot command line says `gc.log=<capacity>`: the first heap
//! created then reserves room for that many pauses, and every pause is
//! appended without allocating; pauses past the capacity are only counted.

use alloc::vec::Vec;

use shim::cmdline;

use super::stats::Pause;

/// One logged pause and the heap it belongs to.
#[derive(Clone, Copy, Debug)]
pub struct LoggedPause {
    /// The heap's name.
    pub heap: &'static str,
    /// The pause.
    pub pause: Pause,
}

/// The log: what it holds and what did not fit.
struct Log {
    entries: Vec<LoggedPause>,
    dropped: u64,
}

static LOG: spin::Mutex<Log> = spin::Mutex::new(Log { entries: Vec::new(), dropped: 0 });
static CONFIGURED: spin::Once = spin::Once::new();

/// Reserves the log's room if `gc.log` asks for one (once; called when a
/// heap is created, outside any scope and never in an interrupt handler).
pub(super) fn configure_from_cmdline() {
    CONFIGURED.call_once(|| {
        if let Some(capacity) = cmdline::get_u64("gc.log").filter(|&c| c > 0) {
            reserve(capacity as usize);
        }
    });
}

/// Turns the log on with room for at least `capacity` pauses in all (kept
/// ones included), if memory allows. Call outside heap scopes.
pub fn reserve(capacity: usize) {
    let kept = LOG.lock().entries.len();
    let mut entries = Vec::new();
    if entries.try_reserve_exact(capacity.max(kept)).is_err() {
        log::warn!("pause log: no memory for {capacity} pauses");
        return;
    }
    let mut log = LOG.lock();
    if entries.capacity() > log.entries.capacity() {
        entries.extend_from_slice(&log.entries[..log.entries.len().min(entries.capacity())]);
        log.entries = entries;
    }
}

/// Appends `pause` of heap `heap`, if the log is on and has room.
pub(super) fn record(heap: &'static str, pause: Pause) {
    let mut log = LOG.lock();
    if log.entries.capacity() == 0 {
        return;
    }
    if log.entries.len() < log.entries.capacity() {
        log.entries.push(LoggedPause { heap, pause });
    } else {
        log.dropped += 1;
    }
}

/// A copy of the logged pauses, oldest first, and how many did not fit.
pub fn snapshot() -> (Vec<LoggedPause>, u64) {
    let mut copy = Vec::new();
    // Sized outside the lock, so the log never waits on the allocator.
    let len = LOG.lock().entries.len();
    copy.reserve(len + 64);
    let log = LOG.lock();
    let kept = log.entries.len().min(copy.capacity());
    copy.extend_from_slice(&log.entries[..kept]);
    (copy, log.dropped)
}

//! User threads: what the kernel keeps of each (its goroutine's loop is
//! `run.rs`).

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use runtime::sched::Interrupter;

use runtime::sync::SpinLock;

use crate::process::Process;
use crate::sigstate::Signals;
use crate::thread_state::ThreadState;

/// A user thread.
pub struct Thread {
    /// Thread id (the pid for a process's first thread).
    pub tid: i32,
    /// The process it belongs to.
    pub process: Arc<Process>,
    /// Its pending signals and mask (the actions are the process's).
    pub signals: Signals,
    /// The rest of its state, in the process's heap.
    pub state: ThreadState,
    /// Interrupts its blocking waits (set when its goroutine starts).
    pub(crate) interrupter: spin::Once<Interrupter>,
    /// `set_tid_address`/`CLONE_CHILD_CLEARTID`: zeroed and futex-woken
    /// when the thread ends.
    pub clear_child_tid: SpinLock<u64>,
    /// `exit` (not `exit_group`) was called: only this thread ends.
    exit_requested: AtomicBool,
    /// The wait status `exit` gave (the process's if this thread is last).
    pub(crate) exit_status: AtomicI32,
}

impl Thread {
    /// A thread of `process` with id `tid` (not started).
    pub(crate) fn new(tid: i32, process: &Arc<Process>, signals: Signals, state: ThreadState) -> Arc<Thread> {
        Arc::new(Thread {
            tid,
            process: Arc::clone(process),
            signals,
            state,
            interrupter: spin::Once::new(),
            clear_child_tid: SpinLock::new(0),
            exit_requested: AtomicBool::new(false),
            exit_status: AtomicI32::new(0),
        })
    }

    /// Cuts the thread's current blocking wait short (a signal came).
    pub fn interrupt(&self) {
        if let Some(interrupter) = self.interrupter.get() {
            interrupter.interrupt();
        }
    }

    /// Ends this thread only (`exit`) with wait status `status`, at its
    /// next return towards user mode.
    pub fn request_exit(&self, status: i32) {
        self.exit_status.store(status, Ordering::Relaxed);
        self.exit_requested.store(true, Ordering::Relaxed);
        self.interrupt();
    }

    /// Whether the thread is on its way out.
    pub fn exiting(&self) -> bool {
        self.exit_requested.load(Ordering::Relaxed) || self.process.exiting()
    }
}

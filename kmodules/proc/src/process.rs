//! Processes: identity, family, resources, and the exit/wait life cycle.
//!
//! A process is what its threads share: memory, its private state (files,
//! working directory, signal actions, command line: a managed object in the
//! process's own heap, `private.rs`), family and exit status (each thread
//! is a goroutine, `thread.rs`). A process that exits becomes a
//! zombie holding only its wait status until its parent reaps it with
//! `wait4`; its children go to init (pid 1).

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use fs::{KResult, NodeRef, OpenFile};
use runtime::sync::{Mutex, WaitQueue};
use vm::Vm;

use crate::private::{Private, PrivateState};
use crate::signal::{Action, Signals};
use crate::thread::Thread;

/// Process id of init.
pub const INIT_PID: i32 = 1;

/// Where a process is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Life {
    /// Running (or runnable, or blocked).
    Alive,
    /// Told to exit with this wait status; its thread is on its way out.
    Exiting(i32),
    /// Exited with this wait status, waiting to be reaped.
    Zombie(i32),
}

/// A process.
pub struct Process {
    /// Process id (also its thread's id).
    pub pid: i32,
    /// Process group.
    pub pgid: AtomicI32,
    /// Session.
    pub sid: AtomicI32,
    /// The parent (init after the parent died).
    parent: spin::Mutex<Weak<Process>>,
    /// Children not yet reaped.
    children: spin::Mutex<Vec<Arc<Process>>>,
    /// Memory; `None` once the process has exited.
    pub vm: Mutex<Option<Vm>>,
    /// Files, working directory, signal actions, command line: in the
    /// process's own heap.
    private_state: PrivateState,
    /// File creation mask.
    pub umask: AtomicU32,
    /// Its threads (the first one's id is the pid).
    pub threads: spin::Mutex<Vec<Arc<Thread>>>,
    /// Life-cycle state.
    life: spin::Mutex<Life>,
    /// The parent waits here for children to change state.
    pub child_events: WaitQueue,
    /// A thread waits here for the others to end (`execve`).
    pub thread_ended: WaitQueue,
}

static TABLE: spin::Mutex<BTreeMap<i32, Weak<Process>>> = spin::Mutex::new(BTreeMap::new());
/// Threads by id (ids come from the same space as pids).
static THREADS: spin::Mutex<BTreeMap<i32, Weak<Thread>>> = spin::Mutex::new(BTreeMap::new());
static NEXT_PID: AtomicI32 = AtomicI32::new(INIT_PID);

/// Largest pid before wrap-around (Linux's default `pid_max`).
const PID_MAX: i32 = 32768;

fn allocate_pid(table: &BTreeMap<i32, Weak<Process>>) -> i32 {
    let threads = THREADS.lock();
    loop {
        let pid = NEXT_PID.fetch_add(1, Ordering::Relaxed);
        if pid >= PID_MAX {
            NEXT_PID.store(2, Ordering::Relaxed);
            continue;
        }
        if !table.contains_key(&pid) && !threads.contains_key(&pid) {
            return pid;
        }
    }
}

impl Process {
    /// A new process with the given resources, registered in the table,
    /// and its first thread (not started), with `signals`; `parent` is
    /// `None` for init.
    pub fn new(
        parent: Option<&Arc<Process>>,
        vm: Vm,
        private_state: PrivateState,
        signals: Signals,
    ) -> (Arc<Process>, Arc<Thread>) {
        let mut table = TABLE.lock();
        let pid = allocate_pid(&table);
        let (pgid, sid) = parent.map_or((pid, pid), |p| (p.pgid(), p.sid.load(Ordering::Relaxed)));
        let process = Arc::new(Process {
            pid,
            pgid: AtomicI32::new(pgid),
            sid: AtomicI32::new(sid),
            parent: spin::Mutex::new(parent.map_or_else(Weak::new, Arc::downgrade)),
            children: spin::Mutex::new(Vec::new()),
            vm: Mutex::new(Some(vm)),
            private_state,
            umask: AtomicU32::new(parent.map_or(0o022, |p| p.umask.load(Ordering::Relaxed))),
            threads: spin::Mutex::new(Vec::new()),
            life: spin::Mutex::new(Life::Alive),
            child_events: WaitQueue::new(),
            thread_ended: WaitQueue::new(),
        });
        table.insert(pid, Arc::downgrade(&process));
        let thread = Thread::new(pid, &process, signals);
        THREADS.lock().insert(pid, Arc::downgrade(&thread));
        drop(table);
        if let Some(parent) = parent {
            parent.children.lock().push(Arc::clone(&process));
        }
        (process, thread)
    }

    /// A new thread of this process (not started), with `signals`.
    pub fn new_thread(self: &Arc<Self>, signals: Signals) -> Arc<Thread> {
        let table = TABLE.lock();
        let tid = allocate_pid(&table);
        let thread = Thread::new(tid, self, signals);
        THREADS.lock().insert(tid, Arc::downgrade(&thread));
        thread
    }

    /// Runs `f` on the process's private state, in a scope of its heap:
    /// `f` must not block, open another heap scope or drop an open file
    /// (see `private.rs`).
    pub fn private<R>(&self, f: impl FnOnce(&mut Private) -> R) -> R {
        self.private_state.with(f)
    }

    /// The private state's handle (to fork it, or to take the files).
    pub fn private_state(&self) -> &PrivateState {
        &self.private_state
    }

    /// The open file of descriptor `fd`.
    pub fn file(&self, fd: i32) -> KResult<OpenFile> {
        self.private(|p| p.files.file(fd))
    }

    /// The working directory.
    pub fn cwd(&self) -> NodeRef {
        self.private(|p| p.cwd.clone())
    }

    /// Changes the working directory.
    pub fn set_cwd(&self, dir: NodeRef) {
        let old = self.private(|p| core::mem::replace(&mut p.cwd, dir));
        drop(old);
    }

    /// The action of signal `sig` (1 to `NSIG`).
    pub fn action(&self, sig: u32) -> Action {
        self.private(|p| p.actions[sig as usize - 1])
    }

    /// Sets the action of signal `sig`.
    pub fn set_action(&self, sig: u32, action: Action) {
        self.private(|p| p.actions[sig as usize - 1] = action);
    }

    /// The command line, NUL-separated.
    pub fn cmdline(&self) -> Vec<u8> {
        self.private(|p| p.cmdline.clone())
    }

    /// The process group id.
    pub fn pgid(&self) -> i32 {
        self.pgid.load(Ordering::Relaxed)
    }

    /// The parent's pid (0 for init).
    pub fn ppid(&self) -> i32 {
        self.parent.lock().upgrade().map_or(0, |p| p.pid)
    }

    /// The parent, if alive.
    pub fn parent(&self) -> Option<Arc<Process>> {
        self.parent.lock().upgrade()
    }

    /// Life-cycle state.
    pub fn life(&self) -> Life {
        *self.life.lock()
    }

    /// Cuts every thread's current blocking wait short.
    pub fn interrupt(&self) {
        for thread in self.threads.lock().iter() {
            thread.interrupt();
        }
    }

    /// Asks the process to exit with `status` (a wait status); the first
    /// request wins. Returns whether this call decided it.
    pub fn request_exit(&self, status: i32) -> bool {
        let mut life = self.life.lock();
        if *life != Life::Alive {
            return false;
        }
        *life = Life::Exiting(status);
        drop(life);
        self.interrupt();
        true
    }

    /// Whether an exit was requested.
    pub fn exiting(&self) -> bool {
        self.life() != Life::Alive
    }

    /// Becomes a zombie (called by the thread after freeing everything):
    /// children go to init, the parent gets SIGCHLD and a wake-up.
    pub fn become_zombie(self: &Arc<Self>) {
        let status = match self.life() {
            Life::Exiting(status) => status,
            other => panic!("process {} became a zombie from {other:?}", self.pid),
        };
        let orphans = core::mem::take(&mut *self.children.lock());
        if !orphans.is_empty() {
            let init = lookup(INIT_PID).filter(|init| init.pid != self.pid);
            if let Some(init) = init {
                for orphan in &orphans {
                    *orphan.parent.lock() = Arc::downgrade(&init);
                }
                init.children.lock().extend(orphans);
                init.child_events.wake_all();
            }
        }
        *self.life.lock() = Life::Zombie(status);
        if let Some(parent) = self.parent() {
            crate::signal::send(&parent, abi::flags::signal::SIGCHLD);
            parent.child_events.wake_all();
        }
    }

    /// Finds a reapable child matching `target` (wait4's pid argument):
    /// `Ok(Some((pid, status)))` reaped, `Ok(None)` matching children are
    /// all alive, `Err(())` no child matches at all (ECHILD).
    pub fn reap(&self, target: i32) -> Result<Option<(i32, i32)>, ()> {
        let mut children = self.children.lock();
        let matches = |child: &Arc<Process>| match target {
            -1 => true,
            0 => child.pgid() == self.pgid(),
            t if t > 0 => child.pid == t,
            t => child.pgid() == -t,
        };
        if !children.iter().any(matches) {
            return Err(());
        }
        let Some(index) = children.iter().position(|c| matches(c) && matches!(c.life(), Life::Zombie(_))) else {
            return Ok(None);
        };
        let child = children.swap_remove(index);
        drop(children);
        TABLE.lock().remove(&child.pid);
        let Life::Zombie(status) = child.life() else { unreachable!("checked above") };
        Ok(Some((child.pid, status)))
    }
}

/// Records that the calling goroutine runs `process` (until [`leave`]), as
/// its goroutine-local value.
pub fn enter(process: &Arc<Process>) {
    drop(runtime::sched::set_local(Some(Arc::clone(process) as runtime::sched::Local)));
}

/// The calling goroutine no longer runs a process.
pub fn leave() {
    drop(runtime::sched::set_local(None));
}

/// The process the calling goroutine runs, if it is a user thread.
pub fn current() -> Option<Arc<Process>> {
    runtime::sched::local()?.downcast::<Process>().ok()
}

/// The live thread with id `tid`.
pub fn thread(tid: i32) -> Option<Arc<Thread>> {
    THREADS.lock().get(&tid).and_then(Weak::upgrade)
}

/// Forgets a thread that has ended.
pub fn forget_thread(tid: i32) {
    THREADS.lock().remove(&tid);
}

/// The live (or zombie) process with id `pid`.
pub fn lookup(pid: i32) -> Option<Arc<Process>> {
    TABLE.lock().get(&pid).and_then(Weak::upgrade)
}

/// Every process, in pid order (for `kill(-1)`, process groups and `ps`).
pub fn all() -> Vec<Arc<Process>> {
    TABLE.lock().values().filter_map(Weak::upgrade).collect()
}

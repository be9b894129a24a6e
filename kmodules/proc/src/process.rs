//! Processes: identity, family, resources, and the exit/wait life cycle.
//!
//! A process is what its threads share: memory (its areas a managed
//! object of the process's own heap), its private state (files, working
//! directory, signal actions, command line: another object there,
//! `private.rs`), and its place in the process tree — ids, life, parent,
//! children, threads: a member object of the `proc` heap, `family.rs`.
//! The `Process` itself is the plain anchor that holds handles to these,
//! the address space and the wait queues (each thread is a goroutine,
//! `run.rs`). A process that exits becomes a zombie holding only its
//! wait status until its parent reaps it with `wait4`; its children go to
//! init (pid 1).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};

use fs::{KResult, NodeRef, OpenFile};
use runtime::heap::Handle;
use runtime::sync::{Mutex, WaitQueue};
use shim::user::UserRegs;
use vm::Vm;

use crate::creds::Creds;
use crate::family::{self, Member, MemberRoot, Reaped};
use crate::private::{Private, PrivateState};
use crate::sigstate::{Action, Signals};
use crate::thread::Thread;
use crate::thread_state::ThreadState;

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

/// A process: what its threads share, and the handle of its place in the
/// process tree (`family.rs`).
pub struct Process {
    /// Process id (also its first thread's id).
    pub pid: i32,
    /// Its ids, life, parent and children: in the `proc` heap.
    member: Handle<MemberRoot>,
    /// Memory; `None` once the process has exited.
    pub vm: Mutex<Option<Vm>>,
    /// Files, working directory, signal actions, command line: in the
    /// process's own heap.
    private_state: PrivateState,
    /// File creation mask.
    pub umask: AtomicU32,
    /// Whether the member's life has left `Alive` (set with it, in its
    /// scope): read on every return to user mode, without a scope.
    exiting: AtomicBool,
    /// The thread replacing the image (`execve`), 0 if none: the first
    /// claims it, a second one in the same process fails (it is being
    /// ended by the first).
    pub exec_owner: AtomicI32,
    /// The parent waits here for children to change state.
    pub child_events: WaitQueue,
    /// A thread waits here for the others to end (`execve`).
    pub thread_ended: WaitQueue,
}

impl Process {
    /// A new process with the given resources, in the process tree (a
    /// child of `parent`, or init if `None`), and its first thread (not
    /// started), with `signals`, to start at `regs`; `EAGAIN` if no pid is
    /// free.
    pub fn new(
        parent: Option<&Arc<Process>>,
        vm: Vm,
        private_state: PrivateState,
        signals: Signals,
        regs: UserRegs,
    ) -> KResult<(Arc<Process>, Arc<Thread>)> {
        let state = ThreadState::new(&private_state.heap(), regs)?;
        let (pid, member) = family::join(parent.map(|p| &p.member))?;
        if let Err(error) = family::enlist(&member, Some(pid)) {
            drop(family::leave(&member));
            return Err(error);
        }
        let process = Arc::new(Process {
            pid,
            member,
            vm: Mutex::new(Some(vm)),
            private_state,
            umask: AtomicU32::new(parent.map_or(0o022, |p| p.umask.load(Ordering::Relaxed))),
            exiting: AtomicBool::new(false),
            exec_owner: AtomicI32::new(0),
            child_events: WaitQueue::new(),
            thread_ended: WaitQueue::new(),
        });
        let thread = Thread::new(pid, &process, signals, state);
        family::adopt(&process.member, &process, &thread);
        Ok((process, thread))
    }

    /// A new thread of this process (not started), with `signals`, to
    /// start at `regs`.
    pub fn new_thread(self: &Arc<Self>, signals: Signals, regs: UserRegs) -> KResult<Arc<Thread>> {
        let state = ThreadState::new(&self.private_state.heap(), regs)?;
        let thread = Thread::new(family::enlist(&self.member, None)?, self, signals, state);
        family::attach(&thread);
        Ok(thread)
    }

    /// Runs `f` on the process's member of the tree, in a scope of its heap.
    fn member<T>(&self, f: impl FnOnce(&Member<'_>) -> T) -> T {
        self.member.with(|_, member| f(&member.borrow()))
    }

    /// Changes the process's member of the tree, in a scope of its heap.
    fn change_member<T>(&self, f: impl FnOnce(&mut Member<'_>) -> T) -> T {
        self.member.with(|s, member| f(&mut member.borrow_mut(s.mc())))
    }

    /// Runs `f` on the process's private state, in a scope of its heap:
    /// `f` must not block, open another heap scope or drop an open file
    /// (see `private.rs`).
    pub fn private<R>(&self, f: impl FnOnce(&mut Private) -> R) -> R {
        self.private_state.with(f)
    }

    /// The soft limit of `resource` (an `RLIMIT_*`).
    pub fn limit(&self, resource: u32) -> u64 {
        self.private(|p| p.limits.cur(resource))
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

    /// A snapshot of the credentials.
    pub fn creds(&self) -> Creds {
        self.private(|p| p.creds.clone())
    }

    /// Changes the credentials with `f`, in a scope of the process's heap
    /// (so the rules `f` applies see and change one consistent state): `f`
    /// must not block or open another scope.
    pub fn change_creds<R>(&self, f: impl FnOnce(&mut Creds) -> R) -> R {
        self.private(|p| f(&mut p.creds))
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
        self.member(|m| m.pgid)
    }

    /// The session id.
    pub fn sid(&self) -> i32 {
        self.member(|m| m.sid)
    }

    /// Moves the process to process group `pgid`.
    pub fn set_pgid(&self, pgid: i32) {
        self.change_member(|m| m.pgid = pgid);
    }

    /// `setsid`: a new session and group led by the process, unless it
    /// already leads a group (`EPERM`).
    pub fn new_session(&self) -> KResult<()> {
        self.change_member(|m| {
            if m.pgid == m.pid {
                return Err(abi::errno::EPERM);
            }
            (m.sid, m.pgid) = (m.pid, m.pid);
            Ok(())
        })
    }

    /// The parent's pid (0 for init).
    pub fn ppid(&self) -> i32 {
        self.member(|m| m.parent.map_or(0, |p| p.borrow().pid))
    }

    /// Its threads that have not ended (the first one's id is the pid).
    pub fn threads(&self) -> Vec<Arc<Thread>> {
        family::threads(&self.member)
    }

    /// How many threads it has that have not ended.
    pub fn thread_count(&self) -> usize {
        family::thread_count(&self.member)
    }

    /// Life-cycle state.
    pub fn life(&self) -> Life {
        self.member(|m| m.life)
    }

    /// Cuts every thread's current blocking wait short.
    pub fn interrupt(&self) {
        for thread in self.threads() {
            thread.interrupt();
        }
    }

    /// Asks the process to exit with `status` (a wait status); the first
    /// request wins. Returns whether this call decided it.
    pub fn request_exit(&self, status: i32) -> bool {
        let decided = self.change_member(|m| {
            let alive = m.life == Life::Alive;
            if alive {
                m.life = Life::Exiting(status);
                self.exiting.store(true, Ordering::Relaxed);
            }
            alive
        });
        if decided {
            self.interrupt();
        }
        decided
    }

    /// Whether an exit was requested.
    pub fn exiting(&self) -> bool {
        self.exiting.load(Ordering::Relaxed)
    }

    /// Becomes a zombie (called by the thread after freeing everything):
    /// children go to init. Returns the parent and, if it took children,
    /// init, for the caller to signal and wake (`exit::finish`).
    pub fn become_zombie(&self) -> (Option<Arc<Process>>, Option<Arc<Process>>) {
        let status = match self.life() {
            Life::Exiting(status) => status,
            other => panic!("process {} became a zombie from {other:?}", self.pid),
        };
        family::bury(&self.member, status)
    }

    /// Takes the process out of the tree without a trace (a child `fork`
    /// could not start); returns the tree's reference to it, for the
    /// caller to drop.
    pub fn leave_tree(&self) -> Option<Arc<Process>> {
        family::leave(&self.member)
    }

    /// Finds a reapable child matching `target` (wait4's pid argument):
    /// `Ok(Some((pid, status)))` reaped, `Ok(None)` matching children are
    /// all alive, `Err(())` no child matches at all (ECHILD).
    pub fn reap(&self, target: i32) -> Result<Option<(i32, i32)>, ()> {
        match family::reap(&self.member, target) {
            Reaped::NoChild => Err(()),
            Reaped::NoneDead => Ok(None),
            Reaped::Child(pid, status, process) => {
                drop(process);
                Ok(Some((pid, status)))
            }
        }
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
    family::with_table(|_, table| table.thread(tid))
}

/// Forgets a thread that has ended (or never started); returns how many
/// threads its process has left.
pub fn forget_thread(tid: i32) -> usize {
    family::forget_thread(tid)
}

/// The live (or zombie) process with id `pid`.
pub fn lookup(pid: i32) -> Option<Arc<Process>> {
    family::with_table(|_, table| table.member(pid).and_then(|m| m.borrow().process.clone()))
}

/// Every process, in pid order (for `kill(-1)` and `ps`).
pub fn all() -> Vec<Arc<Process>> {
    family::processes(|_| true)
}

/// The processes of group `pgid`.
pub fn group(pgid: i32) -> Vec<Arc<Process>> {
    family::processes(|m| m.pgid == pgid)
}

//! The process tree and the id space, as managed objects of the `proc`
//! heap (under `heaps=global`, the kernel heap).
//!
//! Each process has a [`Member`]: its ids, where it is in its life, its
//! parent and children, its threads' [`ThreadMember`]s (`Gc` pointers
//! both ways, parent and child, process and thread: the cycles are the
//! collector's business) and, until it is reaped, its [`Process`]. The
//! [`Table`] maps process ids to members and thread ids to thread members;
//! it is the heap's one long-lived root. A process holds a handle to its
//! member.
//! What the tree decides (a new id, a reparenting, a reap) happens in one
//! scope of the heap, so it is atomic; anything that blocks, signals or
//! drops a process happens after the scope (dropping a process may close
//! its files, which opens other heaps' scopes).

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::cell::RefCell;

use abi::errno::{EAGAIN, ENOMEM};
use fs::KResult;
use gc_arena::Collect;
use runtime::heap::{Gc, GcRefLock, Handle, Heap, RefLock, Rootable, Scope, layout};

use crate::process::{INIT_PID, Life, Process};
use crate::thread::Thread;

/// Largest pid before wrap-around (Linux's default `pid_max`).
const PID_MAX: i32 = 32768;

/// A process's place in the tree.
#[derive(Collect)]
#[collect(no_drop)]
pub(crate) struct Member<'gc> {
    /// Process id.
    pub pid: i32,
    /// Process group.
    pub pgid: i32,
    /// Session.
    pub sid: i32,
    /// Where the process is in its life.
    #[collect(require_static)]
    pub life: Life,
    /// `None` for init (orphans go to init).
    pub parent: Option<MemberPtr<'gc>>,
    /// Children not yet reaped.
    pub children: Vec<MemberPtr<'gc>>,
    /// Its threads that have not ended.
    threads: Vec<ThreadPtr<'gc>>,
    /// The process, from its creation until it is reaped. (A member in the
    /// table always holds its process, so the collector never drops one.)
    #[collect(require_static)]
    pub process: Option<Arc<Process>>,
}

/// A thread's place in its process.
#[derive(Collect)]
#[collect(no_drop)]
pub(crate) struct ThreadMember<'gc> {
    /// Its process's member.
    process: MemberPtr<'gc>,
    /// The thread, once it exists (a weak reference: the thread's goroutine
    /// owns it).
    #[collect(require_static)]
    thread: RefCell<Weak<Thread>>,
}

/// A member in a scope.
pub(crate) type MemberPtr<'gc> = GcRefLock<'gc, Member<'gc>>;
/// A thread member in a scope.
type ThreadPtr<'gc> = Gc<'gc, ThreadMember<'gc>>;
/// The rootable form of a member, for the process's handle.
pub(crate) type MemberRoot = Rootable![RefLock<Member<'_>>];

/// Every process and thread id in use.
#[derive(Collect, Default)]
#[collect(no_drop)]
pub(crate) struct Table<'gc> {
    processes: BTreeMap<i32, MemberPtr<'gc>>,
    /// Threads that have not ended (ids come from the same space as pids).
    threads: BTreeMap<i32, ThreadPtr<'gc>>,
    #[collect(require_static)]
    next_id: i32,
}

type TableRoot = Rootable![RefLock<Table<'_>>];

/// Room a member and its table entry take in the heap.
const MEMBER_BYTES: u64 = 256;

/// RAM per process or thread the system-wide limit allows (Linux's
/// `threads-max` allows one per 128 KiB; a task here also costs its
/// goroutine stack and its own heap).
const RAM_PER_TASK: usize = 256 << 10;

/// The system-wide limit on processes (zombies included) and threads:
/// `kernel.threads_max` on the command line, or one per [`RAM_PER_TASK`]
/// of RAM. A `fork` or `clone` past it is `EAGAIN`, so a fork bomb fills
/// the table, not the kernel's memory.
pub(crate) fn max_tasks() -> usize {
    static MAX: spin::Once<usize> = spin::Once::new();
    *MAX.call_once(|| match shim::cmdline::get_u64("kernel.threads_max") {
        Some(max) => max as usize,
        None => (shim::mem::frame::total_count() * 4096 / RAM_PER_TASK).max(64),
    })
}

static HEAP: spin::Once<Heap> = spin::Once::new();
static TABLE: spin::Once<Handle<TableRoot>> = spin::Once::new();

fn heap() -> &'static Heap {
    HEAP.call_once(|| layout::subsystem("proc"))
}

/// Runs `f` with the table, in a scope of the heap.
pub(crate) fn with_table<T>(f: impl for<'gc> FnOnce(&Scope<'_, 'gc>, &mut Table<'gc>) -> T) -> T {
    let table = TABLE.call_once(|| {
        heap().mutate(|s| {
            let table = s.alloc(RefLock::new(Table { next_id: INIT_PID, ..Table::default() }));
            s.stash::<TableRoot>(table.expect("room for the process table at boot"))
        })
    });
    table.with(|s, table| f(s, &mut table.borrow_mut(s.mc())))
}

impl<'gc> Table<'gc> {
    /// A free id for a process or thread; `EAGAIN` if all are taken or the
    /// system holds [`max_tasks`] processes and threads already.
    fn allocate_id(&mut self) -> KResult<i32> {
        if self.processes.len() + self.threads.len() >= max_tasks() {
            return Err(EAGAIN);
        }
        for _ in 0..PID_MAX {
            let id = self.next_id;
            self.next_id = if id + 1 >= PID_MAX { 2 } else { id + 1 };
            if !self.processes.contains_key(&id) && !self.threads.contains_key(&id) {
                return Ok(id);
            }
        }
        Err(EAGAIN)
    }

    /// The member with pid `pid`.
    pub fn member(&self, pid: i32) -> Option<MemberPtr<'gc>> {
        self.processes.get(&pid).copied()
    }

    /// Every member, in pid order.
    pub fn members(&self) -> impl Iterator<Item = MemberPtr<'gc>> + '_ {
        self.processes.values().copied()
    }

    /// The live thread with id `tid`.
    pub fn thread(&self, tid: i32) -> Option<Arc<Thread>> {
        self.threads.get(&tid).and_then(|t| t.thread.borrow().upgrade())
    }
}

/// A new member (alive, in `parent`'s group and session, or a group and
/// session of its own for init) with a fresh pid, in the table and its
/// parent's children; returns its pid and handle. Its process is added
/// with [`adopt`] once it exists. A parent on its way out (another of its
/// threads exited the process) gets `EAGAIN`: its children have gone, or
/// are about to go, to init.
pub(crate) fn join(parent: Option<&Handle<MemberRoot>>) -> KResult<(i32, Handle<MemberRoot>)> {
    with_table(|s, table| {
        s.reserve(MEMBER_BYTES).map_err(|_| ENOMEM)?;
        let pid = table.allocate_id()?;
        let parent = parent.map(|p| s.fetch(p));
        if parent.is_some_and(|p| p.borrow().life != Life::Alive) {
            return Err(EAGAIN);
        }
        let (pgid, sid) = parent.map_or((pid, pid), |p| (p.borrow().pgid, p.borrow().sid));
        let member = Member {
            pid,
            pgid,
            sid,
            life: Life::Alive,
            parent,
            children: Vec::new(),
            threads: Vec::new(),
            process: None,
        };
        let member = s.alloc(RefLock::new(member)).map_err(|_| ENOMEM)?;
        if let Some(parent) = parent {
            parent.borrow_mut(s.mc()).children.push(member);
        }
        table.processes.insert(pid, member);
        Ok((pid, s.stash::<MemberRoot>(member)))
    })
}

/// Gives member `member` its process and its first thread (enlisted with
/// the pid).
pub(crate) fn adopt(member: &Handle<MemberRoot>, process: &Arc<Process>, thread: &Arc<Thread>) {
    with_table(|s, table| {
        s.fetch(member).borrow_mut(s.mc()).process = Some(Arc::clone(process));
        attach_in(table, thread);
    });
}

/// A new thread member of member `member` with id `tid` (`None`: a fresh
/// id), its thread attached later with [`attach`]; returns the id.
/// `EAGAIN` if no id is free or a new thread's process is on its way out.
pub(crate) fn enlist(member: &Handle<MemberRoot>, tid: Option<i32>) -> KResult<i32> {
    with_table(|s, table| {
        s.reserve(MEMBER_BYTES).map_err(|_| ENOMEM)?;
        let process = s.fetch(member);
        if tid.is_none() && process.borrow().life != Life::Alive {
            return Err(EAGAIN);
        }
        let tid = match tid {
            Some(tid) => tid,
            None => table.allocate_id()?,
        };
        let thread = ThreadMember { process, thread: RefCell::new(Weak::new()) };
        let thread = s.alloc(thread).map_err(|_| ENOMEM)?;
        process.borrow_mut(s.mc()).threads.push(thread);
        table.threads.insert(tid, thread);
        Ok(tid)
    })
}

/// Attaches `thread` to the member [`enlist`] made for its id.
pub(crate) fn attach(thread: &Arc<Thread>) {
    with_table(|_, table| attach_in(table, thread));
}

fn attach_in(table: &Table<'_>, thread: &Arc<Thread>) {
    if let Some(member) = table.threads.get(&thread.tid) {
        // The empty weak reference it replaces owns no allocation.
        *member.thread.borrow_mut() = Arc::downgrade(thread);
    }
}

/// Forgets a thread that has ended (or never started); returns how many
/// threads its process has left.
pub(crate) fn forget_thread(tid: i32) -> usize {
    let (left, weak) = with_table(|s, table| {
        let Some(thread) = table.threads.remove(&tid) else { return (0, Weak::new()) };
        let mut process = thread.process.borrow_mut(s.mc());
        process.threads.retain(|&t| !Gc::ptr_eq(t, thread));
        (process.threads.len(), thread.thread.replace(Weak::new()))
    });
    // Dropped here, not by the collector: the last weak reference frees the
    // thread's allocation, which is plain memory.
    drop(weak);
    left
}

/// The threads of member `member` that have not ended, in creation order.
/// (The list is allocated outside the scope, like [`processes`].)
pub(crate) fn threads(member: &Handle<MemberRoot>) -> Vec<Arc<Thread>> {
    let mut list = Vec::with_capacity(thread_count(member));
    member.with(|_, member| {
        for thread in &member.borrow().threads {
            if list.len() < list.capacity() {
                list.extend(thread.thread.borrow().upgrade());
            }
        }
    });
    list
}

/// How many threads of member `member` have not ended.
pub(crate) fn thread_count(member: &Handle<MemberRoot>) -> usize {
    member.with(|_, member| member.borrow().threads.len())
}

/// The processes of the members `f` picks, in pid order. The list is
/// allocated outside the heap's scope (it is the caller's), so it holds
/// at most the processes there were just before.
pub(crate) fn processes(f: impl for<'gc> Fn(&Member<'gc>) -> bool) -> Vec<Arc<Process>> {
    let mut list = Vec::with_capacity(with_table(|_, table| table.processes.len()));
    with_table(|_, table| {
        for member in table.members() {
            let member = member.borrow();
            if list.len() < list.capacity() && f(&member) {
                list.extend(member.process.clone());
            }
        }
    });
    list
}

/// Makes member `member` a zombie with wait status `status`: its children
/// go to init. Returns its parent's process and init's (if it took
/// children), to signal and wake outside the scope.
pub(crate) fn bury(member: &Handle<MemberRoot>, status: i32) -> (Option<Arc<Process>>, Option<Arc<Process>>) {
    with_table(|s, table| {
        let me = s.fetch(member);
        let orphans = core::mem::take(&mut me.borrow_mut(s.mc()).children);
        let init = table.member(INIT_PID).filter(|&init| !Gc::ptr_eq(init, me));
        let mut adopter = None;
        if let Some(init) = init.filter(|_| !orphans.is_empty()) {
            for orphan in &orphans {
                orphan.borrow_mut(s.mc()).parent = Some(init);
            }
            init.borrow_mut(s.mc()).children.extend(orphans);
            adopter = init.borrow().process.clone();
        }
        let mut me = me.borrow_mut(s.mc());
        me.life = Life::Zombie(status);
        (me.parent.and_then(|p| p.borrow().process.clone()), adopter)
    })
}

/// Takes member `member` out of its parent's children and the table;
/// returns its process, to drop outside the scope.
pub(crate) fn leave(member: &Handle<MemberRoot>) -> Option<Arc<Process>> {
    with_table(|s, table| {
        let me = s.fetch(member);
        if let Some(parent) = me.borrow().parent {
            parent.borrow_mut(s.mc()).children.retain(|&child| !Gc::ptr_eq(child, me));
        }
        let mut me = me.borrow_mut(s.mc());
        table.processes.remove(&me.pid);
        me.process.take()
    })
}

/// What [`reap`] found.
pub(crate) enum Reaped {
    /// No child matches (`ECHILD`).
    NoChild,
    /// Matching children are all alive.
    NoneDead,
    /// The child's pid and wait status, and its process, to drop outside
    /// the scope.
    Child(i32, i32, Option<Arc<Process>>),
}

/// Reaps a zombie child of `member` matching `target` (wait4's pid
/// argument): it leaves the tree and the table.
pub(crate) fn reap(member: &Handle<MemberRoot>, target: i32) -> Reaped {
    with_table(|s, table| {
        let me = s.fetch(member);
        let my_pgid = me.borrow().pgid;
        let matches = |child: &MemberPtr<'_>| {
            let child = child.borrow();
            match target {
                -1 => true,
                0 => child.pgid == my_pgid,
                t if t > 0 => child.pid == t,
                t => Some(child.pgid) == t.checked_neg(),
            }
        };
        if !me.borrow().children.iter().any(matches) {
            return Reaped::NoChild;
        }
        let dead = |c: &MemberPtr<'_>| matches(c) && matches!(c.borrow().life, Life::Zombie(_));
        let Some(index) = me.borrow().children.iter().position(dead) else { return Reaped::NoneDead };
        let child = me.borrow_mut(s.mc()).children.swap_remove(index);
        let mut child = child.borrow_mut(s.mc());
        table.processes.remove(&child.pid);
        let Life::Zombie(status) = child.life else { return Reaped::NoneDead };
        Reaped::Child(child.pid, status, child.process.take())
    })
}

#[cfg(feature = "ktest")]
mod ktests {
    use runtime::heap::Heap;
    use shim::ktest;

    use super::*;

    /// A zombie's member with no process: what the tree holds once a
    /// process is gone.
    fn member<'gc>(s: &Scope<'_, 'gc>, pid: i32, parent: Option<MemberPtr<'gc>>) -> MemberPtr<'gc> {
        let member = Member {
            pid,
            pgid: pid,
            sid: pid,
            life: Life::Zombie(0),
            parent,
            children: Vec::new(),
            threads: Vec::new(),
            process: None,
        };
        s.alloc(RefLock::new(member)).expect("room for a member")
    }

    ktest! {
        fn process_thread_and_parent_child_cycles_are_the_collectors() {
            let heap = Heap::new("ktest-family");
            heap.collect();
            let empty = heap.stats().objects_live;
            let root = heap.mutate(|s| {
                let parent = member(s, 1, None);
                let thread = ThreadMember { process: parent, thread: RefCell::new(Weak::new()) };
                let thread = s.alloc(thread).expect("room for a thread member");
                parent.borrow_mut(s.mc()).threads.push(thread);
                let child = member(s, 2, Some(parent));
                parent.borrow_mut(s.mc()).children.push(child);
                s.stash::<MemberRoot>(parent)
            });
            heap.collect();
            assert_eq!(heap.stats().objects_live, empty + 3, "a rooted process keeps its thread and its child");
            drop(root);
            heap.collect();
            assert_eq!(heap.stats().objects_live, empty, "unrooted, both cycles are reclaimed");
        }
    }
}

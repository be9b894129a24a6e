//! Tasks: kernel threads of control the runtime schedules as goroutines,
//! and the one safe way to switch between them.
//!
//! A [`Task`] is a [`Context`] plus the stack it runs on. The runtime embeds
//! one in its own goroutine type `S` (implementing [`Switchable`]) and keeps
//! them in `Arc`s. Each CPU has a *current* task, owned by the shim as one
//! `Arc<S>` reference; [`switch`] makes another task current.
//!
//! What makes [`switch`] safe to call from safe code is the `on_cpu`
//! protocol (Linux's, for the same reason): a CPU claims a task's `on_cpu`
//! flag before loading its context, and the flag of the task it leaves is
//! cleared only *after* its registers are saved, on the arrival side. So a
//! task runs on at most one CPU, and its saved context is complete before
//! another CPU can load it. The arrival side then hands the previous task
//! to [`Switchable::switched_out`], where the runtime decides what becomes of
//! it (back to a run queue, parked, or dropped — which frees its stack,
//! safely, because nothing runs on it any more).
//!
//! Switches happen with interrupts masked. Kernel code is soft-float, so a
//! switch saves only the callee-saved registers and the stack pointer (see
//! [`crate::context`]); user FPU state is the user-mode boundary's business.

use alloc::sync::Arc;
use core::any::TypeId;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use x86_64::registers::control::Cr3;

use crate::context::{self, Context};
use crate::irq;
use crate::mem::aspace::{AddressSpace, Root};
use crate::mem::paging;
use crate::mem::stack::KernelStack;
use crate::percpu::{self, MAX_CPUS};

/// A schedulable thing that contains a [`Task`]: the runtime's goroutine.
pub trait Switchable: Send + Sync + 'static {
    /// The embedded task.
    fn task(&self) -> &Task;

    /// Called on the CPU that switched away from `prev`, right after its
    /// registers were saved, with interrupts masked. Must not block.
    fn switched_out(prev: Arc<Self>);
}

/// A kernel thread of control: a saved context and its stack.
pub struct Task {
    /// Saved registers while not running (see the module doc for who may
    /// touch it when).
    context: UnsafeCell<Context>,
    on_cpu: AtomicBool,
    /// Set only by [`Task::for_this_context`], taken by [`start`]: a CPU's
    /// boot context is made current once, on one CPU (two CPUs running as
    /// one task would save into the same context).
    unstarted: AtomicBool,
    /// `None` for a CPU's boot context, which runs on the stack it came with.
    stack: Option<KernelStack>,
    /// First code to run; called with interrupts enabled, must not return.
    entry: fn(),
    /// Identifies the task in reports (the runtime uses goroutine ids).
    tag: u64,
    /// The user address space the task runs in (its CR3); `None` for the
    /// kernel's own. Touched like `context`: by the task itself while it
    /// runs, or by the CPU that claimed its `on_cpu` to switch to it.
    space: UnsafeCell<Option<Arc<Root>>>,
}

// SAFETY: `context` and `space` are the only fields that are not `Sync`. It is written only
// by `switch`, for the task being left (which runs on the switching CPU, so
// no other CPU can hold it: its `on_cpu` is set) and read only for the task
// being entered after claiming that task's `on_cpu` with an Acquire CAS,
// which synchronizes with the Release store made after the save. At most
// one CPU touches a context at a time. `space` is written only by the
// running task itself (`set_address_space`, interrupts masked) and read
// by the switch that claimed `on_cpu`, under the same ordering.
unsafe impl Sync for Task {}

impl Task {
    /// A task that will run `entry` on `stack` when first switched to. The
    /// stack is tagged with `tag`, so an overflow report names the task.
    pub fn new(mut stack: KernelStack, tag: u64, entry: fn()) -> Task {
        stack.set_tag(tag);
        Task {
            context: UnsafeCell::new(Context::empty()),
            on_cpu: AtomicBool::new(false),
            unstarted: AtomicBool::new(false),
            stack: Some(stack),
            entry,
            tag,
            space: UnsafeCell::new(None),
        }
    }

    /// The task that is already running on this CPU (the boot stack's
    /// thread of control), to be made current with [`start`].
    pub fn for_this_context(tag: u64) -> Task {
        Task {
            context: UnsafeCell::new(Context::empty()),
            on_cpu: AtomicBool::new(true),
            unstarted: AtomicBool::new(true),
            stack: None,
            entry: || {},
            tag,
            space: UnsafeCell::new(None),
        }
    }

    /// Takes the stack out of a task that will never run again (the
    /// caller owns it exclusively), for reuse. Its saved context, which
    /// pointed into that stack, is dropped with it: switching to the task
    /// afterwards panics instead of running on a stack that is gone.
    pub fn take_stack(&mut self) -> Option<KernelStack> {
        let stack = self.stack.take();
        if stack.is_some() {
            *self.context.get_mut() = Context::empty();
        }
        stack
    }
}

/// One CPU's task slots. Touched only by that CPU, with interrupts masked.
struct CpuTasks {
    /// `Arc::into_raw` of the current `S`; owns one reference.
    current: AtomicUsize,
    /// Address of the current `Task`: what `S::task` returned when it
    /// became current, the one whose `on_cpu` this CPU holds and whose
    /// context it saves into (`S::task` is asked once per switch, so an
    /// implementation that answers differently cannot split the two).
    current_task: AtomicUsize,
    /// The task just left, owned (one reference) until the arrival side of
    /// the switch hands it to [`Switchable::switched_out`].
    handoff: AtomicUsize,
    /// Its `Task`, as recorded in `current_task`.
    handoff_task: AtomicUsize,
}

static CPUS: [CpuTasks; MAX_CPUS] = [const {
    CpuTasks {
        current: AtomicUsize::new(0),
        current_task: AtomicUsize::new(0),
        handoff: AtomicUsize::new(0),
        handoff_task: AtomicUsize::new(0),
    }
}; MAX_CPUS];

/// The one type `S` every CPU uses; the slots hold pointers to it.
static TASK_TYPE: spin::Once<TypeId> = spin::Once::new();
/// `finish_handoff::<S>` for that type.
static FINISH: spin::Once<fn(usize, usize)> = spin::Once::new();

fn check_type<S: Switchable>() {
    let registered = TASK_TYPE.call_once(TypeId::of::<S>);
    assert!(*registered == TypeId::of::<S>(), "task slots hold another Switchable type");
}

/// Makes `first` — built with [`Task::for_this_context`] — this CPU's
/// current task. Called once per CPU, before its first [`switch`].
pub fn start<S: Switchable>(first: Arc<S>) {
    check_type::<S>();
    FINISH.call_once(|| finish_handoff::<S>);
    let _irq = irq::IrqGuard::new();
    let slots = &CPUS[percpu::index()];
    assert!(slots.current.load(Ordering::Relaxed) == 0, "task::start twice on CPU {}", percpu::index());
    let task = first.task();
    assert!(task.unstarted.swap(false, Ordering::Relaxed), "task::start with a task that is not a fresh boot context");
    slots.current_task.store(task as *const Task as usize, Ordering::Relaxed);
    slots.current.store(Arc::into_raw(first) as usize, Ordering::Relaxed);
}

/// This CPU's current task, if [`start`] ran here.
pub fn current<S: Switchable>() -> Option<Arc<S>> {
    check_type::<S>();
    let _irq = irq::IrqGuard::new();
    let raw = CPUS[percpu::index()].current.load(Ordering::Relaxed) as *const S;
    if raw.is_null() {
        return None;
    }
    // SAFETY: `raw` came from `Arc::into_raw::<S>` (the type is checked
    // above) and the slot still owns that reference: it changes only by a
    // switch on this CPU, which cannot happen with interrupts masked here.
    unsafe {
        Arc::increment_strong_count(raw);
        Some(Arc::from_raw(raw))
    }
}

/// The tag of this CPU's current task, for reports (panics, faults).
pub(crate) fn current_tag() -> Option<u64> {
    let task = CPUS[percpu::index()].current_task.load(Ordering::Relaxed) as *const Task;
    // SAFETY: a non-null `current_task` points into the current `S`, which
    // the `current` slot keeps alive; it is running here, so it cannot be
    // freed while we look.
    (!task.is_null()).then(|| unsafe { (*task).tag })
}

/// Switches this CPU from its current task to `next`; returns when some CPU
/// switches back to the current task. Interrupts must be masked, and no
/// interrupt handler may be running (the preemption hook runs after it).
///
/// If `next` is still being switched out on another CPU, waits for that
/// switch to finish (a few instructions). Switching to the current task
/// itself does nothing.
pub fn switch<S: Switchable>(next: Arc<S>) {
    check_type::<S>();
    assert!(!irq::enabled(), "task::switch with interrupts enabled");
    assert!(!percpu::in_interrupt(), "task::switch in an interrupt handler");
    let slots = &CPUS[percpu::index()];
    let prev = slots.current.load(Ordering::Relaxed) as *const S;
    assert!(!prev.is_null(), "task::switch before task::start on CPU {}", percpu::index());
    if core::ptr::eq(prev, Arc::as_ptr(&next)) {
        return;
    }
    let next = Arc::into_raw(next);
    // SAFETY: `next` is alive: its reference moves into the current slot
    // below and stays there until the next switch away from it.
    let next_task = unsafe { (*next).task() };
    let prev_task = slots.current_task.load(Ordering::Relaxed) as *const Task;
    // SAFETY: `prev_task` is what `(*prev).task()` returned when `prev`
    // became current, borrowed from `prev`, which is alive through the
    // slot's reference (which moves to `handoff`, then to `switched_out`).
    let prev_task = unsafe { &*prev_task };
    while next_task.on_cpu.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
        core::hint::spin_loop();
    }
    // SAFETY: we own `next_task`'s context now (its `on_cpu` is ours).
    let next_context = unsafe { &mut *next_task.context.get() };
    if next_context.is_empty() {
        let stack = next_task.stack.as_ref().expect("a task that never ran has a stack");
        *next_context = Context::new(stack, task_entry, next_task.entry as usize);
    }
    // SAFETY: `next_task`'s `space` is ours to read (we own its `on_cpu`).
    load_space(unsafe { &*next_task.space.get() });
    slots.handoff.store(prev as usize, Ordering::Relaxed);
    slots.handoff_task.store(prev_task as *const Task as usize, Ordering::Relaxed);
    slots.current_task.store(next_task as *const Task as usize, Ordering::Relaxed);
    slots.current.store(next as usize, Ordering::Relaxed);
    // SAFETY: `prev_task` is running (this code), so its context is ours to
    // save into; `next_context` was saved by a switch away from it or just
    // built on its stack, and it is not running anywhere (its `on_cpu`
    // was clear). Both tasks and their stacks stay alive: `next` through
    // the current slot, `prev` through the handoff reference.
    unsafe { context::switch(&mut *prev_task.context.get(), next_context) };
    run_handoff();
}

/// Binds the calling task to `space` (`None`: the kernel's own) and loads
/// it on this CPU; from now on the task runs in it wherever it is
/// scheduled, so user copies and [`crate::user::run`] see that space.
pub fn set_address_space(space: Option<&AddressSpace>) {
    let _irq = irq::IrqGuard::new();
    let task = CPUS[percpu::index()].current_task.load(Ordering::Relaxed) as *const Task;
    assert!(!task.is_null(), "set_address_space outside a task");
    // SAFETY: `task` is the running task (kept alive by the current slot);
    // only it writes its `space`, and a switch away cannot happen with
    // interrupts masked.
    let slot = unsafe { &mut *(*task).space.get() };
    let old = core::mem::replace(slot, space.map(|s| Arc::clone(s.root())));
    load_space(slot);
    // Dropped after this CPU left it: if it was the last reference, the
    // table is no longer in any CR3.
    drop(old);
}

/// Loads `space`'s top-level table (or the kernel's) into CR3 if it is
/// not there already.
fn load_space(space: &Option<Arc<Root>>) {
    let target = space.as_ref().map_or_else(paging::kernel_pml4, |root| root.pml4);
    let (current, flags) = Cr3::read();
    if current != target {
        // SAFETY: every address space maps the kernel half exactly as the
        // kernel's own table does, so this code, its stack and all kernel
        // data stay mapped; the table is kept alive by the task's `Arc`.
        unsafe { Cr3::write(target, flags) };
    }
}

/// The arrival side of every switch: finishes the task just left.
fn run_handoff() {
    let slots = &CPUS[percpu::index()];
    let prev = slots.handoff.swap(0, Ordering::Relaxed);
    if prev != 0 {
        let finish = FINISH.get().expect("tasks exist only after task::start");
        finish(prev, slots.handoff_task.load(Ordering::Relaxed));
    }
}

fn finish_handoff<S: Switchable>(prev: usize, task: usize) {
    // SAFETY: `handoff` holds the `Arc::into_raw::<S>` reference that the
    // current slot owned (FINISH is instantiated for the checked type).
    let prev = unsafe { Arc::from_raw(prev as *const S) };
    // SAFETY: `task` is the `Task` `prev` ran as (recorded by `switch`),
    // borrowed from `prev`, which is alive here.
    unsafe { (*(task as *const Task)).on_cpu.store(false, Ordering::Release) };
    S::switched_out(prev);
}

/// First code of every task.
extern "C" fn task_entry(entry: usize) -> ! {
    run_handoff();
    // SAFETY: `switch` passes `Task::entry`, an `fn()`, as the argument.
    let entry = unsafe { core::mem::transmute::<usize, fn()>(entry) };
    irq::enable();
    entry();
    panic!("task {} returned from its entry function", current_tag().unwrap_or(u64::MAX));
}

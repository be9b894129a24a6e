//! User mode: running user code (ring 3) until it makes a system call,
//! faults, or is interrupted, then returning to the kernel caller with the
//! reason — Biscuit's shape: each user thread is a kernel goroutine that
//! calls [`run`] in a loop and handles what comes back.
//!
//! [`run`] saves the kernel's callee-saved registers and stack pointer (in
//! the per-CPU block, and as this CPU's TSS `rsp0`), loads the user
//! registers, swaps GS to the user's and enters ring 3 with `iretq` (or
//! `sysretq` when resuming after a system call). Three
//! ways lead back, all ending in `hardtack_user_exit`, which restores the
//! saved kernel stack and returns from [`run`]:
//! - `syscall` enters `hardtack_syscall_entry` (LSTAR; interrupts masked by
//!   SFMASK), which swaps GS, switches to the saved kernel stack and stores
//!   the user registers;
//! - an exception or interrupt in ring 3 enters the usual trap stubs on the
//!   TSS `rsp0` stack; the common path swaps GS when it came from ring 3,
//!   and the dispatcher hands the frame to [`trap_from_user`], which runs
//!   an interrupt's handler (without preempting: the caller decides), or
//!   records the exception, then stores the user registers.
//!
//! The caller's task must be bound to the user's address space
//! ([`crate::task::set_address_space`]) and keep preemption disabled
//! around [`run`] (so the per-CPU state it uses stays this CPU's).

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::registers::model_specific::Msr;

use crate::context::{pop_callee_saved, push_callee_saved};
use crate::cpu::{KERNEL_CS, USER_CS, USER_DS};
use crate::mem::aspace::USER_END;
use crate::percpu::{self, MAX_CPUS};
use crate::trap::TrapFrame;

/// A user thread's x87/SSE state in the `fxsave` format. The kernel is
/// soft-float, so only user code changes these registers: [`run`] loads
/// them on the way in and saves them on the way out.
#[repr(C, align(16))]
#[derive(Clone, PartialEq, Eq)]
pub struct FpuState([u8; 512]);

impl Default for FpuState {
    /// The state after `execve`: x87 control word 0x37f (all exceptions
    /// masked, 64-bit precision), MXCSR 0x1f80 (all masked, round to
    /// nearest), all registers zero.
    fn default() -> Self {
        let mut area = [0u8; 512];
        area[0..2].copy_from_slice(&0x37fu16.to_le_bytes());
        area[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
        area[28..32].copy_from_slice(&0xffffu32.to_le_bytes()); // MXCSR_MASK (ignored by fxrstor)
        FpuState(area)
    }
}

impl FpuState {
    /// Bytes of the `fxsave` area.
    pub const LEN: usize = 512;

    /// The state as an `fxsave` area (what a signal frame carries).
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        self.0
    }

    /// A state from an `fxsave` area user code supplied (a signal frame it
    /// returns from): MXCSR bits the CPU does not support are cleared,
    /// because `fxrstor` faults on them; everything else is the thread's
    /// own business.
    pub fn from_user_bytes(bytes: &[u8; Self::LEN]) -> FpuState {
        let mut area = *bytes;
        let mxcsr = u32::from_le_bytes([area[24], area[25], area[26], area[27]]) & mxcsr_mask();
        area[24..28].copy_from_slice(&mxcsr.to_le_bytes());
        FpuState(area)
    }
}

/// The MXCSR bits this CPU supports (`fxsave`'s MXCSR_MASK; 0 there
/// means the architectural default, 0xffbf).
fn mxcsr_mask() -> u32 {
    static MASK: spin::Once<u32> = spin::Once::new();
    *MASK.call_once(|| {
        let mut area = FpuState([0; FpuState::LEN]);
        // SAFETY: saves this CPU's x87/SSE registers into a local, aligned
        // 512-byte area; nothing else is written.
        unsafe { core::arch::asm!("fxsave64 [{}]", in(reg) &raw mut area, options(nostack)) };
        match u32::from_le_bytes([area.0[28], area.0[29], area.0[30], area.0[31]]) {
            0 => 0xffbf,
            mask => mask,
        }
    })
}

impl core::fmt::Debug for FpuState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("FpuState { .. }")
    }
}

/// A user thread's registers while it is not running.
#[repr(C)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct UserRegs {
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rbp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rip: u64,
    pub rsp: u64,
    pub rflags: u64,
    /// FS base (thread-local storage; `arch_prctl(ARCH_SET_FS)`).
    pub fs_base: u64,
    /// x87/SSE registers (last: the assembly uses only the fields above).
    pub fpu: FpuState,
}

/// Why [`run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The thread executed `syscall`: the number is in `rax`, arguments in
    /// `rdi rsi rdx r10 r8 r9`; `rcx` and `r11` hold its RIP and RFLAGS.
    Syscall,
    /// A CPU exception in user mode.
    Exception {
        /// Vector (13 #GP, 14 #PF, 6 #UD, ...).
        vector: u8,
        /// Error code (for #PF: bit 1 write, bit 4 instruction fetch).
        error_code: u64,
        /// Faulting address for a page fault (CR2), else 0.
        address: u64,
    },
    /// An interrupt arrived and was handled; the thread can be resumed (or
    /// the caller may first let the scheduler run something else).
    Interrupt,
}

/// Exit codes from the assembly; exception details in [`EXCEPTIONS`].
const EXIT_SYSCALL: u64 = 0;
const EXIT_EXCEPTION: u64 = 1;
const EXIT_INTERRUPT: u64 = 2;

/// The last user exception on each CPU: vector, error code, address.
static EXCEPTIONS: [[AtomicU64; 3]; MAX_CPUS] = [const { [const { AtomicU64::new(0) }; 3] }; MAX_CPUS];

/// RFLAGS bits user code may set: CF PF AF ZF SF TF DF OF and AC.
const USER_FLAGS: u64 = 0x40dd5;
/// IF, and the always-one bit 1.
const FLAGS_ON: u64 = 0x202;

core::arch::global_asm!(
    ".pushsection .text.hardtack_user, \"ax\"",
    ".balign 16",
    // fn hardtack_user_run(regs: *mut UserRegs, sysret: u64) -> u64 (exit code)
    ".global hardtack_user_run",
    "hardtack_user_run:",
    push_callee_saved!(),
    "push rdi", // [saved rsp] = regs
    "mov gs:[{kernel_rsp}], rsp",
    "mov rax, gs:[{tss_rsp0}]",
    "mov [rax], rsp", // traps from ring 3 push their frame below this
    "mov r11, rdi",
    "mov ecx, 0xc0000100", // IA32_FS_BASE
    "mov eax, [r11 + {fs_base}]",
    "mov edx, [r11 + {fs_base} + 4]",
    "wrmsr",
    "push rsi", // [rsp + 40] below: return with sysret?
    "push {user_ss}",
    "push qword ptr [r11 + {rsp}]",
    "mov rax, [r11 + {rflags}]",
    "and rax, {user_flags}",
    "or rax, {flags_on}",
    "push rax",
    "push {user_cs}",
    "push qword ptr [r11 + {rip}]",
    "mov rax, [r11 + {rax}]",
    "mov rbx, [r11 + {rbx}]",
    "mov rcx, [r11 + {rcx}]",
    "mov rdx, [r11 + {rdx}]",
    "mov rsi, [r11 + {rsi}]",
    "mov rdi, [r11 + {rdi}]",
    "mov rbp, [r11 + {rbp}]",
    "mov r8, [r11 + {r8}]",
    "mov r9, [r11 + {r9}]",
    "mov r10, [r11 + {r10}]",
    "mov r12, [r11 + {r12}]",
    "mov r13, [r11 + {r13}]",
    "mov r14, [r11 + {r14}]",
    "mov r15, [r11 + {r15}]",
    "mov r11, [r11 + {r11}]",
    "cmp qword ptr [rsp + 40], 0",
    "jne 2f",
    "swapgs",
    "iretq",
    // The fast way back after a system call: RCX holds the RIP and R11 the
    // RFLAGS to return with (checked by `run`); interrupts stay masked
    // until sysretq loads R11, and NMIs and machine checks run on IST
    // stacks, so the user stack pointer is safe to load first.
    "2:",
    "mov rsp, [rsp + 24]",
    "swapgs",
    "sysretq",
    //
    ".balign 16",
    ".global hardtack_syscall_entry",
    "hardtack_syscall_entry:",
    "swapgs",
    "mov gs:[{scratch}], rsp",
    "mov rsp, gs:[{kernel_rsp}]",
    "push r11",
    "mov r11, [rsp + 8]", // regs
    "mov [r11 + {rax}], rax",
    "mov [r11 + {rbx}], rbx",
    "mov [r11 + {rcx}], rcx",
    "mov [r11 + {rip}], rcx",
    "mov [r11 + {rdx}], rdx",
    "mov [r11 + {rsi}], rsi",
    "mov [r11 + {rdi}], rdi",
    "mov [r11 + {rbp}], rbp",
    "mov [r11 + {r8}], r8",
    "mov [r11 + {r9}], r9",
    "mov [r11 + {r10}], r10",
    "mov [r11 + {r12}], r12",
    "mov [r11 + {r13}], r13",
    "mov [r11 + {r14}], r14",
    "mov [r11 + {r15}], r15",
    "pop rax",
    "mov [r11 + {r11}], rax",
    "mov [r11 + {rflags}], rax",
    "mov rax, gs:[{scratch}]",
    "mov [r11 + {rsp}], rax",
    "mov rdi, rsp",
    "mov esi, {exit_syscall}",
    "jmp hardtack_user_exit",
    //
    // fn hardtack_user_exit(kernel_rsp: u64, code: u64) -> ! : returns
    // from `hardtack_user_run` with `code`.
    ".balign 16",
    ".global hardtack_user_exit",
    "hardtack_user_exit:",
    "mov rsp, rdi",
    "mov rax, rsi",
    "add rsp, 8",
    pop_callee_saved!(),
    "ret",
    ".popsection",
    kernel_rsp = const percpu::offset::USER_KERNEL_RSP,
    tss_rsp0 = const percpu::offset::TSS_RSP0,
    scratch = const percpu::offset::SCRATCH,
    user_ss = const USER_DS.0 as u64,
    user_cs = const USER_CS.0 as u64,
    user_flags = const USER_FLAGS,
    flags_on = const FLAGS_ON,
    exit_syscall = const EXIT_SYSCALL,
    rax = const core::mem::offset_of!(UserRegs, rax),
    rbx = const core::mem::offset_of!(UserRegs, rbx),
    rcx = const core::mem::offset_of!(UserRegs, rcx),
    rdx = const core::mem::offset_of!(UserRegs, rdx),
    rsi = const core::mem::offset_of!(UserRegs, rsi),
    rdi = const core::mem::offset_of!(UserRegs, rdi),
    rbp = const core::mem::offset_of!(UserRegs, rbp),
    r8 = const core::mem::offset_of!(UserRegs, r8),
    r9 = const core::mem::offset_of!(UserRegs, r9),
    r10 = const core::mem::offset_of!(UserRegs, r10),
    r11 = const core::mem::offset_of!(UserRegs, r11),
    r12 = const core::mem::offset_of!(UserRegs, r12),
    r13 = const core::mem::offset_of!(UserRegs, r13),
    r14 = const core::mem::offset_of!(UserRegs, r14),
    r15 = const core::mem::offset_of!(UserRegs, r15),
    rip = const core::mem::offset_of!(UserRegs, rip),
    rsp = const core::mem::offset_of!(UserRegs, rsp),
    rflags = const core::mem::offset_of!(UserRegs, rflags),
    fs_base = const core::mem::offset_of!(UserRegs, fs_base),
);

unsafe extern "C" {
    fn hardtack_user_run(regs: *mut UserRegs, sysret: u64) -> u64;
    fn hardtack_user_exit(kernel_rsp: u64, code: u64) -> !;
    static hardtack_syscall_entry: u8;
}

/// Sets up `syscall` on this CPU: EFER.SCE, the entry point (LSTAR), the
/// segment selectors (STAR) and the RFLAGS bits cleared on entry (SFMASK:
/// IF, TF, DF, AC, NT, IOPL).
pub(crate) fn init_this_cpu() {
    const EFER: u32 = 0xc000_0080;
    const STAR: u32 = 0xc000_0081;
    const LSTAR: u32 = 0xc000_0082;
    const SFMASK: u32 = 0xc000_0084;
    // `sysret` would take CS = base + 16 and SS = base + 8 (user selectors
    // 5 and 4); `syscall` takes CS = KERNEL_CS and SS = KERNEL_CS + 8.
    let sysret_base = (USER_DS.0 - 8) as u64;
    // SAFETY: these MSRs configure `syscall`, which enters at our entry
    // stub with the kernel selectors of our GDT; nothing else uses them.
    unsafe {
        let mut efer = Msr::new(EFER);
        efer.write(efer.read() | 1);
        Msr::new(STAR).write((sysret_base << 48) | ((KERNEL_CS.0 as u64) << 32));
        Msr::new(LSTAR).write(&raw const hardtack_syscall_entry as u64);
        Msr::new(SFMASK).write(0x4_7700);
    }
}

/// Runs user code with `regs` until it makes a system call, faults or is
/// interrupted; `regs` then holds its registers. See the module doc for
/// what the caller must ensure.
pub fn run(regs: &mut UserRegs) -> Exit {
    assert!(percpu::preempt_count() > 0, "user::run with preemption enabled");
    // `iretq` to a non-canonical RIP and `wrmsr` of a non-canonical FS
    // base fault in the kernel: such values (set by `rt_sigreturn` or
    // `arch_prctl`) end the attempt as the #GP user code would get.
    if regs.rip >= USER_END || regs.fs_base >= USER_END {
        return Exit::Exception { vector: crate::trap::vector::GENERAL_PROTECTION as u8, error_code: 0, address: 0 };
    }
    let _irq = crate::irq::IrqGuard::new();
    // SAFETY: `regs.fpu` is a 16-byte aligned 512-byte area in the
    // fxsave format (built by `FpuState::default` or saved by `fxsave64`;
    // user code cannot reach it, so its reserved bits are as the CPU left
    // them). Kernel code is soft-float and never touches these registers.
    unsafe { core::arch::asm!("fxrstor64 [{}]", in(reg) &raw const regs.fpu, options(nostack, readonly)) };
    // SAFETY: `regs` is valid for the whole call; the assembly returns here
    // with the kernel's callee-saved registers and stack restored, and
    // touches no other kernel memory but this CPU's per-CPU block and TSS.
    let code = unsafe { hardtack_user_run(regs, sysret_can_return(regs) as u64) };
    // SAFETY: saves the user's x87/SSE registers (nothing in the kernel
    // changed them since the exit) into the thread's own aligned area.
    unsafe { core::arch::asm!("fxsave64 [{}]", in(reg) &raw mut regs.fpu, options(nostack)) };
    match code {
        EXIT_SYSCALL => Exit::Syscall,
        EXIT_EXCEPTION => {
            let [vector, error_code, address] = &EXCEPTIONS[percpu::index()];
            Exit::Exception {
                vector: vector.load(Ordering::Relaxed) as u8,
                error_code: error_code.load(Ordering::Relaxed),
                address: address.load(Ordering::Relaxed),
            }
        }
        _ => Exit::Interrupt,
    }
}

/// Whether `sysretq` can resume the thread: it loads RIP from RCX and
/// RFLAGS from R11, so it fits when they already hold the thread's RIP
/// and (filtered) RFLAGS — the case after a system call. Otherwise `run`
/// uses `iretq`. RIP is canonical (checked by `run`), so sysret's
/// non-canonical-RIP fault in ring 0 cannot happen.
fn sysret_can_return(regs: &UserRegs) -> bool {
    regs.rcx == regs.rip && regs.r11 == (regs.rflags & USER_FLAGS) | FLAGS_ON
}

/// A trap from ring 3 (called by the dispatcher, GS already swapped back):
/// handles it, stores the user registers and returns from [`run`].
pub(crate) fn trap_from_user(frame: &mut TrapFrame) -> ! {
    let code = match frame.vector {
        0..=31 => {
            let address = match frame.vector {
                crate::trap::vector::PAGE_FAULT => x86_64::registers::control::Cr2::read_raw(),
                _ => 0,
            };
            let [vector, error_code, fault] = &EXCEPTIONS[percpu::index()];
            vector.store(frame.vector, Ordering::Relaxed);
            error_code.store(frame.error_code, Ordering::Relaxed);
            fault.store(address, Ordering::Relaxed);
            EXIT_EXCEPTION
        }
        _ => {
            crate::trap::handle_interrupt(frame);
            EXIT_INTERRUPT
        }
    };
    let kernel_rsp = percpu::user_kernel_rsp();
    // SAFETY: `hardtack_user_run` pushed the `UserRegs` pointer at the
    // saved kernel stack pointer; that call is still in progress (it is
    // what this trap returns from), so the registers are live and ours.
    let regs = unsafe { &mut **(kernel_rsp as *const *mut UserRegs) };
    *regs = UserRegs {
        rax: frame.rax,
        rbx: frame.rbx,
        rcx: frame.rcx,
        rdx: frame.rdx,
        rsi: frame.rsi,
        rdi: frame.rdi,
        rbp: frame.rbp,
        r8: frame.r8,
        r9: frame.r9,
        r10: frame.r10,
        r11: frame.r11,
        r12: frame.r12,
        r13: frame.r13,
        r14: frame.r14,
        r15: frame.r15,
        rip: frame.rip,
        rsp: frame.rsp,
        rflags: frame.rflags,
        fs_base: regs.fs_base,
        fpu: core::mem::take(&mut regs.fpu),
    };
    // SAFETY: resumes `hardtack_user_run`'s caller on its saved stack; the
    // trap frame below it is abandoned (nothing refers to it).
    unsafe { hardtack_user_exit(kernel_rsp, code) }
}

#[cfg(feature = "ktest")]
mod ktests {
    use x86_64::VirtAddr;

    use super::{Exit, UserRegs, run};
    use crate::ktest;
    use crate::mem::aspace::{AddressSpace, UserAccess};
    use crate::mem::usercopy::copy_to_user;
    use crate::task::set_address_space;

    const CODE: u64 = 0x40_0000;
    const STACK_TOP: u64 = 0x80_0000;

    /// User code, one routine per test step (offsets below).
    const PROGRAM: &[u8] = &[
        // 0: getppid-like syscall, then a read of address 0.
        0xb8, 0x27, 0x00, 0x00, 0x00, // mov eax, 39
        0x48, 0xc7, 0xc7, 0x34, 0x12, 0x00, 0x00, // mov rdi, 0x1234
        0x0f, 0x05, // syscall
        0x48, 0x83, 0xc0, 0x01, // add rax, 1
        0x8b, 0x1c, 0x25, 0x00, 0x00, 0x00, 0x00, // mov ebx, [0]
        // 25: a privileged instruction.
        0xf4, // hlt
        // 26: spin until interrupted.
        0xeb, 0xfe, // jmp $
        // 28: read the kernel memory rax points at.
        0x48, 0x8b, 0x00, // mov rax, [rax]
        // 31: push on the user stack, then syscall.
        0x6a, 0x2a, // push 42
        0x0f, 0x05, // syscall
        // 35: xmm0 = rax, then syscall.
        0x66, 0x48, 0x0f, 0x6e, 0xc0, // movq xmm0, rax
        0x0f, 0x05, // syscall
        // 42: rbx = xmm0, then syscall.
        0x66, 0x48, 0x0f, 0x7e, 0xc3, // movq rbx, xmm0
        0x0f, 0x05, // syscall
    ];

    /// Runs the user thread once on this CPU (the task is bound to its
    /// address space).
    fn run_once(regs: &mut UserRegs) -> Exit {
        crate::percpu::preempt_disable();
        let exit = run(regs);
        crate::percpu::preempt_enable();
        exit
    }

    /// Runs the user thread until it stops for a reason other than an
    /// interrupt (which may arrive before any instruction of it ran).
    fn run_in(regs: &mut UserRegs) -> Exit {
        loop {
            match run_once(regs) {
                Exit::Interrupt => continue,
                exit => return exit,
            }
        }
    }

    ktest! {
        fn user_code_runs_in_ring_3_and_comes_back_with_the_reason() {
            let mut space = AddressSpace::new().expect("address space");
            space.map(VirtAddr::new(CODE), UserAccess::READ_WRITE).expect("map code");
            space.map(VirtAddr::new(STACK_TOP - 4096), UserAccess::READ_WRITE).expect("map stack");
            set_address_space(Some(&space));
            copy_to_user(CODE, PROGRAM).expect("load the program");
            space.protect(VirtAddr::new(CODE), UserAccess::READ_EXEC).expect("make it code");
            let start = |offset: u64| UserRegs { rip: CODE + offset, rsp: STACK_TOP, ..UserRegs::default() };

            // A system call comes back with its number and arguments.
            let mut regs = start(0);
            assert_eq!(run_in(&mut regs), Exit::Syscall);
            assert_eq!((regs.rax, regs.rdi, regs.rip, regs.rcx), (39, 0x1234, CODE + 14, CODE + 14));
            assert!(regs.r11 & 0x200 != 0, "user RFLAGS (in r11) have interrupts on");
            // The result goes back in rax; the thread continues, then faults.
            regs.rax = 7;
            let exit = run_in(&mut regs);
            assert_eq!(exit, Exit::Exception { vector: 14, error_code: 0b100, address: 0 }, "user read of page 0");
            assert_eq!((regs.rax, regs.rip), (8, CODE + 18));

            let mut regs = start(25);
            assert!(matches!(run_in(&mut regs), Exit::Exception { vector: 13, .. }), "hlt in ring 3 is #GP");

            // A spinning thread is interrupted (the scheduler's timer is
            // armed while a goroutine runs) and resumes where it was.
            let mut regs = start(26);
            assert_eq!(run_once(&mut regs), Exit::Interrupt);
            assert_eq!(regs.rip, CODE + 26);
            assert_eq!(run_once(&mut regs), Exit::Interrupt);

            static KERNEL_DATA: u64 = 0x5ec2e7;
            let kernel = &raw const KERNEL_DATA as u64;
            let mut regs = UserRegs { rax: kernel, ..start(28) };
            let exit = run_in(&mut regs);
            assert_eq!(
                exit,
                Exit::Exception { vector: 14, error_code: 0b101, address: kernel },
                "user read of a kernel page is a protection fault"
            );

            let mut regs = start(31);
            assert_eq!(run_in(&mut regs), Exit::Syscall);
            assert_eq!(regs.rsp, STACK_TOP - 8, "the user stack is the thread's");
            let mut pushed = [0u8; 8];
            crate::mem::usercopy::copy_from_user(&mut pushed, STACK_TOP - 8).expect("read the user stack");
            assert_eq!(u64::from_le_bytes(pushed), 42);

            // SSE registers belong to the thread: another thread's values
            // in between do not leak into it.
            let mut first = UserRegs { rax: 0x1111, ..start(35) };
            let mut second = UserRegs { rax: 0x2222, ..start(35) };
            assert_eq!(run_in(&mut first), Exit::Syscall);
            assert_eq!(run_in(&mut second), Exit::Syscall);
            assert_eq!(run_in(&mut first), Exit::Syscall);
            assert_eq!(run_in(&mut second), Exit::Syscall);
            assert_eq!((first.rbx, second.rbx), (0x1111, 0x2222), "xmm0 survived the other thread");
            set_address_space(None);
        }
    }
}

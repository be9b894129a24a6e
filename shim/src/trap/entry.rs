//! The assembly side of traps: one 16-byte stub per vector that pushes an
//! error code (a zero where the CPU pushes none) and the vector number, and a
//! common path that saves the general registers into a [`TrapFrame`], calls
//! the Rust dispatcher, restores them and returns with `iretq`.
//!
//! Plain `global_asm!` (stable) instead of `extern "x86-interrupt"` (not
//! stable); one uniform frame for exceptions, interrupts and, later, returns
//! from user mode.

use core::fmt;

/// Registers saved on trap entry, lowest address first.
#[repr(C)]
#[derive(Clone, Debug)]
pub struct TrapFrame {
    /// Saved R15.
    pub r15: u64,
    /// Saved R14.
    pub r14: u64,
    /// Saved R13.
    pub r13: u64,
    /// Saved R12.
    pub r12: u64,
    /// Saved R11.
    pub r11: u64,
    /// Saved R10.
    pub r10: u64,
    /// Saved R9.
    pub r9: u64,
    /// Saved R8.
    pub r8: u64,
    /// Saved RBP.
    pub rbp: u64,
    /// Saved RDI.
    pub rdi: u64,
    /// Saved RSI.
    pub rsi: u64,
    /// Saved RDX.
    pub rdx: u64,
    /// Saved RCX.
    pub rcx: u64,
    /// Saved RBX.
    pub rbx: u64,
    /// Saved RAX.
    pub rax: u64,
    /// Vector number, pushed by the stub.
    pub vector: u64,
    /// Error code from the CPU, or 0.
    pub error_code: u64,
    /// Interrupted instruction pointer (pushed by the CPU from here on).
    pub rip: u64,
    /// Saved CS.
    pub cs: u64,
    /// Saved RFLAGS.
    pub rflags: u64,
    /// Saved RSP.
    pub rsp: u64,
    /// Saved SS.
    pub ss: u64,
}

impl fmt::Display for TrapFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "    RIP {:#018x}  RSP {:#018x}  RFLAGS {:#x}  CS {:#x}  SS {:#x}",
            self.rip, self.rsp, self.rflags, self.cs, self.ss
        )?;
        writeln!(
            f,
            "    RAX {:#018x}  RBX {:#018x}  RCX {:#018x}  RDX {:#018x}",
            self.rax, self.rbx, self.rcx, self.rdx
        )?;
        writeln!(
            f,
            "    RSI {:#018x}  RDI {:#018x}  RBP {:#018x}  R8  {:#018x}",
            self.rsi, self.rdi, self.rbp, self.r8
        )?;
        writeln!(
            f,
            "    R9  {:#018x}  R10 {:#018x}  R11 {:#018x}  R12 {:#018x}",
            self.r9, self.r10, self.r11, self.r12
        )?;
        write!(f, "    R13 {:#018x}  R14 {:#018x}  R15 {:#018x}", self.r13, self.r14, self.r15)
    }
}

/// Bytes between consecutive stubs.
pub const STUB_STRIDE: u64 = 16;

core::arch::global_asm!(
    r#"
    .section .text.hardtack_trap, "ax"
    .balign 16
    .global hardtack_trap_stubs
hardtack_trap_stubs:
    .set vector, 0
    .rept 256
        .balign 16
        .if vector < 32
            /* vectors 8, 10-14, 17, 21, 29, 30 push an error code */
            .if ((0x60227d00 >> vector) & 1) == 0
                pushq $0
            .endif
        .else
            pushq $0
        .endif
        pushq $vector
        jmp hardtack_trap_common
        .set vector, vector + 1
    .endr

hardtack_trap_common:
    /* from ring 3 (CS at 24(%rsp)): switch GS to the kernel's */
    testb $3, 24(%rsp)
    jz 1f
    swapgs
1:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cld
    movq %rsp, %rdi
    call hardtack_trap_dispatch
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp
    iretq
"#,
    options(att_syntax)
);

// SAFETY: `hardtack_trap_stubs` is defined by the assembly above; we only
// take its address, never read it as data.
unsafe extern "C" {
    safe static hardtack_trap_stubs: u8;
}

/// Address of the entry stub for `vector`.
pub fn stub_address(vector: u8) -> u64 {
    (&raw const hardtack_trap_stubs) as u64 + vector as u64 * STUB_STRIDE
}

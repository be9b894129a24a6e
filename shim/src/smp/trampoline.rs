//! The AP start-up trampoline: the code an application processor runs from
//! its start-up IPI (real mode, at a page below 1 MiB) until it calls into
//! Rust in 64-bit mode on its own kernel stack.
//!
//! ```text
//! page + 0x0000  code (16-bit → 32-bit → 64-bit)      copied from the image
//! page + 0x0400  ApParams (far pointers, GDT, control registers, stack, entry)
//! page + 0x1000  PML4 ┐ trampoline page tables: the low 2 MiB identity-mapped
//! page + 0x2000  PDPT │ (so the switch to paging can continue at the same
//! page + 0x3000  PD   ┘ address), the kernel half shared with the kernel's PML4
//! ```
//!
//! The code computes its physical base from CS (SIPI starts it at CS =
//! page >> 4, IP = 0), so it is position-independent; the two far jumps go
//! through pointers the bootstrap CPU fills in. In 64-bit mode it *takes*
//! the stack pointer from the parameters with `xchg` (leaving 0), so one
//! stack is never used by two CPUs: a CPU that finds 0 — its start was
//! abandoned after a timeout, or another CPU got there first — halts. The
//! CPU index sits on that stack, above the first frame, and travels with
//! it. The Rust entry point switches to the kernel's own page tables.

use core::mem::offset_of;

use x86_64::PhysAddr;

use crate::mem::frame::{self, LOW_RESERVE_FRAMES, phys_to_virt};
use crate::mem::layout::PAGE_SIZE;

/// Where the parameters sit in the trampoline page.
const PARAMS_OFFSET: u64 = 0x400;
/// Trampoline GDT selectors.
const CODE32: u16 = 0x08;
const DATA32: u16 = 0x10;
const CODE64: u16 = 0x18;

/// An `m16:32` far pointer, as `jmp far` reads it.
#[repr(C)]
#[derive(Clone, Copy)]
struct FarPointer {
    offset: u32,
    selector: u16,
    pad: u16,
}

/// What the trampoline reads; laid out at [`PARAMS_OFFSET`].
#[repr(C)]
struct ApParams {
    to_protected_mode: FarPointer,
    to_long_mode: FarPointer,
    /// `lgdt` operand: limit, then the 32-bit linear base (as two halves).
    gdt_pointer: [u16; 4],
    gdt: [u64; 4],
    cr4: u32,
    pml4: u32,
    efer: u32,
    cr0: u32,
    /// Initial stack pointer; taken (swapped with 0) by the starting CPU.
    stack: u64,
    /// `extern "C" fn(cpu_index: u64) -> !`.
    entry: u64,
}

core::arch::global_asm!(
    ".pushsection .rodata.ap_trampoline, \"a\"",
    ".balign 16",
    ".global hardtack_ap_trampoline_start",
    "hardtack_ap_trampoline_start:",
    ".code16",
    "cli",
    "cld",
    "mov ax, cs",
    "mov ds, ax",
    "xor ebx, ebx",
    "mov bx, ax",
    "shl ebx, 4", // ebx = the trampoline's physical base, kept to the end
    "lgdt [{params} + {gdt_pointer}]",
    "mov eax, cr0",
    "or eax, 1",
    "mov cr0, eax",
    // jmp far m16:32 [disp16] (operand-size prefix, FF /5, mod=00 rm=110).
    ".byte 0x66, 0xff, 0x2e",
    ".word {params} + {to_protected_mode}",
    ".code32",
    ".global hardtack_ap_trampoline_32",
    "hardtack_ap_trampoline_32:",
    "mov ax, {data32}",
    "mov ds, ax",
    "mov es, ax",
    "mov ss, ax",
    "mov eax, [ebx + {params} + {cr4}]",
    "mov cr4, eax",
    "mov eax, [ebx + {params} + {pml4}]",
    "mov cr3, eax",
    "mov ecx, 0xc0000080", // IA32_EFER
    "mov eax, [ebx + {params} + {efer}]",
    "xor edx, edx",
    "wrmsr",
    "mov eax, [ebx + {params} + {cr0}]",
    "mov cr0, eax", // paging on: long mode (compatibility) from here
    "ljmp [ebx + {params} + {to_long_mode}]",
    ".code64",
    ".global hardtack_ap_trampoline_64",
    "hardtack_ap_trampoline_64:",
    "mov ebx, ebx", // the upper halves are undefined after the mode switch
    "xor eax, eax",
    "xchg rax, [rbx + {params} + {stack}]",
    "test rax, rax",
    "jz 2f",
    "mov rsp, rax",
    "mov rdi, [rsp + 8]",
    "mov rax, [rbx + {params} + {entry}]",
    "xor ebp, ebp",
    "call rax",
    "2:",
    "cli",
    "hlt",
    "jmp 2b",
    ".global hardtack_ap_trampoline_end",
    "hardtack_ap_trampoline_end:",
    ".popsection",
    params = const PARAMS_OFFSET,
    gdt_pointer = const offset_of!(ApParams, gdt_pointer),
    to_protected_mode = const offset_of!(ApParams, to_protected_mode),
    to_long_mode = const offset_of!(ApParams, to_long_mode),
    data32 = const DATA32,
    cr4 = const offset_of!(ApParams, cr4),
    pml4 = const offset_of!(ApParams, pml4),
    efer = const offset_of!(ApParams, efer),
    cr0 = const offset_of!(ApParams, cr0),
    stack = const offset_of!(ApParams, stack),
    entry = const offset_of!(ApParams, entry),
);

unsafe extern "C" {
    static hardtack_ap_trampoline_start: u8;
    static hardtack_ap_trampoline_32: u8;
    static hardtack_ap_trampoline_64: u8;
    static hardtack_ap_trampoline_end: u8;
}

/// Offset of a trampoline label from its start.
fn offset_of_label(label: &u8) -> u64 {
    let start = &raw const hardtack_ap_trampoline_start as u64;
    label as *const u8 as u64 - start
}

/// The installed trampoline: its page, ready for start-up IPIs.
pub(super) struct Trampoline {
    base: PhysAddr,
}

/// Long-mode control bits the trampoline may set in EFER: SCE, LME, NXE.
const EFER_BITS: u64 = (1 << 0) | (1 << 8) | (1 << 11);
/// CR4 bits the trampoline sets (PAE, PGE); the rest are set in Rust.
const CR4_TRAMPOLINE: u32 = (1 << 5) | (1 << 7);
/// Page-table entry bits: present, writable, 2 MiB page.
const PRESENT_WRITABLE: u64 = 0b11;
const HUGE: u64 = 1 << 7;

impl Trampoline {
    /// Copies the code into the reserved low frames, builds its page tables
    /// and fills in everything but the stack; `None` without low frames.
    pub(super) fn install(entry: extern "C" fn(u64) -> !) -> Option<Trampoline> {
        let base = frame::low_reserve()?;
        // SAFETY: taking the addresses of the linker-defined labels.
        let (code_end, to32, to64) = unsafe {
            (
                offset_of_label(&hardtack_ap_trampoline_end),
                offset_of_label(&hardtack_ap_trampoline_32),
                offset_of_label(&hardtack_ap_trampoline_64),
            )
        };
        assert!(code_end <= PARAMS_OFFSET, "the AP trampoline code outgrew its space");
        let page = |i: u64| phys_to_virt(base + i * PAGE_SIZE).as_mut_ptr::<u64>();
        let (bsp_pml4, _) = x86_64::registers::control::Cr3::read();
        let kernel_pml4 = phys_to_virt(bsp_pml4.start_address()).as_ptr::<u64>();
        let base32 = base.as_u64() as u32;
        let params = ApParams {
            to_protected_mode: FarPointer { offset: base32 + to32 as u32, selector: CODE32, pad: 0 },
            to_long_mode: FarPointer { offset: base32 + to64 as u32, selector: CODE64, pad: 0 },
            gdt_pointer: {
                let gdt = base32 + (PARAMS_OFFSET + offset_of!(ApParams, gdt) as u64) as u32;
                [(size_of::<[u64; 4]>() - 1) as u16, gdt as u16, (gdt >> 16) as u16, 0]
            },
            gdt: [0, 0x00cf_9a00_0000_ffff, 0x00cf_9200_0000_ffff, 0x00af_9a00_0000_ffff],
            cr4: CR4_TRAMPOLINE,
            pml4: base32 + PAGE_SIZE as u32,
            // SAFETY: reading EFER has no side effects.
            efer: (unsafe { x86_64::registers::model_specific::Msr::new(0xc000_0080).read() } & EFER_BITS) as u32,
            cr0: x86_64::registers::control::Cr0::read_raw() as u32,
            stack: 0,
            entry: entry as usize as u64,
        };
        const { assert!(LOW_RESERVE_FRAMES >= 4) };
        // SAFETY: the four frames from `low_reserve` belong to the AP
        // start-up code alone (the allocator never hands them out) and are
        // mapped at the physical offset; no AP runs yet. The code is copied
        // from the image's read-only trampoline section, `code_end` bytes
        // long, and the parameters land past it (checked above). The kernel
        // PML4 is read, not written.
        unsafe {
            let code = &raw const hardtack_ap_trampoline_start;
            core::ptr::copy_nonoverlapping(code, page(0).cast::<u8>(), code_end as usize);
            page(0).byte_add(PARAMS_OFFSET as usize).cast::<ApParams>().write_volatile(params);
            let (pml4, pdpt, pd) = (page(1), page(2), page(3));
            core::ptr::write_bytes(pml4, 0, 3 * PAGE_SIZE as usize);
            pml4.write((base + 2 * PAGE_SIZE).as_u64() | PRESENT_WRITABLE);
            pdpt.write((base + 3 * PAGE_SIZE).as_u64() | PRESENT_WRITABLE);
            pd.write(PRESENT_WRITABLE | HUGE);
            for slot in 256..512 {
                pml4.add(slot).write(kernel_pml4.add(slot).read());
            }
        }
        Some(Trampoline { base })
    }

    /// Physical address of the trampoline page.
    pub(super) fn base(&self) -> PhysAddr {
        self.base
    }

    /// The start-up IPI vector: the trampoline's page number.
    pub(super) fn startup_page(&self) -> u8 {
        (self.base.as_u64() / PAGE_SIZE) as u8
    }

    fn stack_slot(&self) -> &core::sync::atomic::AtomicU64 {
        let at = phys_to_virt(self.base + PARAMS_OFFSET + offset_of!(ApParams, stack) as u64);
        // SAFETY: the slot is an aligned u64 inside the trampoline page,
        // which lives forever; the bootstrap CPU and starting APs access it
        // only atomically (`xchg` on the AP side).
        unsafe { core::sync::atomic::AtomicU64::from_ptr(at.as_mut_ptr()) }
    }

    /// Offers `stack_top` to the next CPU that starts.
    pub(super) fn offer_stack(&self, stack_top: u64) {
        self.stack_slot().store(stack_top, core::sync::atomic::Ordering::SeqCst);
    }

    /// Withdraws the offered stack; true if no CPU had taken it.
    pub(super) fn withdraw_stack(&self) -> bool {
        self.stack_slot().swap(0, core::sync::atomic::Ordering::SeqCst) != 0
    }
}

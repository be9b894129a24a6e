//! Per-CPU descriptor tables: the GDT (kernel and user segments laid out for
//! `syscall`/`sysret`) and the TSS with its interrupt stacks (IST) for faults
//! that must not run on a possibly broken stack.

use alloc::boxed::Box;

use x86_64::PrivilegeLevel;
use x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};
use x86_64::registers::segmentation::SegmentSelector;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable};
use x86_64::structures::tss::TaskStateSegment;

use crate::mem::stack::KernelStack;

/// Kernel code segment selector.
pub(crate) const KERNEL_CS: SegmentSelector = SegmentSelector::new(1, PrivilegeLevel::Ring0);
/// Kernel data segment selector.
pub(crate) const KERNEL_DS: SegmentSelector = SegmentSelector::new(2, PrivilegeLevel::Ring0);
/// User data segment selector (`sysret` loads SS from STAR + 8).
pub(crate) const USER_DS: SegmentSelector = SegmentSelector::new(4, PrivilegeLevel::Ring3);
/// User 64-bit code segment selector (`sysret` loads CS from STAR + 16).
pub(crate) const USER_CS: SegmentSelector = SegmentSelector::new(5, PrivilegeLevel::Ring3);

/// IST slot (0-based TSS index) for double faults.
pub(crate) const IST_DOUBLE_FAULT: u16 = 0;
/// IST slot for NMIs (panic stop requests arrive as NMIs).
pub(crate) const IST_NMI: u16 = 1;
/// IST slot for machine checks.
pub(crate) const IST_MACHINE_CHECK: u16 = 2;
/// Pages in each IST stack.
const IST_PAGES: u64 = 4;

/// Tag of IST stacks in stack reports.
pub(crate) const IST_STACK_TAG: u64 = u64::MAX;

/// Tag of the stack an application processor boots on (its idle loop's).
pub(crate) const AP_BOOT_STACK_TAG: u64 = u64::MAX - 1;

/// Builds and loads this CPU's own GDT and TSS, with its own IST stacks,
/// and turns on global pages (CR4.PGE: kernel mappings are global, so
/// they survive address-space switches in the TLB) and, where the CPU has
/// them, SMEP and SMAP (the kernel can neither run user pages nor touch
/// them outside `mem::usercopy`).
pub(crate) fn init() {
    let features = core::arch::x86_64::__cpuid_count(7, 0).ebx;
    let (smep, smap) = (features & (1 << 7) != 0, features & (1 << 20) != 0);
    let mut flags = Cr4Flags::PAGE_GLOBAL | Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE;
    if smep {
        flags |= Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION;
    }
    if smap {
        flags |= Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION;
    }
    // SAFETY: OSFXSR/OSXMMEXCPT let user code use SSE (the kernel is
    // soft-float; `user::run` saves and restores the user's registers);
    // PGE only changes which TLB entries a CR3 load keeps (kernel
    // mappings are the same in every address space, as global ones must
    // be); SMEP and SMAP only forbid the kernel user pages, which it
    // touches through `mem::usercopy` alone, which opens access for SMAP.
    unsafe { Cr4::update(|cr4| cr4.insert(flags)) };
    // SAFETY: the x87/SSE unit is present on every x86_64 CPU: no
    // emulation (EM off), `wait` honours TS (MP on), and native x87
    // error reporting (NE on); none of it affects soft-float kernel code.
    // WP makes read-only pages read-only for the kernel too: nothing
    // writes its own read-only mappings, and a user copy into a read-only
    // user page then faults and is reported as a bad address.
    unsafe {
        Cr0::update(|cr0| {
            cr0.remove(Cr0Flags::EMULATE_COPROCESSOR | Cr0Flags::TASK_SWITCHED);
            cr0.insert(Cr0Flags::MONITOR_COPROCESSOR | Cr0Flags::NUMERIC_ERROR | Cr0Flags::WRITE_PROTECT);
        })
    };
    crate::mem::usercopy::set_smap(smap);
    let mut tss = TaskStateSegment::new();
    for ist in [IST_DOUBLE_FAULT, IST_NMI, IST_MACHINE_CHECK] {
        let stack = KernelStack::new(IST_PAGES, IST_STACK_TAG).expect("no memory for IST stacks");
        tss.interrupt_stack_table[ist as usize] = stack.top();
        core::mem::forget(stack);
    }
    // Both tables are leaked: the CPU refers to them for as long as it runs.
    // The TSS stays a raw pointer: `user::run` rewrites its `rsp0`.
    let tss: *mut TaskStateSegment = Box::into_raw(Box::new(tss));
    // SAFETY: `tss` is a live, leaked allocation; only the slot's address
    // is taken.
    crate::percpu::set_tss_rsp0_slot(unsafe { &raw mut (*tss).privilege_stack_table[0] }.cast());
    let gdt: &'static mut GlobalDescriptorTable = Box::leak(Box::new(GlobalDescriptorTable::new()));
    gdt.append(Descriptor::kernel_code_segment());
    gdt.append(Descriptor::kernel_data_segment());
    // Slot 3: 32-bit user code, unused but kept so STAR's layout works.
    gdt.append(Descriptor::UserSegment(0));
    gdt.append(Descriptor::user_data_segment());
    gdt.append(Descriptor::user_code_segment());
    // SAFETY: the TSS is leaked, so it outlives the GDT and the CPU's use.
    let tss_selector = gdt.append(unsafe { Descriptor::tss_segment_unchecked(tss) });
    let gdt: &'static GlobalDescriptorTable = gdt;
    gdt.load();
    // SAFETY: the selectors index the GDT just loaded, with matching
    // privilege levels, so the segment registers stay valid.
    unsafe {
        CS::set_reg(KERNEL_CS);
        SS::set_reg(KERNEL_DS);
        DS::set_reg(SegmentSelector::NULL);
        ES::set_reg(SegmentSelector::NULL);
        load_tss(tss_selector);
    }
    crate::user::init_this_cpu();
}

/// A hardware random number (RDRAND), if the CPU has the instruction and
/// it delivered within a few tries.
pub fn rdrand() -> Option<u64> {
    static HAS_RDRAND: spin::Once<bool> = spin::Once::new();
    let has = *HAS_RDRAND.call_once(|| core::arch::x86_64::__cpuid(1).ecx & (1 << 30) != 0);
    if !has {
        return None;
    }
    (0..10).find_map(|_| {
        let (value, ok): (u64, u8);
        // SAFETY: RDRAND exists (CPUID.1:ECX.30); it only writes the
        // output register and the carry flag.
        unsafe { core::arch::asm!("rdrand {}", "setc {}", out(reg) value, out(reg_byte) ok, options(nomem, nostack)) };
        (ok == 1).then_some(value)
    })
}

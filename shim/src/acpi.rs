//! ACPI facts the kernel needs, read once at boot from the tables the RSDP
//! (from BootInfo) leads to: the CPUs and I/O APICs of the MADT, and the
//! FADT/DSDT values that power the machine off (S5).
//!
//! The `acpi` crate parses the table headers; the MADT entries are walked
//! here. The \_S5 package is found with a small AML byte scan instead of an
//! AML interpreter, the usual approach for this one value.

use alloc::vec::Vec;
use core::ptr::NonNull;

use acpi::address::AddressSpace;
use acpi::fadt::Fadt;
use acpi::madt::{Madt, MadtEntry};
use acpi::{AcpiHandler, AcpiTables, PhysicalMapping};
use spin::Once;
use x86_64::PhysAddr;

use crate::mem::frame::phys_to_virt;

/// A processor listed in the MADT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cpu {
    /// Local APIC id (x2APIC id for x2APIC entries).
    pub apic_id: u32,
    /// ACPI processor UID.
    pub acpi_id: u32,
}

/// An I/O APIC listed in the MADT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoApic {
    /// I/O APIC id.
    pub id: u8,
    /// Physical address of its registers.
    pub address: u32,
    /// First global system interrupt it serves.
    pub gsi_base: u32,
}

#[derive(Default)]
struct Facts {
    cpus: Vec<Cpu>,
    io_apics: Vec<IoApic>,
    /// (PM1a control port, value to write) for S5 soft-off.
    s5: Option<(u16, u16)>,
}

static FACTS: Once<Facts> = Once::new();

/// Maps ACPI tables through the bootloader's physical-memory mapping, which
/// covers all RAM (where firmware puts the tables); nothing to unmap.
#[derive(Clone)]
struct OffsetMapper;

impl AcpiHandler for OffsetMapper {
    unsafe fn map_physical_region<T>(&self, physical: usize, size: usize) -> PhysicalMapping<Self, T> {
        let virt = phys_to_virt(PhysAddr::new(physical as u64)).as_mut_ptr::<T>();
        let virt = NonNull::new(virt).expect("physical mapping is never at 0");
        // SAFETY: `virt` maps `physical..physical + size` (all RAM is mapped at
        // the offset) for as long as the kernel runs.
        unsafe { PhysicalMapping::new(physical, virt, size, size, self.clone()) }
    }

    fn unmap_physical_region<T>(_region: &PhysicalMapping<Self, T>) {}
}

/// Reads the MADT, FADT and DSDT. Without an RSDP the lists stay empty.
pub fn init(rsdp: Option<u64>) {
    FACTS.call_once(|| {
        let Some(rsdp) = rsdp else {
            log::warn!("the bootloader found no RSDP");
            return Facts::default();
        };
        // SAFETY: the bootloader found a valid RSDP at this physical address.
        match unsafe { AcpiTables::from_rsdp(OffsetMapper, rsdp as usize) } {
            Ok(tables) => read_facts(&tables),
            Err(error) => {
                log::warn!("unusable tables: {error:?}");
                Facts::default()
            }
        }
    });
    for cpu in cpus() {
        log::info!("CPU apic_id={} acpi_id={}", cpu.apic_id, cpu.acpi_id);
    }
    log::debug!("S5 soft-off: {:?}", s5_command());
    for io in io_apics() {
        log::info!("I/O APIC id={} at {:#x}, GSI base {}", io.id, io.address, io.gsi_base);
    }
}

fn read_facts(tables: &AcpiTables<OffsetMapper>) -> Facts {
    let mut facts = Facts::default();
    if let Ok(madt) = tables.find_table::<Madt>() {
        for entry in madt.get().entries() {
            match entry {
                MadtEntry::LocalApic(e) if usable_cpu(e.flags) => {
                    facts.cpus.push(Cpu { apic_id: e.apic_id as u32, acpi_id: e.processor_id as u32 })
                }
                MadtEntry::LocalX2Apic(e) if usable_cpu(e.flags) => {
                    facts.cpus.push(Cpu { apic_id: e.x2apic_id, acpi_id: e.processor_uid })
                }
                MadtEntry::IoApic(e) => facts.io_apics.push(IoApic {
                    id: e.io_apic_id,
                    address: e.io_apic_address,
                    gsi_base: e.global_system_interrupt_base,
                }),
                _ => {}
            }
        }
    }
    facts.s5 = s5_from(tables);
    facts
}

/// MADT processor flags: bit 0 enabled, bit 1 online-capable.
fn usable_cpu(flags: u32) -> bool {
    flags & 0b11 != 0
}

fn s5_from(tables: &AcpiTables<OffsetMapper>) -> Option<(u16, u16)> {
    let fadt = tables.find_table::<Fadt>().ok()?;
    let control = fadt.pm1a_control_block().ok()?;
    if control.address_space != AddressSpace::SystemIo {
        return None;
    }
    let dsdt = tables.dsdt().ok()?;
    let aml = phys_to_virt(PhysAddr::new(dsdt.address as u64)).as_ptr::<u8>();
    // SAFETY: the DSDT's AML body lies in RAM mapped at the physical offset,
    // `length` bytes long, and firmware tables are never written.
    let aml = unsafe { core::slice::from_raw_parts(aml, dsdt.length as usize) };
    let (slp_typ_a, _) = parse_s5(aml)?;
    Some((control.address as u16, (slp_typ_a as u16) << 10 | 1 << 13))
}

/// Finds `Name(\_S5_, Package() { SLP_TYPa, SLP_TYPb, ... })` in AML and
/// returns the two sleep-type values.
pub fn parse_s5(aml: &[u8]) -> Option<(u8, u8)> {
    const NAME_OP: u8 = 0x08;
    const PACKAGE_OP: u8 = 0x12;
    const BYTE_PREFIX: u8 = 0x0a;
    let candidates = aml.windows(4).enumerate().filter(|(_, w)| *w == b"_S5_").map(|(i, _)| i);
    candidates.into_iter().find_map(|at| {
        let named = matches!(aml.get(at.wrapping_sub(1)), Some(&NAME_OP))
            || (aml.get(at.wrapping_sub(1)) == Some(&b'\\') && aml.get(at.wrapping_sub(2)) == Some(&NAME_OP));
        let mut i = at + 4;
        if !named || *aml.get(i)? != PACKAGE_OP {
            return None;
        }
        let pkg_length_bytes = (*aml.get(i + 1)? >> 6) as usize;
        i += 2 + pkg_length_bytes + 1; // PackageOp, PkgLength, NumElements
        let mut element = || -> Option<u8> {
            let value = match *aml.get(i)? {
                BYTE_PREFIX => {
                    i += 1;
                    *aml.get(i)?
                }
                small => small, // ZeroOp (0), OneOp (1)
            };
            i += 1;
            Some(value)
        };
        Some((element()?, element()?))
    })
}

/// The processors the MADT lists as enabled or online-capable.
pub fn cpus() -> &'static [Cpu] {
    FACTS.get().map_or(&[], |f| &f.cpus)
}

/// The I/O APICs.
pub fn io_apics() -> &'static [IoApic] {
    FACTS.get().map_or(&[], |f| &f.io_apics)
}

/// The port write that enters S5 (soft-off), if ACPI described one.
pub fn s5_command() -> Option<(u16, u16)> {
    FACTS.get()?.s5
}

#[cfg(test)]
mod tests {
    use super::parse_s5;

    #[test]
    fn finds_s5_package_with_byte_prefix_and_zero_ops() {
        // ... Name(_S5_, Package(4) { 0x05, Zero, Zero, Zero }) ...
        let aml = [0x10, 0x08, b'_', b'S', b'5', b'_', 0x12, 0x08, 0x04, 0x0a, 0x05, 0x00, 0x00, 0x00];
        assert_eq!(parse_s5(&aml), Some((5, 0)));
        let rooted = [0x08, b'\\', b'_', b'S', b'5', b'_', 0x12, 0x06, 0x02, 0x00, 0x0a, 0x07];
        assert_eq!(parse_s5(&rooted), Some((0, 7)));
    }

    #[test]
    fn ignores_references_that_are_not_definitions() {
        let aml = [0x70, b'_', b'S', b'5', b'_', 0x60, 0x08, b'_', b'S', b'5', b'_', 0x12, 0x05, 0x02, 0x01, 0x00];
        assert_eq!(parse_s5(&aml), Some((1, 0)));
        assert_eq!(parse_s5(b"_S5_"), None);
        assert_eq!(parse_s5(&[]), None);
    }
}

#[cfg(feature = "ktest")]
mod ktests {
    use crate::ktest;

    ktest! {
        fn madt_cpu_count_matches_smp() {
            let expected = crate::cmdline::get_u64("ktest.cpus").expect("xtask passes ktest.cpus=<--smp>");
            assert_eq!(super::cpus().len() as u64, expected, "MADT lists {:?}", super::cpus());
            let mut ids: alloc::vec::Vec<u32> = super::cpus().iter().map(|c| c.apic_id).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len() as u64, expected, "APIC ids are distinct");
            assert!(!super::io_apics().is_empty(), "an I/O APIC is listed");
            assert!(super::cpus().iter().any(|c| c.apic_id == crate::apic::current_id()), "the boot CPU is listed");
        }
    }
}

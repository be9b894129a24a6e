//! ELF64 executables: the checks and the facts the loader needs, read
//! with the `xmas-elf` crate. Static executables only (`ET_EXEC`, or
//! `ET_DYN` without an interpreter: static-pie, loaded at [`PIE_BASE`]).

use alloc::vec::Vec;

use abi::errno::{ENOEXEC, Errno};
use xmas_elf::ElfFile;
use xmas_elf::header::{Class, Machine, Type};
use xmas_elf::program::Type as Segment;

/// Where a position-independent executable is loaded.
pub const PIE_BASE: u64 = 0x5555_5555_4000;

/// One `PT_LOAD` segment, already relocated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Load {
    /// Virtual address of its first byte.
    pub vaddr: u64,
    /// Bytes in memory (the tail past `file_len` is zero: `.bss`).
    pub mem_len: u64,
    /// Offset of its bytes in the file.
    pub offset: u64,
    /// Bytes taken from the file.
    pub file_len: u64,
    /// `PF_R`, `PF_W`, `PF_X` as `PROT_*` bits.
    pub prot: u32,
}

/// What the loader needs from an executable.
#[derive(Debug, PartialEq, Eq)]
pub struct Executable {
    /// Entry point (relocated).
    pub entry: u64,
    /// The segments to map.
    pub loads: Vec<Load>,
    /// Address of the program headers in memory (`AT_PHDR`).
    pub phdr: u64,
    /// Size of one program header (`AT_PHENT`).
    pub phent: u64,
    /// Number of program headers (`AT_PHNUM`).
    pub phnum: u64,
}

/// Size of an ELF64 program header.
const PHENT_SIZE: u64 = 56;

/// Where an executable's program header table ends in the file, read from
/// its ELF header (the first bytes of `head`): what [`parse`] needs `head`
/// to hold. `ENOEXEC` if it is not an ELF64 file with 56-byte headers.
pub fn headers_end(head: &[u8]) -> Result<u64, Errno> {
    let elf = ElfFile::new(head).map_err(|_| ENOEXEC)?;
    let pt2 = &elf.header.pt2;
    if elf.header.pt1.class() != Class::SixtyFour || u64::from(pt2.ph_entry_size()) != PHENT_SIZE {
        return Err(ENOEXEC);
    }
    pt2.ph_offset().checked_add(u64::from(pt2.ph_count()) * PHENT_SIZE).ok_or(ENOEXEC)
}

/// Parses and checks an executable of `size` bytes from `head`, its first
/// bytes through the program headers ([`headers_end`]); `ENOEXEC` if it is
/// not a static x86_64 ELF64 executable this kernel can run.
pub fn parse(head: &[u8], size: u64) -> Result<Executable, Errno> {
    if headers_end(head)? > head.len() as u64 {
        return Err(ENOEXEC);
    }
    let elf = ElfFile::new(head).map_err(|_| ENOEXEC)?;
    let header = &elf.header;
    if header.pt2.machine().as_machine() != Machine::X86_64 {
        return Err(ENOEXEC);
    }
    let base = match header.pt2.type_().as_type() {
        Type::Executable => 0,
        Type::SharedObject => PIE_BASE,
        _ => return Err(ENOEXEC),
    };
    let mut loads = Vec::new();
    let mut phdr = None;
    let mut first_load_file_start = None;
    for ph in elf.program_iter() {
        match ph.get_type().map_err(|_| ENOEXEC)? {
            Segment::Interp => return Err(ENOEXEC),
            Segment::Phdr => phdr = Some(base + ph.virtual_addr()),
            Segment::Load => {
                let (offset, file_len, mem_len) = (ph.offset(), ph.file_size(), ph.mem_size());
                if file_len > mem_len || offset.checked_add(file_len).is_none_or(|end| end > size) {
                    return Err(ENOEXEC);
                }
                let vaddr = base.checked_add(ph.virtual_addr()).ok_or(ENOEXEC)?;
                vaddr.checked_add(mem_len).ok_or(ENOEXEC)?;
                let flags = ph.flags();
                let prot = (flags.is_read() as u32) | (flags.is_write() as u32) << 1 | (flags.is_execute() as u32) << 2;
                if offset == 0 {
                    first_load_file_start = Some(vaddr);
                }
                loads.push(Load { vaddr, mem_len, offset, file_len, prot });
            }
            _ => {}
        }
    }
    if loads.is_empty() {
        return Err(ENOEXEC);
    }
    let phoff = header.pt2.ph_offset();
    // Without PT_PHDR, the headers are in memory if the first segment maps
    // the file from offset 0 (the usual case).
    let phdr = phdr.or(first_load_file_start.map(|start| start + phoff)).unwrap_or(0);
    Ok(Executable {
        entry: base + header.pt2.entry_point(),
        loads,
        phdr,
        phent: PHENT_SIZE,
        phnum: header.pt2.ph_count() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_truncated_images_are_enoexec() {
        for image in [&b"not an elf"[..], &[0x7f, b'E', b'L', b'F', 2, 1, 1], b"#!/bin/sh\necho hi\n"] {
            assert_eq!(parse(image, image.len() as u64).unwrap_err(), ENOEXEC);
        }
    }

    #[test]
    fn a_static_host_binary_parses_with_its_segments() {
        // Debian's busybox-static (or any static ELF the host has).
        let Some(image) = ["/bin/busybox", "/usr/bin/busybox"].iter().find_map(|p| std::fs::read(p).ok()) else {
            eprintln!("no static busybox on this host; skipped");
            return;
        };
        let end = headers_end(&image).expect("an ELF64 header") as usize;
        let exe = parse(&image[..end], image.len() as u64).expect("busybox parses from its headers alone");
        assert_eq!(parse(&image[..end - 1], image.len() as u64), Err(ENOEXEC), "program headers cut short");
        assert_eq!(parse(&image[..end], 100), Err(ENOEXEC), "segments past the end of the file");
        assert!(exe.loads.iter().any(|l| l.prot & 4 != 0), "a code segment");
        assert!(exe.loads.iter().any(|l| l.prot & 2 != 0), "a data segment");
        assert!(exe.loads.iter().any(|l| (l.vaddr..l.vaddr + l.mem_len).contains(&exe.entry)), "entry in a segment");
        assert_eq!(exe.phent, 56);
        assert!(exe.phdr != 0);
    }
}

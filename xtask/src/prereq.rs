//! Host prerequisites: the Rust toolchains named by the two
//! `rust-toolchain.toml` files, QEMU, OVMF for UEFI boots, a static
//! BusyBox for the initramfs, and musl-gcc for the user-space tests. Missing
//! QEMU, OVMF, BusyBox or musl-gcc is installed
//! with apt-get when running as root (and said so); otherwise xtask stops
//! with the exact command to run.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Result, bail};

use crate::build::{check, install_toolchain};
use crate::qemu::Ovmf;
use crate::root;

/// Host tools found (or installed).
pub struct Tools {
    /// The `qemu-system-x86_64` binary.
    pub qemu: PathBuf,
    /// OVMF firmware, when UEFI boots were asked for.
    pub ovmf: Option<Ovmf>,
}

const QEMU: &str = "qemu-system-x86_64";
/// Split OVMF flash images (code, variable-store template), as Debian ships
/// them (bookworm and later), best first.
const OVMF_PFLASH: &[(&str, &str)] = &[
    ("/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"),
    ("/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"),
];
/// Where Debian's `busybox-static` installs BusyBox.
const BUSYBOX: &str = "/bin/busybox";
/// Single-file OVMF images usable with `-bios`.
const OVMF_COMBINED: &[&str] = &["/usr/share/ovmf/OVMF.fd", "/usr/share/qemu/OVMF.fd"];

fn find_in_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|dir| Path::new(dir).join(name)).find(|p| p.is_file())
}

fn find_ovmf() -> Option<Ovmf> {
    let pflash = OVMF_PFLASH.iter().find(|(code, vars)| Path::new(code).is_file() && Path::new(vars).is_file());
    match pflash {
        Some((code, vars)) => Some(Ovmf::Pflash { code: code.into(), vars_template: vars.into() }),
        None => OVMF_COMBINED.iter().map(PathBuf::from).find(|p| p.is_file()).map(Ovmf::Combined),
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Installs Debian packages, or explains how when not root.
fn apt_install(packages: &[&str], why: &str) -> Result<()> {
    let command = format!("apt-get update && apt-get install -y {}", packages.join(" "));
    if !is_root() {
        bail!("{why} is missing. Install it with:\n    sudo sh -c '{command}'");
    }
    eprintln!("xtask: {why} is missing; installing with: {command}");
    check(Command::new("apt-get").arg("update").arg("-q"), "apt-get update")?;
    check(
        Command::new("apt-get").args(["install", "-y", "-q"]).args(packages).env("DEBIAN_FRONTEND", "noninteractive"),
        "apt-get install",
    )
}

/// Makes sure everything a boot needs is present (OVMF only if `uefi`).
pub fn ensure(uefi: bool) -> Result<Tools> {
    install_toolchain(&root())?;
    install_toolchain(&root().join("tools/image-builder"))?;
    let mut missing = Vec::new();
    if find_in_path(QEMU).is_none() {
        missing.push("qemu-system-x86");
    }
    if uefi && find_ovmf().is_none() {
        missing.push("ovmf");
    }
    if !missing.is_empty() {
        apt_install(&missing, "QEMU/OVMF")?;
    }
    let Some(qemu) = find_in_path(QEMU) else { bail!("{QEMU} is still not on PATH") };
    let ovmf = match uefi {
        true => {
            Some(find_ovmf().ok_or_else(|| anyhow::anyhow!("no OVMF found at {OVMF_PFLASH:?} or {OVMF_COMBINED:?}"))?)
        }
        false => None,
    };
    Ok(Tools { qemu, ovmf })
}

/// The host's static BusyBox for the initramfs, installed with Debian's
/// `busybox-static` if missing (or if `/bin/busybox` is the dynamically
/// linked one of the `busybox` package, which the kernel could not run).
pub fn busybox() -> Result<PathBuf> {
    let is_static = || std::fs::read(BUSYBOX).is_ok_and(|elf| is_static_elf(&elf));
    if !is_static() {
        apt_install(&["busybox-static"], "A statically linked BusyBox (/bin/busybox)")?;
        if !is_static() {
            bail!("{BUSYBOX} is still not a statically linked ELF");
        }
    }
    Ok(BUSYBOX.into())
}

/// `musl-gcc` for the user-space test programs, installed with Debian's
/// `musl-tools` if missing.
pub fn musl_gcc() -> Result<PathBuf> {
    if find_in_path("musl-gcc").is_none() {
        apt_install(&["musl-tools"], "musl-gcc (for the user-space tests)")?;
    }
    find_in_path("musl-gcc").ok_or_else(|| anyhow::anyhow!("musl-gcc is still not on PATH"))
}

/// Whether `elf` is an x86_64 ELF executable without a program interpreter
/// (`PT_INTERP`), i.e. one that needs no dynamic loader.
fn is_static_elf(elf: &[u8]) -> bool {
    const PT_INTERP: u32 = 3;
    let u16_at = |at: usize| elf.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let u32_at = |at: usize| elf.get(at..at + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()));
    let u64_at = |at: usize| elf.get(at..at + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap()) as usize);
    // Magic, 64-bit, little-endian, executable (ET_EXEC or ET_DYN), x86_64.
    let header_ok = elf.starts_with(b"\x7fELF\x02\x01") && matches!(u16_at(16), Some(2 | 3)) && u16_at(18) == Some(62);
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(32), u16_at(54), u16_at(56)) else {
        return false;
    };
    header_ok && (0..phnum).all(|i| u32_at(phoff + i * phentsize).is_some_and(|p_type| p_type != PT_INTERP))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_elf_has_no_interpreter() {
        let mut elf = vec![0u8; 64 + 56];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        elf[16] = 2; // ET_EXEC
        elf[18] = 62; // EM_X86_64
        elf[32] = 64; // one program header right after the ELF header
        elf[54] = 56;
        elf[56] = 1;
        elf[64] = 1; // PT_LOAD
        assert!(is_static_elf(&elf));
        elf[64] = 3; // PT_INTERP
        assert!(!is_static_elf(&elf));
        let this = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(!is_static_elf(&this), "the test binary is dynamically linked");
        assert!(!is_static_elf(b"#!/bin/sh\n"));
    }
}

//! Host prerequisites: the Rust toolchains named by the two
//! `rust-toolchain.toml` files, QEMU, OVMF for UEFI boots, a static
//! BusyBox for the initramfs, musl-gcc for the user-space tests and
//! benchmarks, and Debian's Linux kernel as the benchmarks' baseline. Missing
//! QEMU, OVMF, BusyBox or musl-gcc is installed
//! with apt-get when running as root (and said so); otherwise xtask stops
//! with the exact command to run. The Linux kernel is only downloaded, never
//! installed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, anyhow, bail};

use crate::build::{check, install_toolchain, stdout_of};
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

/// Debian's metapackage for the current amd64 kernel; it depends on the
/// package that holds it (`linux-image-6.1.0-NN-amd64`).
const LINUX_PACKAGE: &str = "linux-image-amd64";

/// The `vmlinuz-<version>` of Debian's current `linux-image-amd64`, fetched
/// into `dir/boot/` without installing anything: `apt-get download` the
/// metapackage and the package its `Depends` names, then extract just
/// `./boot/vmlinuz-*` from the latter. A kernel already there is reused.
pub fn linux_kernel(dir: &Path) -> Result<PathBuf> {
    let boot = dir.join("boot");
    if let Some(kernel) = last_file(&boot, "vmlinuz-", "") {
        return Ok(kernel);
    }
    fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    let by_hand = format!(
        "To fetch the kernel by hand, run:\n    apt-get update && cd {} && apt-get download {LINUX_PACKAGE} && \
         apt-get download $(dpkg-deb -f {LINUX_PACKAGE}_*.deb Depends | cut -d' ' -f1) && \
         dpkg-deb --fsys-tarfile linux-image-[0-9]*.deb | tar -x --wildcards './boot/vmlinuz-*'",
        dir.display()
    );
    eprintln!("xtask: fetching Debian's Linux kernel ({LINUX_PACKAGE}) into {}", dir.display());
    let fetch = || -> Result<()> {
        let meta = apt_download(dir, LINUX_PACKAGE)?;
        let depends = stdout_of(Command::new("dpkg-deb").arg("-f").arg(&meta).arg("Depends"), "dpkg-deb -f")?;
        let image = depends.split([',', '|', ' ']).next().filter(|p| !p.is_empty());
        let image = image.with_context(|| format!("{} has no Depends", meta.display()))?;
        let deb = apt_download(dir, image)?;
        let mut unpack = Command::new("dpkg-deb")
            .arg("--fsys-tarfile")
            .arg(&deb)
            .stdout(Stdio::piped())
            .spawn()
            .context("run dpkg-deb")?;
        let tar = Command::new("tar")
            .current_dir(dir)
            .args(["-x", "--wildcards", "./boot/vmlinuz-*"])
            .stdin(unpack.stdout.take().expect("stdout is piped"))
            .status()
            .context("run tar")?;
        let unpacked = unpack.wait()?;
        if !unpacked.success() || !tar.success() {
            bail!("extracting ./boot/vmlinuz-* from {} failed ({unpacked}, tar: {tar})", deb.display());
        }
        for package in [meta, deb] {
            fs::remove_file(&package).with_context(|| format!("remove {}", package.display()))?;
        }
        Ok(())
    };
    fetch().map_err(|error| anyhow!("could not fetch Debian's Linux kernel: {error:#}\n{by_hand}"))?;
    last_file(&boot, "vmlinuz-", "").with_context(|| format!("no vmlinuz-* in {}\n{by_hand}", boot.display()))
}

/// The last (by name) file in `dir` whose name starts with `prefix` and
/// ends with `suffix`, if any.
fn last_file(dir: &Path, prefix: &str, suffix: &str) -> Option<PathBuf> {
    let names = fs::read_dir(dir).ok()?.filter_map(|entry| entry.ok()?.file_name().into_string().ok());
    names.filter(|name| name.starts_with(prefix) && name.ends_with(suffix)).max().map(|name| dir.join(name))
}

/// Runs `apt-get download package` in `dir` (after `apt-get update` if it
/// fails the first time and this is root: the package lists may be missing
/// or stale) and returns the `.deb`.
fn apt_download(dir: &Path, package: &str) -> Result<PathBuf> {
    let download = || Command::new("apt-get").current_dir(dir).args(["download", "-q", package]).output();
    let mut output = download().context("run apt-get (Debian's package tool)")?;
    if !output.status.success() && is_root() {
        check(Command::new("apt-get").args(["update", "-q"]), "apt-get update")?;
        output = download()?;
    }
    if !output.status.success() {
        bail!("apt-get download {package} failed ({}):\n{}", output.status, String::from_utf8_lossy(&output.stderr));
    }
    let prefix = format!("{package}_");
    last_file(dir, &prefix, ".deb").with_context(|| format!("apt-get download {package} left no {prefix}*.deb"))
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

//! Host prerequisites: the Rust toolchains named by the two
//! `rust-toolchain.toml` files, QEMU, and OVMF for UEFI boots. Missing QEMU
//! or OVMF is installed with apt-get when running as root (and said so);
//! otherwise xtask stops with the exact command to run.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Result, bail};

use crate::build::{check, install_toolchain};
use crate::root;

/// Host tools found (or installed).
pub struct Tools {
    /// The `qemu-system-x86_64` binary.
    pub qemu: PathBuf,
    /// OVMF firmware, when UEFI boots were asked for.
    pub ovmf: Option<PathBuf>,
}

const QEMU: &str = "qemu-system-x86_64";
/// Where Debian and friends put a single-file OVMF usable with `-bios`.
const OVMF_CANDIDATES: &[&str] = &["/usr/share/ovmf/OVMF.fd", "/usr/share/OVMF/OVMF.fd", "/usr/share/qemu/OVMF.fd"];

fn find_in_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|dir| Path::new(dir).join(name)).find(|p| p.is_file())
}

fn find_ovmf() -> Option<PathBuf> {
    OVMF_CANDIDATES.iter().map(PathBuf::from).find(|p| p.is_file())
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
        true => Some(find_ovmf().ok_or_else(|| anyhow::anyhow!("no OVMF found at {OVMF_CANDIDATES:?}"))?),
        false => None,
    };
    Ok(Tools { qemu, ovmf })
}

//! Host prerequisites: the Rust toolchains named by the two
//! `rust-toolchain.toml` files, QEMU, and OVMF for UEFI boots. Missing QEMU
//! or OVMF is installed with apt-get when running as root (and said so);
//! otherwise xtask stops with the exact command to run.

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

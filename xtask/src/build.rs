//! Building the kernel ELF and its BIOS/UEFI disk images, with the
//! initramfs (see [`crate::initramfs`]) as the bootloader's ramdisk.
//!
//! The kernel builds on the workspace's stable toolchain for
//! `x86_64-unknown-none`. Images come from `tools/image-builder`, a separate
//! workspace on nightly (the `bootloader` crate's build script needs it), so
//! cargo runs there with the toolchain variables of this process removed:
//! otherwise rustup would force this process's toolchain onto it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::root;

/// A GC policy of the kernel's heaps: the runtime's `gc-<name>` feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Gc {
    /// Paced incremental mark-sweep (the default).
    Incremental,
    /// Stop-the-world collection when the heap has grown.
    Stw,
    /// Never collect (the baseline).
    None,
}

impl Gc {
    /// Every policy, in `--gc all` order.
    pub const ALL: [Gc; 3] = [Gc::Incremental, Gc::Stw, Gc::None];

    /// The name in `--gc` and in the feature.
    pub fn name(self) -> &'static str {
        match self {
            Gc::Incremental => "incremental",
            Gc::Stw => "stw",
            Gc::None => "none",
        }
    }
}

/// `--gc`: one GC policy, or all of them.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GcChoice {
    /// Paced incremental mark-sweep.
    Incremental,
    /// Stop-the-world on growth.
    Stw,
    /// Never collect.
    None,
    /// Each of them, one after the other.
    All,
}

impl GcChoice {
    /// The policies chosen, in [`Gc::ALL`] order.
    pub fn policies(self) -> Vec<Gc> {
        match self {
            GcChoice::Incremental => vec![Gc::Incremental],
            GcChoice::Stw => vec![Gc::Stw],
            GcChoice::None => vec![Gc::None],
            GcChoice::All => Gc::ALL.to_vec(),
        }
    }
}

/// Which kernel to build.
pub struct KernelBuild {
    /// Optimized (release profile).
    pub release: bool,
    /// With the in-kernel test suite instead of the kernel's normal start.
    pub ktest: bool,
    /// GC policy.
    pub gc: Gc,
}

/// A built kernel: the unstripped ELF (for GDB and symbolizing) and the disk
/// images that boot it with one ramdisk.
#[derive(Clone)]
pub struct Kernel {
    /// Unstripped kernel ELF.
    pub elf: PathBuf,
    /// BIOS disk image.
    pub bios: PathBuf,
    /// UEFI disk image.
    pub uefi: PathBuf,
}

/// Variables that tie a child cargo to this process's toolchain.
const TOOLCHAIN_VARS: &[&str] = &[
    "RUSTUP_TOOLCHAIN",
    "RUSTC",
    "RUSTDOC",
    "CARGO",
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
];

/// Runs `command`, failing with `what` if it does not succeed.
pub fn check(command: &mut Command, what: &str) -> Result<()> {
    let status = command.status().with_context(|| format!("{what}: could not start {:?}", command.get_program()))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// Runs `command` and returns its standard output, trimmed, failing with
/// `what` and its standard error if it does not succeed.
pub fn stdout_of(command: &mut Command, what: &str) -> Result<String> {
    let output = command.output().with_context(|| format!("{what}: could not start {:?}", command.get_program()))?;
    if !output.status.success() {
        bail!("{what} failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Builds the kernel and both disk images, with `ramdisk` (an initramfs)
/// as the bootloader's ramdisk. The images are named after the ramdisk
/// (`bios-initramfs-run.img`), so that runs of one kernel with different
/// ramdisks do not overwrite each other's images.
pub fn kernel(build: &KernelBuild, ramdisk: &Path) -> Result<Kernel> {
    let root = root();
    let profile = if build.release { "release" } else { "debug" };
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(&root).args(["build", "--package", "boot", "--target", "x86_64-unknown-none"]);
    if build.release {
        cargo.arg("--release");
    }
    let mut features = format!("gc-{}", build.gc.name());
    if build.ktest {
        features += ",ktest";
    }
    cargo.args(["--no-default-features", "--features", &features]);
    check(&mut cargo, "kernel build")?;

    let name = format!("kernel-{profile}-{}{}", build.gc.name(), if build.ktest { "-ktest" } else { "" });
    let out = root.join("target/xtask").join(&name);
    fs::create_dir_all(&out)?;
    let elf = out.join("hardtack.elf");
    fs::copy(root.join("target/x86_64-unknown-none").join(profile).join("hardtack"), &elf)?;
    // Debug info is for the host; the BIOS loader reads every byte of the
    // image slowly under TCG, so the image gets a stripped copy.
    let stripped = out.join("hardtack.stripped");
    check(Command::new(llvm_objcopy()?).arg("--strip-debug").arg(&elf).arg(&stripped), "strip kernel")?;

    let stem = ramdisk.file_stem().map_or("ramdisk".into(), |stem| stem.to_string_lossy());
    let kernel = Kernel { elf, bios: out.join(format!("bios-{stem}.img")), uefi: out.join(format!("uefi-{stem}.img")) };
    // Written aside, then renamed: a QEMU still booting the previous image
    // keeps reading (and holding its lock on) the old file.
    let partial = |image: &Path| image.with_extension("img.partial");
    let mut builder = Command::new(image_builder()?);
    builder.arg(&stripped).arg("--ramdisk").arg(ramdisk);
    builder.arg("--bios").arg(partial(&kernel.bios)).arg("--uefi").arg(partial(&kernel.uefi));
    check(&mut builder, "disk images")?;
    for image in [&kernel.bios, &kernel.uefi] {
        fs::rename(partial(image), image)?;
    }
    Ok(kernel)
}

/// The `llvm-objcopy` of the workspace toolchain's `llvm-tools` component.
fn llvm_objcopy() -> Result<PathBuf> {
    let output = Command::new("rustc").current_dir(root()).args(["--print", "sysroot"]).output()?;
    let sysroot = PathBuf::from(String::from_utf8(output.stdout)?.trim());
    let host = std::env::consts::ARCH.to_string() + "-unknown-linux-gnu";
    let tool = sysroot.join("lib/rustlib").join(host).join("bin/llvm-objcopy");
    if !tool.exists() {
        bail!("{} is missing: run `rustup component add llvm-tools` in {}", tool.display(), root().display());
    }
    Ok(tool)
}

/// Builds (if needed) and returns the image builder binary.
fn image_builder() -> Result<PathBuf> {
    let dir = root().join("tools/image-builder");
    let mut cargo = Command::new("cargo");
    cargo.current_dir(&dir).args(["build", "--release", "--quiet"]);
    for var in TOOLCHAIN_VARS {
        cargo.env_remove(var);
    }
    check(&mut cargo, "image builder build (nightly; the first build takes a few minutes)")?;
    Ok(dir.join("target/release/image-builder"))
}

/// Runs `rustup toolchain install` in `dir`, which installs the toolchain,
/// targets and components its `rust-toolchain.toml` names (a no-op when
/// they are there).
pub fn install_toolchain(dir: &Path) -> Result<()> {
    let mut rustup = Command::new("rustup");
    rustup.current_dir(dir).args(["toolchain", "install"]);
    for var in TOOLCHAIN_VARS {
        rustup.env_remove(var);
    }
    let output = rustup.output().context("rustup is needed to install the Rust toolchains")?;
    if !output.status.success() {
        bail!("rustup toolchain install in {} failed:\n{}", dir.display(), String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}

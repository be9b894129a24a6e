//! What the guests run: `bench/hbench.c` (the user-space benchmarks, as
//! `/init`) and `bench/nop.c` (its exec target), built with
//! `musl-gcc -static -O2` into `target/bench-bin/`, and the initramfs of
//! each kernel that holds them. No BusyBox: hbench needs no shell.

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::initramfs::{self, Initramfs};
use crate::{prereq, root, usertests};

/// The built benchmark programs.
pub struct Programs {
    /// `hbench`, the benchmark runner.
    hbench: Vec<u8>,
    /// `nop`, which exits 0 at once.
    nop: Vec<u8>,
}

/// Builds `bench/hbench.c` and `bench/nop.c` into `target/bench-bin/`.
pub fn build_programs() -> Result<Programs> {
    let musl_gcc = prereq::musl_gcc()?;
    let src = root().join("bench");
    let out = root().join("target/bench-bin");
    fs::create_dir_all(&out).with_context(|| format!("create {}", out.display()))?;
    let build = |name: &str| -> Result<Vec<u8>> {
        let source = src.join(format!("{name}.c"));
        if !source.is_file() {
            anyhow::bail!("{} is missing: the benchmarks live in bench/", source.display());
        }
        let binary = out.join(name);
        usertests::compile(&musl_gcc, &["-static", "-O2"], &source, &binary)?;
        fs::read(&binary).with_context(|| format!("read {}", binary.display()))
    };
    Ok(Programs { hbench: build("hbench")?, nop: build("nop")? })
}

/// The files both kernels get: `/init` (hbench), `/bench/nop` and
/// `/bench/scale` (`scale`, which multiplies every iteration count).
fn common(programs: &Programs, scale: u32) -> Result<Initramfs> {
    Initramfs::new()
        .file("/init", 0o755, programs.hbench.clone())?
        .file("/bench/nop", 0o755, programs.nop.clone())?
        .file("/bench/scale", 0o644, format!("{scale}\n"))
}

/// Hardtack's initramfs, `target/xtask/initramfs-bench.cpio`.
pub fn hardtack_initramfs(programs: &Programs, scale: u32) -> Result<PathBuf> {
    let path = initramfs::output_path("bench")?;
    common(programs, scale)?.write(&path)?;
    Ok(path)
}

/// Linux's initramfs, `target/xtask/initramfs-bench-linux.cpio`: Hardtack's
/// files and `/dev/console` (5:1), which Linux opens as init's stdin,
/// stdout and stderr (there is no devtmpfs in an initramfs).
pub fn linux_initramfs(programs: &Programs, scale: u32) -> Result<PathBuf> {
    let path = initramfs::output_path("bench-linux")?;
    common(programs, scale)?.char_device("/dev/console", 0o600, 5, 1)?.write(&path)?;
    Ok(path)
}

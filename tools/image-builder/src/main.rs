//! `image-builder KERNEL_ELF [--ramdisk FILE] [--bios OUT] [--uefi OUT]`
//!
//! Builds bootable disk images for a Hardtack kernel with the `bootloader`
//! crate. xtask drives it; it is a separate tool only because the bootloader's
//! build script needs a nightly toolchain.

use std::path::PathBuf;
use std::process::ExitCode;

use bootloader::{BootConfig, DiskImageBuilder};
use bootloader_boot_config::LevelFilter;

/// What to build, as parsed from the command line.
struct Request {
    kernel: PathBuf,
    ramdisk: Option<PathBuf>,
    bios: Option<PathBuf>,
    uefi: Option<PathBuf>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Request, String> {
    let mut kernel = None;
    let (mut ramdisk, mut bios, mut uefi) = (None, None, None);
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--ramdisk" => &mut ramdisk,
            "--bios" => &mut bios,
            "--uefi" => &mut uefi,
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}")),
            _ => {
                kernel = Some(PathBuf::from(arg));
                continue;
            }
        };
        let value = args.next().ok_or_else(|| format!("{arg} needs a path"))?;
        *slot = Some(PathBuf::from(value));
    }
    let kernel = kernel.ok_or("missing KERNEL_ELF")?;
    Ok(Request { kernel, ramdisk, bios, uefi })
}

fn build(request: &Request) -> Result<(), String> {
    let mut builder = DiskImageBuilder::new(request.kernel.clone());
    // The bootloader only reports problems, and only on serial: framebuffer
    // logging costs seconds under TCG and the kernel's console is serial.
    let mut config = BootConfig::default();
    config.log_level = LevelFilter::Warn;
    config.frame_buffer_logging = false;
    builder.set_boot_config(&config);
    if let Some(ramdisk) = &request.ramdisk {
        builder.set_ramdisk(ramdisk.clone());
    }
    if let Some(out) = &request.bios {
        builder.create_bios_image(out).map_err(|e| format!("BIOS image: {e:#}"))?;
    }
    if let Some(out) = &request.uefi {
        builder.create_uefi_image(out).map_err(|e| format!("UEFI image: {e:#}"))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse(std::env::args().skip(1)).and_then(|request| build(&request)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("image-builder: {message}");
            eprintln!("usage: image-builder KERNEL_ELF [--ramdisk FILE] [--bios OUT] [--uefi OUT]");
            ExitCode::FAILURE
        }
    }
}

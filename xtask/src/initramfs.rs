//! The initramfs: a cpio newc archive that the image builder puts on the
//! boot disk as the bootloader's ramdisk (`shim::ramdisk::ramdisk()` in the
//! kernel), holding a static BusyBox and whatever `--add` brings.
//!
//! # The contract with the kernel
//!
//! - The kernel unpacks the archive as its root file system and runs
//!   `/init` (here a `#!/bin/sh` script; the kernel handles `#!`) with
//!   `/dev/console` open as file descriptors 0, 1 and 2.
//! - When init exits, the kernel prints exactly one line,
//!   `hardtack: init exited with status N` (N in 0..=255) or
//!   `hardtack: init killed by signal S`, then powers the machine off (ACPI:
//!   QEMU exits with 0). xtask reads that line back ([`crate::qemu::Outcome`]),
//!   so `cargo xtask run --init CMD` exits with CMD's status, or 128 + S.
//!
//! # The default archive
//!
//! `/bin/busybox` (Debian's `busybox-static`) with a symbolic link to it for
//! every applet (`busybox --list-full`: `/bin/ls`, `/usr/bin/wc`,
//! `/sbin/poweroff` …), the directories `/dev /proc /sys /tmp /etc /root
//! /home`, a minimal `/etc` (`passwd`, `group`, `shadow` (mode 0600: root
//! has no password to log in with), `hostname`), and an `/init`
//! that sets `PATH`, `HOME` and `PS1`, changes to `/root` and runs an
//! interactive `sh` on the console — or, with `--init CMD`, runs CMD (saved
//! as `/etc/hardtack-init.sh`) with `sh`, so that CMD's exit status becomes
//! init's. Everything is owned by root, with mtime 0.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::root;

/// File-type bits of a cpio (and `stat`) mode.
const S_IFCHR: u32 = 0o020000;
const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;

/// Writes a cpio "newc" archive (the format of Linux initramfs images and
/// `cpio -H newc`): per entry a 110-byte ASCII header, the NUL-terminated
/// name padded to 4 bytes, the data padded to 4 bytes; then the
/// `TRAILER!!!` entry. Inode numbers count up from 1; owner, group, mtime
/// and device numbers are 0, except the device number a device node stands
/// for (rdevmajor, rdevminor).
pub struct CpioWriter<W: Write> {
    out: W,
    next_inode: u32,
}

impl<W: Write> CpioWriter<W> {
    /// A writer that appends entries to `out`.
    pub fn new(out: W) -> CpioWriter<W> {
        CpioWriter { out, next_inode: 1 }
    }

    /// Appends one entry: `name` is relative (`bin/sh`), `mode` holds the
    /// file type and permission bits, `data` is a file's contents or a
    /// symbolic link's target (empty for a directory).
    pub fn entry(&mut self, name: &str, mode: u32, data: &[u8]) -> io::Result<()> {
        self.entry_with_rdev(name, mode, data, (0, 0))
    }

    /// Appends device node `name` (`mode` holds the file type and permission
    /// bits) for device `major`:`minor`.
    pub fn device(&mut self, name: &str, mode: u32, (major, minor): (u32, u32)) -> io::Result<()> {
        self.entry_with_rdev(name, mode, &[], (major, minor))
    }

    /// Appends the trailer and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.write_entry(0, 0, 1, "TRAILER!!!", &[], (0, 0))?;
        Ok(self.out)
    }

    fn entry_with_rdev(&mut self, name: &str, mode: u32, data: &[u8], rdev: (u32, u32)) -> io::Result<()> {
        let inode = self.next_inode;
        self.next_inode += 1;
        let links = if mode & 0o170000 == S_IFDIR { 2 } else { 1 };
        self.write_entry(inode, mode, links, name, data, rdev)
    }

    fn write_entry(
        &mut self,
        inode: u32,
        mode: u32,
        links: u32,
        name: &str,
        data: &[u8],
        (rdev_major, rdev_minor): (u32, u32),
    ) -> io::Result<()> {
        let too_big = || io::Error::new(io::ErrorKind::InvalidInput, format!("{name}: too large for cpio newc"));
        let size = u32::try_from(data.len()).map_err(|_| too_big())?;
        let name_size = u32::try_from(name.len() + 1).map_err(|_| too_big())?;
        // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
        let fields = [inode, mode, 0, 0, links, 0, size, 0, 0, rdev_major, rdev_minor, name_size, 0];
        let mut header = String::from("070701");
        for field in fields {
            header += &format!("{field:08x}");
        }
        self.out.write_all(header.as_bytes())?;
        self.out.write_all(name.as_bytes())?;
        self.out.write_all(&[0])?;
        self.pad(header.len() + name.len() + 1)?;
        self.out.write_all(data)?;
        self.pad(data.len())
    }

    /// Zeros that bring `len` to a multiple of 4 (every entry starts aligned).
    fn pad(&mut self, len: usize) -> io::Result<()> {
        self.out.write_all(&[0; 3][..len.next_multiple_of(4) - len])
    }
}

/// One node of the archive's tree.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Dir { mode: u32 },
    File { mode: u32, data: Vec<u8> },
    Symlink { target: String },
    CharDevice { mode: u32, rdev: (u32, u32) },
}

impl Node {
    /// Appends the node to `cpio` as `name`.
    fn write_to<W: Write>(&self, name: &str, cpio: &mut CpioWriter<W>) -> io::Result<()> {
        match self {
            Node::Dir { mode } => cpio.entry(name, S_IFDIR | mode, &[]),
            Node::File { mode, data } => cpio.entry(name, S_IFREG | mode, data),
            Node::Symlink { target } => cpio.entry(name, S_IFLNK | 0o777, target.as_bytes()),
            Node::CharDevice { mode, rdev } => cpio.device(name, S_IFCHR | mode, *rdev),
        }
    }
}

/// An initramfs under construction: a tree of directories, files, symbolic
/// links and character devices by guest path, written out as cpio newc by
/// [`Initramfs::write`]. Parent directories are created as needed (mode
/// 0755). Adding a file or link at an existing file or link replaces it, a
/// directory at a directory sets its mode; a directory never replaces or is
/// replaced by anything else.
///
/// ```ignore
/// Initramfs::standard(&busybox)?.add_host(Path::new("tests/bin"), "/tests")?.init_script("...")?.write(&path)?;
/// ```
#[derive(Clone, Debug, Default)]
pub struct Initramfs {
    /// Relative guest paths (`usr/bin/wc`); the ordering puts every
    /// directory before its contents, as an unpacker needs.
    nodes: BTreeMap<String, Node>,
}

/// Top-level directories of the standard archive, with their modes.
const DIRECTORIES: &[(&str, u32)] = &[
    ("/dev", 0o755),
    ("/proc", 0o755),
    ("/sys", 0o755),
    ("/tmp", 0o1777),
    ("/etc", 0o755),
    ("/root", 0o755),
    ("/home", 0o755),
];

/// Small files of the standard `/etc`.
const ETC_FILES: &[(&str, &str)] = &[
    ("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
    ("/etc/group", "root:x:0:\n"),
    ("/etc/hostname", "hardtack\n"),
    // BusyBox init's table for the interactive system: a login shell on
    // the console, started again if it exits; `poweroff`/`reboot` at the
    // prompt signal init, which stops everything and calls reboot(2).
    (
        "/etc/inittab",
        "::sysinit:/bin/echo 'Hardtack: BusyBox shell on the console; poweroff (or reboot) ends it.'\n\
         ::respawn:-/bin/sh\n\
         ::ctrlaltdel:/bin/reboot\n",
    ),
    ("/etc/profile", "export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root PS1='\\w # '\ncd /root\n"),
];

/// Files of the standard `/etc` only root may read (mode 0600).
const ETC_SECRETS: &[(&str, &str)] = &[("/etc/shadow", "root:*:0:0:99999:7:::\n")];

/// Where `--init CMD` saves CMD for `/init` to run.
const INIT_COMMAND_PATH: &str = "/etc/hardtack-init.sh";

impl Initramfs {
    /// An empty archive.
    pub fn new() -> Initramfs {
        Initramfs::default()
    }

    /// The directories and `/etc` of the standard system (see the module
    /// docs), without BusyBox or `/init`.
    pub fn skeleton() -> Result<Initramfs> {
        let mut initramfs = Initramfs::new();
        for (path, mode) in DIRECTORIES {
            initramfs = initramfs.dir(path, *mode)?;
        }
        for (path, text) in ETC_FILES {
            initramfs = initramfs.file(path, 0o644, *text)?;
        }
        for (path, text) in ETC_SECRETS {
            initramfs = initramfs.file(path, 0o600, *text)?;
        }
        Ok(initramfs)
    }

    /// The standard system without `/init`: the [`skeleton`](Self::skeleton)
    /// and the static BusyBox `busybox` with its applet links.
    pub fn standard(busybox: &Path) -> Result<Initramfs> {
        Initramfs::skeleton()?.busybox(busybox)
    }

    /// Adds `busybox` as `/bin/busybox` and a symbolic link to it for each
    /// applet it lists (`--list-full`), except itself and `linuxrc`.
    pub fn busybox(self, busybox: &Path) -> Result<Initramfs> {
        let binary = fs::read(busybox).with_context(|| format!("read {}", busybox.display()))?;
        let output = Command::new(busybox).arg("--list-full").output().context("busybox --list-full")?;
        if !output.status.success() {
            bail!("{} --list-full failed ({})", busybox.display(), output.status);
        }
        let mut initramfs = self.file("/bin/busybox", 0o755, binary)?;
        for applet in String::from_utf8(output.stdout)?.lines().map(str::trim) {
            if !applet.is_empty() && applet != "bin/busybox" && applet != "linuxrc" {
                initramfs = initramfs.symlink(&format!("/{applet}"), "/bin/busybox")?;
            }
        }
        Ok(initramfs)
    }

    /// Adds (or updates the mode of) directory `guest`.
    pub fn dir(self, guest: &str, mode: u32) -> Result<Initramfs> {
        self.insert(guest, Node::Dir { mode: mode & 0o7777 })
    }

    /// Adds file `guest` with permission bits `mode` and contents `data`.
    pub fn file(self, guest: &str, mode: u32, data: impl Into<Vec<u8>>) -> Result<Initramfs> {
        self.insert(guest, Node::File { mode: mode & 0o7777, data: data.into() })
    }

    /// Adds a symbolic link `guest` pointing to `target`.
    pub fn symlink(self, guest: &str, target: &str) -> Result<Initramfs> {
        self.insert(guest, Node::Symlink { target: target.into() })
    }

    /// Adds character device node `guest` with permission bits `mode` for
    /// device `major`:`minor` (`/dev/console` is 5:1).
    pub fn char_device(self, guest: &str, mode: u32, major: u32, minor: u32) -> Result<Initramfs> {
        self.insert(guest, Node::CharDevice { mode: mode & 0o7777, rdev: (major, minor) })
    }

    /// Adds host file `host` as `guest`, or host directory `host` and all
    /// it holds under `guest` (`/` merges it into the root). Permission bits
    /// are kept; symbolic links inside a directory stay links, a link named
    /// as `host` itself is followed.
    pub fn add_host(self, host: &Path, guest: &str) -> Result<Initramfs> {
        let meta = fs::metadata(host).with_context(|| format!("{}", host.display()))?;
        self.add_host_node(host, &meta, guest)
    }

    fn add_host_node(mut self, host: &Path, meta: &fs::Metadata, guest: &str) -> Result<Initramfs> {
        let mode = meta.permissions().mode();
        if meta.is_symlink() {
            let target = fs::read_link(host)?;
            let target = target.to_str().with_context(|| format!("{}: target is not UTF-8", host.display()))?;
            return self.symlink(guest, target);
        }
        if !meta.is_dir() {
            let data = fs::read(host).with_context(|| format!("read {}", host.display()))?;
            return self.file(guest, mode, data);
        }
        self = self.dir(guest, mode)?;
        let mut children = fs::read_dir(host)?.collect::<io::Result<Vec<_>>>()?;
        children.sort_by_key(|entry| entry.file_name());
        for child in children {
            let name = child.file_name();
            let name = name.to_str().with_context(|| format!("{}: name is not UTF-8", child.path().display()))?;
            let child_guest = format!("{}/{name}", guest.trim_end_matches('/'));
            self = self.add_host_node(&child.path(), &fs::symlink_metadata(child.path())?, &child_guest)?;
        }
        Ok(self)
    }

    /// Sets `/init` (mode 0755) to `script`.
    pub fn init_script(self, script: &str) -> Result<Initramfs> {
        self.file("/init", 0o755, script)
    }

    /// Writes the archive to `path` (through a temporary file, so a reader
    /// never sees half of it).
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut cpio = CpioWriter::new(Vec::new());
        for (name, node) in &self.nodes {
            node.write_to(name, &mut cpio)?;
        }
        let partial = path.with_extension("partial");
        fs::write(&partial, cpio.finish()?).with_context(|| format!("write {}", partial.display()))?;
        fs::rename(&partial, path).with_context(|| format!("rename to {}", path.display()))
    }

    fn insert(mut self, guest: &str, node: Node) -> Result<Initramfs> {
        let path = normalize(guest)?;
        if path.is_empty() {
            return match node {
                Node::Dir { .. } => Ok(self),
                _ => bail!("{guest:?}: the root can only be a directory"),
            };
        }
        if let Some((parents, _)) = path.rsplit_once('/') {
            let mut parent = String::new();
            for component in parents.split('/') {
                parent = if parent.is_empty() { component.into() } else { format!("{parent}/{component}") };
                if !matches!(self.nodes.entry(parent.clone()).or_insert(Node::Dir { mode: 0o755 }), Node::Dir { .. }) {
                    bail!("{guest}: /{parent} is not a directory");
                }
            }
        }
        match (self.nodes.get(&path), &node) {
            (Some(Node::Dir { .. }), Node::Dir { .. }) | (None, _) => {}
            (Some(Node::Dir { .. }), _) => bail!("{guest}: is a directory"),
            (Some(_), Node::Dir { .. }) => bail!("{guest}: exists and is not a directory"),
            (Some(_), _) => {}
        }
        self.nodes.insert(path, node);
        Ok(self)
    }
}

/// `guest` as a relative path without `.` or empty components (`/usr//bin/`
/// is `usr/bin`, `/` is empty); it must be absolute and free of `..`.
fn normalize(guest: &str) -> Result<String> {
    if !guest.starts_with('/') {
        bail!("{guest:?}: guest paths must be absolute");
    }
    let components: Vec<&str> = guest.split('/').filter(|c| !c.is_empty() && *c != ".").collect();
    if components.contains(&"..") {
        bail!("{guest:?}: guest paths may not contain `..`");
    }
    Ok(components.join("/"))
}

/// The text of `/init` (see the module docs): BusyBox init with
/// `/etc/inittab` (a shell on the console; `poweroff` ends the machine),
/// or, with `command_file`, `exec sh command_file` (its exit status is
/// init's, which the kernel reports before powering off).
pub fn init_script_text(command_file: Option<&str>) -> String {
    let mut script = String::from(concat!(
        "#!/bin/sh\n",
        "# Hardtack's first process, written by cargo xtask (xtask/src/initramfs.rs).\n",
        "# If it exits, the kernel reports its status and powers off.\n",
        "export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root PS1='\\w # '\n",
        "cd /root\n",
    ));
    match command_file {
        Some(file) => script += &format!("exec sh {file}\n"),
        None => script += "exec /sbin/init\n",
    }
    script
}

/// `--add HOST[:GUEST]`: a host file or directory to put in the initramfs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Add {
    /// The host file or directory (it exists).
    pub host: PathBuf,
    /// Where it goes in the guest (absolute).
    pub guest: String,
}

impl Add {
    /// Parses `HOST[:GUEST]`. The text after the last `:` is GUEST only if it
    /// starts with `/` (so host paths may hold colons). Without GUEST, an
    /// executable file goes to `/bin/<name>`, anything else to
    /// `/root/<name>`; a GUEST ending in `/` is a directory to put `<name>`
    /// in. HOST must exist.
    pub fn parse(arg: &str) -> Result<Add, String> {
        let (host, guest) = match arg.rsplit_once(':') {
            Some((host, guest)) if guest.starts_with('/') && !host.is_empty() => (host, Some(guest)),
            _ => (arg, None),
        };
        let host = PathBuf::from(host);
        let meta = fs::metadata(&host).map_err(|e| format!("{}: {e}", host.display()))?;
        let name = host.file_name().and_then(|n| n.to_str());
        let into_dir = |dir: &str| match name {
            Some(name) => Ok(format!("{}/{name}", dir.trim_end_matches('/'))),
            None => Err(format!("{}: no file name to put in {dir}; name the guest path", host.display())),
        };
        let guest = match guest {
            Some(guest) if guest.ends_with('/') => into_dir(guest)?,
            Some(guest) => guest.to_string(),
            None if meta.is_file() && meta.permissions().mode() & 0o111 != 0 => into_dir("/bin")?,
            None => into_dir("/root")?,
        };
        normalize(&guest).map_err(|e| e.to_string())?;
        Ok(Add { host, guest })
    }
}

/// What `cargo xtask run` and `image` put in the initramfs besides the
/// standard system.
#[derive(Args, Clone, Debug, Default)]
pub struct InitramfsArgs {
    /// Put a host file or directory (recursively) in the initramfs, at GUEST
    /// or by default at /bin/NAME (executable files) or /root/NAME (anything
    /// else); a GUEST ending in / is a directory to put NAME in. Repeatable.
    #[arg(long = "add", value_name = "HOST[:GUEST]", value_parser = Add::parse)]
    pub add: Vec<Add>,
    /// Run this shell command as init instead of an interactive shell (sh
    /// runs it from /etc/hardtack-init.sh); xtask then exits with its exit
    /// status (128+N if a signal N killed it).
    #[arg(long, value_name = "CMD")]
    pub init: Option<String>,
}

/// Builds the standard initramfs with `args` to [`output_path`]`(name)` and
/// returns that path.
pub fn build(busybox: &Path, args: &InitramfsArgs, name: &str) -> Result<PathBuf> {
    let mut initramfs = Initramfs::standard(busybox)?;
    for add in &args.add {
        initramfs = initramfs.add_host(&add.host, &add.guest)?;
    }
    initramfs = match &args.init {
        Some(command) => initramfs
            .file(INIT_COMMAND_PATH, 0o644, format!("{command}\n"))?
            .init_script(&init_script_text(Some(INIT_COMMAND_PATH)))?,
        None => initramfs.init_script(&init_script_text(None))?,
    };
    let path = output_path(name)?;
    initramfs.write(&path)?;
    Ok(path)
}

/// `target/xtask/initramfs-<name>.cpio`, the directory created.
pub fn output_path(name: &str) -> Result<PathBuf> {
    let dir = root().join("target/xtask");
    fs::create_dir_all(&dir)?;
    Ok(dir.join(format!("initramfs-{name}.cpio")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One parsed archive entry: name, mode, link count, data.
    type Entry = (String, u32, u32, Vec<u8>);

    fn hex(bytes: &[u8]) -> u32 {
        u32::from_str_radix(std::str::from_utf8(bytes).unwrap(), 16).unwrap()
    }

    /// Parses a newc archive strictly: aligned headers, NUL-terminated
    /// names, zero padding, the trailer last and nothing after it.
    fn parse(archive: &[u8]) -> Vec<Entry> {
        let mut entries = Vec::new();
        let mut at = 0;
        loop {
            assert_eq!(at % 4, 0, "entry at {at} is not aligned");
            let header = &archive[at..at + 110];
            assert_eq!(&header[..6], b"070701");
            let field = |i: usize| hex(&header[6 + 8 * i..14 + 8 * i]);
            let (mode, links, size, name_size) = (field(1), field(4), field(6) as usize, field(11) as usize);
            let name_end = at + 110 + name_size;
            assert_eq!(archive[name_end - 1], 0, "name is not NUL-terminated");
            let name = String::from_utf8(archive[at + 110..name_end - 1].to_vec()).unwrap();
            let data_start = name_end.next_multiple_of(4);
            assert!(archive[name_end..data_start].iter().all(|&b| b == 0));
            let data_end = data_start + size;
            at = data_end.next_multiple_of(4);
            assert!(archive[data_end..at].iter().all(|&b| b == 0));
            if name == "TRAILER!!!" {
                assert_eq!(at, archive.len(), "bytes after the trailer");
                return entries;
            }
            entries.push((name, mode, links, archive[data_start..data_end].to_vec()));
        }
    }

    #[test]
    fn cpio_round_trips_with_alignment_and_trailer() {
        let mut cpio = CpioWriter::new(Vec::new());
        // Name lengths 1..4 and data lengths 0..5 cover every padding.
        let cases: Vec<(String, u32, Vec<u8>)> =
            (0..5).map(|i| ("abcd"[..i % 4 + 1].to_string(), S_IFREG | 0o644, vec![b'x'; i])).collect();
        for (name, mode, data) in &cases {
            cpio.entry(name, *mode, data).unwrap();
        }
        cpio.entry("d", S_IFDIR | 0o755, &[]).unwrap();
        let archive = cpio.finish().unwrap();
        let entries = parse(&archive);
        assert_eq!(entries.len(), 6);
        for ((name, mode, data), entry) in cases.iter().zip(&entries) {
            assert_eq!(entry, &(name.clone(), *mode, 1, data.clone()));
        }
        assert_eq!(entries[5], ("d".into(), S_IFDIR | 0o755, 2, vec![]));
        assert_eq!(&archive[archive.len() - 124..][..6], b"070701", "trailer entry is 124 bytes");
    }

    #[test]
    fn inodes_are_distinct_and_nonzero() {
        let mut cpio = CpioWriter::new(Vec::new());
        for name in ["a", "b", "c"] {
            cpio.entry(name, S_IFREG | 0o644, b"").unwrap();
        }
        let archive = cpio.finish().unwrap();
        let inodes: Vec<u32> = (0..3).map(|i| hex(&archive[i * 112 + 6..i * 112 + 14])).collect();
        assert_eq!(inodes, [1, 2, 3]);
    }

    #[test]
    fn device_nodes_carry_their_device_number() {
        let mut cpio = CpioWriter::new(Vec::new());
        cpio.device("dev/console", S_IFCHR | 0o600, (5, 1)).unwrap();
        let archive = cpio.finish().unwrap();
        let field = |i: usize| hex(&archive[6 + 8 * i..14 + 8 * i]);
        assert_eq!((field(1), field(6), field(9), field(10)), (0o020600, 0, 5, 1), "mode, size, rdev");
        let dir = scratch("dev");
        let initramfs = Initramfs::new().char_device("/dev/console", 0o020600, 5, 1).unwrap();
        let entries = archive_of(&initramfs, &dir);
        assert_eq!(entries[0].1, S_IFDIR | 0o755);
        assert_eq!(entries[1], ("dev/console".into(), S_IFCHR | 0o600, 1, vec![]));
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-initramfs-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn archive_of(initramfs: &Initramfs, dir: &Path) -> Vec<Entry> {
        let path = dir.join("out.cpio");
        initramfs.write(&path).unwrap();
        parse(&fs::read(path).unwrap())
    }

    #[test]
    fn tree_creates_parents_first_and_replaces_files() {
        let dir = scratch("tree");
        let initramfs = Initramfs::new()
            .symlink("/usr/bin/wc", "/bin/busybox")
            .unwrap()
            .file("/bin/sh", 0o100755, "old")
            .unwrap()
            .file("//bin/./sh", 0o755, "new")
            .unwrap()
            .dir("/tmp", 0o1777)
            .unwrap();
        let names: Vec<(String, u32)> =
            archive_of(&initramfs, &dir).into_iter().map(|(name, mode, _, _)| (name, mode)).collect();
        let expected = [
            ("bin", S_IFDIR | 0o755),
            ("bin/sh", S_IFREG | 0o755),
            ("tmp", S_IFDIR | 0o1777),
            ("usr", S_IFDIR | 0o755),
            ("usr/bin", S_IFDIR | 0o755),
            ("usr/bin/wc", S_IFLNK | 0o777),
        ];
        assert_eq!(names, expected.map(|(n, m)| (n.to_string(), m)));
        assert!(initramfs.clone().dir("/bin/sh", 0o755).is_err(), "a file cannot become a directory");
        assert!(initramfs.clone().file("/bin", 0o755, "").is_err(), "a directory cannot become a file");
        assert!(initramfs.clone().file("/bin/sh/x", 0o755, "").is_err(), "a file has no children");
        assert!(initramfs.clone().file("bin/x", 0o755, "").is_err(), "relative");
        assert!(initramfs.file("/a/../x", 0o755, "").is_err(), "dot-dot");
    }

    #[test]
    fn host_directories_are_added_recursively_with_modes_and_links() {
        let dir = scratch("host");
        let src = dir.join("src");
        fs::create_dir_all(src.join("sub")).unwrap();
        fs::write(src.join("run"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(src.join("run"), fs::Permissions::from_mode(0o750)).unwrap();
        fs::write(src.join("sub/data"), "data").unwrap();
        fs::set_permissions(src.join("sub/data"), fs::Permissions::from_mode(0o640)).unwrap();
        std::os::unix::fs::symlink("sub/data", src.join("link")).unwrap();
        let entries = archive_of(&Initramfs::new().add_host(&src, "/tests/").unwrap(), &dir);
        let entry = |name: &str| entries.iter().find(|e| e.0 == name).unwrap_or_else(|| panic!("no {name}"));
        assert_eq!(entry("tests/run").1, S_IFREG | 0o750);
        assert_eq!(entry("tests/sub/data").1, S_IFREG | 0o640);
        assert_eq!(entry("tests/sub/data").3, b"data");
        assert_eq!((entry("tests/link").1, entry("tests/link").3.as_slice()), (S_IFLNK | 0o777, &b"sub/data"[..]));
        assert_eq!(entry("tests/sub").1 & 0o170000, S_IFDIR);
        assert!(Initramfs::new().add_host(&dir.join("missing"), "/x").is_err());
    }

    #[test]
    fn add_splits_host_and_guest() {
        let dir = scratch("add");
        let (tool, data) = (dir.join("tool"), dir.join("a:b"));
        fs::write(&tool, "").unwrap();
        fs::set_permissions(&tool, fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(&data, "").unwrap();
        let parse = |arg: String| Add::parse(&arg).map(|add| (add.host, add.guest));
        let tool_s = tool.display().to_string();
        let data_s = data.display().to_string();
        let dir_s = dir.display().to_string();
        assert_eq!(parse(tool_s.clone()), Ok((tool.clone(), "/bin/tool".into())), "executables go to /bin");
        assert_eq!(parse(data_s.clone()), Ok((data.clone(), "/root/a:b".into())), "colon without a / after it");
        assert_eq!(parse(format!("{tool_s}:/usr/bin/t")), Ok((tool.clone(), "/usr/bin/t".into())));
        assert_eq!(parse(format!("{data_s}:/srv/")), Ok((data, "/srv/a:b".into())), "into a directory");
        let dir_name = dir.file_name().unwrap().to_str().unwrap();
        assert_eq!(parse(dir_s.clone()), Ok((dir.clone(), format!("/root/{dir_name}"))), "directories go to /root");
        let missing = parse(format!("{dir_s}/missing:/bin/x")).unwrap_err();
        assert!(missing.contains("missing") && missing.contains("No such file"), "{missing}");
        assert!(parse(format!("{tool_s}:/a/../b")).is_err());
    }

    #[test]
    fn init_runs_the_command_file_or_busybox_init() {
        let shell = init_script_text(None);
        assert!(shell.starts_with("#!/bin/sh\n") && shell.ends_with("exec /sbin/init\n"));
        assert!(shell.contains("export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root"));
        let command = init_script_text(Some(INIT_COMMAND_PATH));
        assert!(command.ends_with("exec sh /etc/hardtack-init.sh\n") && !command.contains("echo"));
    }
}

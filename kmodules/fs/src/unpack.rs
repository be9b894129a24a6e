//! Unpacking the initramfs (a cpio newc archive) into tmpfs.
//!
//! Names may start with `./` or `/`; `.` is the root itself. Missing parent
//! directories are created. Regular files, directories, symbolic links
//! (the data is the target) and character devices are supported; other
//! types are skipped with a warning. Entries of one hard-linked file share
//! an inode number and have `nlink > 1`: the first creates the file, later
//! ones link to it, and whichever carries data (newc puts it on the last)
//! writes it. An existing non-directory of the same name is replaced.
//! Entries keep the archive's owner and group.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use abi::errno::{EEXIST, EINVAL};
use abi::flags::mode::{S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use abi::flags::open::{O_CREAT, O_TRUNC, O_WRONLY};

use crate::attr::{Attr, set_attr};
use crate::cpio::{Entry, Reader};
use crate::cred::Cred;
use crate::node::NodeRef;
use crate::{KResult, chmod, link, mkdir, mknod_char, open, path, symlink, unlink};

/// Unpacking creates everything as root, then gives entries their owner.
const ROOT: &Cred = &Cred::ROOT;

/// Identity of a hard-linked file in an archive.
type LinkKey = (u32, u32, u32);

/// Unpacks `archive` under `root`. A malformed archive is `EINVAL`
/// (entries before the damage stay); an entry that cannot be created is
/// logged and skipped.
pub(crate) fn unpack(root: &NodeRef, archive: &[u8]) -> KResult<()> {
    let mut links = BTreeMap::new();
    for entry in Reader::new(archive) {
        let entry = entry.map_err(|error| {
            log::error!("initramfs: {error}");
            EINVAL
        })?;
        let name = strip_prefix(entry.name);
        if let Err(error) = add(root, name, &entry, &mut links).and_then(|()| own(root, name, &entry)) {
            log::warn!("initramfs: {}: error {}", String::from_utf8_lossy(name), error.0);
        }
    }
    Ok(())
}

/// The name relative to the root: without leading `./` and `/`.
fn strip_prefix(mut name: &[u8]) -> &[u8] {
    loop {
        name = match name {
            [b'/', rest @ ..] => rest,
            [b'.', b'/', rest @ ..] => rest,
            _ => return name,
        };
    }
}

/// Gives the entry `name` (if of a type [`add`] creates) the archive's
/// owner and group, unless they are root's; then its permission bits
/// again (`chown` drops set-id bits; a symbolic link has none).
fn own(root: &NodeRef, name: &[u8], entry: &Entry) -> KResult<()> {
    let file_type = entry.mode & S_IFMT;
    if (entry.uid, entry.gid) == (0, 0) || ![S_IFDIR, S_IFREG, S_IFLNK, S_IFCHR].contains(&file_type) {
        return Ok(());
    }
    let name = if name.is_empty() { &b"/"[..] } else { name };
    set_attr(ROOT, root, name, false, Attr::Owner { uid: Some(entry.uid), gid: Some(entry.gid) })?;
    if file_type == S_IFLNK {
        return Ok(());
    }
    set_attr(ROOT, root, name, false, Attr::Mode(entry.mode))
}

/// Creates one entry.
fn add(root: &NodeRef, name: &[u8], entry: &Entry, links: &mut BTreeMap<LinkKey, Vec<u8>>) -> KResult<()> {
    let perm = entry.mode & 0o7777;
    if name.is_empty() || name == b"." {
        return chmod(ROOT, root, b"/", perm);
    }
    make_parents(root, name)?;
    let file_type = entry.mode & S_IFMT;
    if file_type == S_IFDIR {
        return match mkdir(ROOT, root, name, perm) {
            Err(EEXIST) => chmod(ROOT, root, name, perm),
            result => result,
        };
    }
    // Replace what is there, unless it is a directory (then creating fails).
    let _ = unlink(ROOT, root, name);
    match file_type {
        S_IFREG => add_file(root, name, entry, links),
        S_IFLNK => symlink(ROOT, entry.data, root, name),
        S_IFCHR => mknod_char(name, perm, entry.rdev()),
        _ => {
            log::warn!("initramfs: {}: unsupported file type {:o}, skipped", String::from_utf8_lossy(name), file_type);
            Ok(())
        }
    }
}

/// Creates a regular file, or another link to an earlier entry's file.
fn add_file(root: &NodeRef, name: &[u8], entry: &Entry, links: &mut BTreeMap<LinkKey, Vec<u8>>) -> KResult<()> {
    if entry.nlink > 1 {
        let key = (entry.dev_major, entry.dev_minor, entry.ino);
        if let Some(first) = links.get(&key) {
            link(ROOT, root, first, root, name)?;
            return if entry.data.is_empty() { Ok(()) } else { write_file(root, name, entry.data, 0) };
        }
        links.insert(key, name.to_vec());
    }
    write_file(root, name, entry.data, entry.mode & 0o7777)
}

/// Creates or truncates `name` and writes `data` to it.
fn write_file(root: &NodeRef, name: &[u8], data: &[u8], perm: u32) -> KResult<()> {
    let file = open(ROOT, root, name, O_WRONLY | O_CREAT | O_TRUNC, perm)?;
    let mut written = 0;
    while written < data.len() {
        written += file.write(&data[written..])?;
    }
    Ok(())
}

/// Creates the missing directories above `name`.
fn make_parents(root: &NodeRef, name: &[u8]) -> KResult<()> {
    let dir = path::split_last(name).dir;
    for (i, _) in dir.iter().enumerate().filter(|&(i, &b)| b == b'/' && i > 0) {
        match mkdir(ROOT, root, &dir[..i], 0o755) {
            Ok(()) | Err(EEXIST) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_stripped() {
        assert_eq!(strip_prefix(b"./bin/sh"), b"bin/sh");
        assert_eq!(strip_prefix(b"/.//./x"), b"x");
        assert_eq!(strip_prefix(b"."), b".");
        assert_eq!(strip_prefix(b"./"), b"");
        assert_eq!(strip_prefix(b".hidden"), b".hidden");
    }
}

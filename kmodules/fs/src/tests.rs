//! Host tests of the tmpfs through the public API. All tests share the one
//! file system [`init`] builds; each works in its own directory.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use std::sync::Once;

use abi::errno::*;
use abi::flags::mode::{S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use abi::flags::open::*;
use abi::flags::seek::{SEEK_CUR, SEEK_END, SEEK_SET};

use crate::cpio::tests::{push_entry, push_raw, push_trailer};
use crate::dirent::{self, DT_CHR, DT_DIR, DT_LNK, DT_REG};
use crate::*;

/// The tests run as root.
const R: &Cred = &Cred::ROOT;

/// The test archive: what `init` unpacks.
fn archive() -> Vec<u8> {
    let mut a = Vec::new();
    push_entry(&mut a, b".", 1, 0o40700, 2, b"");
    push_entry(&mut a, b"./bin", 2, 0o40755, 2, b"");
    push_entry(&mut a, b"./bin/sh", 3, 0o100755, 1, b"\x7fELF shell");
    push_entry(&mut a, b"/etc/motd", 4, 0o100644, 1, b"hello");
    push_entry(&mut a, b"bin/ls", 5, 0o120777, 1, b"sh");
    push_raw(&mut a, b"dev/console", [6, 0o20600, 0, 0, 1, 0, 0, 0, 0, 5, 1], b"");
    push_entry(&mut a, b"deep/a/b/file", 7, 0o100600, 1, b"deep");
    // A user's set-user-id file: owner, group and mode kept.
    push_raw(&mut a, b"deep/a/owned", [10, 0o104750, 1000, 100, 1, 0, 2, 0, 0, 0, 0], b"hi");
    // A hard-linked pair: data on the last entry, as cpio writes it.
    push_entry(&mut a, b"links/one", 8, 0o100644, 2, b"");
    push_entry(&mut a, b"links/two", 8, 0o100644, 2, b"shared");
    push_trailer(&mut a);
    a
}

/// Initializes the file system once for all tests.
fn setup() {
    static INIT: Once = Once::new();
    INIT.call_once(|| init(&archive()).expect("init"));
}

/// A fresh directory `/tmp/<name>` for one test.
fn test_dir(name: &str) -> NodeRef {
    setup();
    let path = [b"/tmp/", name.as_bytes()].concat();
    mkdir(R, &root(), &path, 0o755).expect("test directory");
    lookup(R, &root(), &path, true).unwrap()
}

fn open_in(dir: &NodeRef, path: &[u8], flags: u32) -> KResult<OpenFile> {
    open(R, dir, path, flags, 0o644)
}

fn read_all(file: &dyn File) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 7];
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

fn file_type(dir: &NodeRef, path: &[u8]) -> u32 {
    stat(R, dir, path, false).unwrap().st_mode & S_IFMT
}

/// Names, types and inode numbers a directory lists, read with a buffer of
/// `buf_len` bytes at a time.
fn list(dir: &NodeRef, path: &[u8], buf_len: usize) -> Vec<dirent::Record> {
    let file = open_in(dir, path, O_RDONLY | O_DIRECTORY).unwrap();
    let mut records = Vec::new();
    let mut buf = vec![0u8; buf_len];
    loop {
        let n = file.getdents64(&mut buf).unwrap();
        if n == 0 {
            return records;
        }
        records.extend(dirent::decode(&buf[..n]));
    }
}

fn names(records: &[dirent::Record]) -> Vec<&[u8]> {
    records.iter().map(|r| &r.name[..]).collect()
}

/// The whole contents of an executable, read the way the loader reads it.
fn exec_bytes(base: &NodeRef, path: &[u8]) -> KResult<Vec<u8>> {
    let file = open_executable(R, base, path)?;
    let mut bytes = vec![0; file.len() as usize];
    let read = file.read_at(0, &mut bytes);
    bytes.truncate(read);
    Ok(bytes)
}

#[test]
fn init_unpacks_the_archive() {
    setup();
    let r = root();
    assert_eq!(init(b""), Err(EBUSY));
    assert_eq!(stat(R, &r, b"/", true).unwrap().st_mode, S_IFDIR | 0o700);
    let sh = stat(R, &r, b"/bin/sh", true).unwrap();
    assert_eq!(sh.st_mode, S_IFREG | 0o755);
    assert_eq!(exec_bytes(&r, b"/bin/sh").unwrap(), b"\x7fELF shell");
    assert_eq!(read_all(&*open_in(&r, b"etc/motd", O_RDONLY).unwrap()), b"hello");
    assert_eq!(readlink(R, &r, b"/bin/ls").unwrap(), b"sh");
    assert_eq!(stat(R, &r, b"/bin/ls", true).unwrap().st_ino, sh.st_ino);
    let console = stat(R, &r, b"/dev/console", false).unwrap();
    assert_eq!((console.st_mode, console.st_rdev), (S_IFCHR | 0o600, makedev(5, 1)));
    assert_eq!(read_all(&*open_in(&r, b"/deep/a/b/file", O_RDONLY).unwrap()), b"deep");
    let owned = stat(R, &r, b"/deep/a/owned", true).unwrap();
    assert_eq!((owned.st_uid, owned.st_gid, owned.st_mode), (1000, 100, S_IFREG | 0o4750));
    assert_eq!((sh.st_uid, sh.st_gid), (0, 0));
    let (one, two) = (stat(R, &r, b"/links/one", true).unwrap(), stat(R, &r, b"/links/two", true).unwrap());
    assert_eq!((one.st_ino, one.st_nlink, one.st_size), (two.st_ino, 2, 6));
    assert_eq!(read_all(&*open_in(&r, b"/links/one", O_RDONLY).unwrap()), b"shared");
    for (dir, perm) in [(&b"/dev"[..], 0o755), (b"/tmp", 0o1777), (b"/proc", 0o555)] {
        assert_eq!(stat(R, &r, dir, true).unwrap().st_mode, S_IFDIR | perm);
    }
    assert_eq!(stat(R, &r, b"/dev/null", true).unwrap().st_rdev, makedev(1, 3));
    assert_eq!(stat(R, &r, b"/dev/zero", true).unwrap().st_rdev, makedev(1, 5));
}

#[test]
fn create_write_seek_read() {
    let d = test_dir("rw");
    let f = open_in(&d, b"f", O_RDWR | O_CREAT).unwrap();
    assert_eq!(f.write(b"hello world"), Ok(11));
    assert_eq!(f.seek(0, SEEK_SET), Ok(0));
    let mut buf = [0u8; 5];
    assert_eq!(f.read(&mut buf), Ok(5));
    assert_eq!(&buf, b"hello");
    assert_eq!(f.seek(1, SEEK_CUR), Ok(6));
    assert_eq!(f.read(&mut buf), Ok(5));
    assert_eq!(&buf, b"world");
    assert_eq!(f.read(&mut buf), Ok(0));
    // Writing past the end leaves a hole of zeros.
    assert_eq!(f.seek(3, SEEK_END), Ok(14));
    assert_eq!(f.write(b"!"), Ok(1));
    let st = f.stat().unwrap();
    // Blocks are charged whole, as Linux's tmpfs reports them.
    assert_eq!((st.st_size, st.st_blocks, st.st_blksize, st.st_nlink), (15, 8, 4096, 1));
    assert_eq!(st.st_mode, S_IFREG | 0o644);
    f.seek(0, SEEK_SET).unwrap();
    assert_eq!(read_all(&*f), b"hello world\0\0\0!");
    assert_eq!(f.seek(-1, SEEK_SET), Err(EINVAL));
    // A second open sees the same contents and has its own offset.
    let g = open_in(&d, b"f", O_RDONLY).unwrap();
    assert_eq!(read_all(&*g).len(), 15);
    assert_eq!(stat(R, &d, b"f", true).unwrap().st_ino, st.st_ino);
}

#[test]
fn large_transfers_span_chunks() {
    let d = test_dir("large");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let f = open_in(&d, b"big", O_RDWR | O_CREAT).unwrap();
    assert_eq!(f.write(&data), Ok(data.len()));
    f.seek(0, SEEK_SET).unwrap();
    let mut back = vec![0u8; data.len() + 10];
    assert_eq!(f.read(&mut back), Ok(data.len()));
    assert_eq!(&back[..data.len()], &data[..]);
    assert_eq!(stat(R, &d, b"big", true).unwrap().st_blocks, (300_000u64.div_ceil(4096) * 8) as i64);
}

#[test]
fn open_flags() {
    let d = test_dir("flags");
    let f = open_in(&d, b"f", O_WRONLY | O_CREAT | O_EXCL).unwrap();
    assert_eq!(f.write(b"abc"), Ok(3));
    assert_eq!(f.read(&mut [0; 4]), Err(EBADF));
    assert_eq!(f.status_flags() & O_ACCMODE, O_WRONLY);
    assert_eq!(open_in(&d, b"f", O_WRONLY | O_CREAT | O_EXCL).err(), Some(EEXIST));
    let r = open_in(&d, b"f", O_RDONLY).unwrap();
    assert_eq!(r.write(b"x"), Err(EBADF));
    assert_eq!(open_in(&d, b"f", O_ACCMODE).err(), Some(EINVAL));
    assert_eq!(open_in(&d, b"f", O_RDONLY | O_DIRECTORY).err(), Some(ENOTDIR));
    assert_eq!(open_in(&d, b"f/", O_RDONLY).err(), Some(ENOTDIR));
    assert_eq!(open_in(&d, b"missing", O_RDONLY).err(), Some(ENOENT));
    assert_eq!(open_in(&d, b"new/", O_RDWR | O_CREAT).err(), Some(EISDIR));
    assert_eq!(open_in(&d, b"f/x", O_RDONLY).err(), Some(ENOTDIR));
    // Directories open read-only only.
    assert_eq!(open_in(&d, b".", O_RDWR).err(), Some(EISDIR));
    assert_eq!(open_in(&d, b".", O_WRONLY | O_CREAT).err(), Some(EISDIR));
    assert_eq!(open_in(&d, b".", O_RDONLY | O_CREAT | O_EXCL).err(), Some(EEXIST));
    let dir = open_in(&d, b".", O_RDONLY).unwrap();
    assert_eq!(dir.read(&mut [0; 4]), Err(EISDIR));
    assert!(dir.as_dir().is_some_and(|n| n.is_dir()));
    assert!(r.as_dir().is_none());
    // O_TRUNC empties, O_APPEND writes at the end whatever the offset.
    let t = open_in(&d, b"f", O_RDWR | O_TRUNC | O_APPEND).unwrap();
    assert_eq!(t.stat().unwrap().st_size, 0);
    t.write(b"12").unwrap();
    t.seek(0, SEEK_SET).unwrap();
    t.write(b"34").unwrap();
    t.seek(0, SEEK_SET).unwrap();
    assert_eq!(read_all(&*t), b"1234");
    // F_SETFL can drop O_APPEND but not change the access mode.
    t.set_status_flags(O_RDONLY);
    assert_eq!(t.status_flags(), O_RDWR);
    t.seek(0, SEEK_SET).unwrap();
    t.write(b"x").unwrap();
    t.seek(0, SEEK_SET).unwrap();
    assert_eq!(read_all(&*t), b"x234");
}

#[test]
fn truncation() {
    let d = test_dir("trunc");
    let f = open_in(&d, b"f", O_RDWR | O_CREAT).unwrap();
    f.write(b"0123456789").unwrap();
    f.truncate(4).unwrap();
    assert_eq!(f.stat().unwrap().st_size, 4);
    truncate(R, &d, b"f", 6).unwrap();
    f.seek(0, SEEK_SET).unwrap();
    assert_eq!(read_all(&*f), b"0123\0\0");
    let r = open_in(&d, b"f", O_RDONLY).unwrap();
    assert_eq!(r.truncate(0), Err(EINVAL));
    assert_eq!(truncate(R, &d, b".", 0), Err(EISDIR));
    assert_eq!(truncate(R, &d, b"nope", 0), Err(ENOENT));
    // Growth is a hole: a terabyte costs no memory.
    assert_eq!(truncate(R, &d, b"f", 1 << 40), Ok(()));
    assert_eq!(stat(R, &d, b"f", true).map(|st| (st.st_size, st.st_blocks)), Ok((1 << 40, 8)));
    assert_eq!(truncate(R, &d, b"f", 1 << 63), Err(EINVAL));
}

#[test]
fn directories() {
    let d = test_dir("dirs");
    let nlink = |p: &[u8]| stat(R, &d, p, true).unwrap().st_nlink;
    assert_eq!(nlink(b"."), 2);
    mkdir(R, &d, b"a", 0o750).unwrap();
    mkdir(R, &d, b"a/b", 0o755).unwrap();
    mkdir(R, &d, b"c//", 0o755).unwrap();
    assert_eq!(stat(R, &d, b"a", true).unwrap().st_mode, S_IFDIR | 0o750);
    assert_eq!((nlink(b"."), nlink(b"a"), nlink(b"a/b")), (4, 3, 2));
    assert_eq!(mkdir(R, &d, b"a", 0o755), Err(EEXIST));
    assert_eq!(mkdir(R, &d, b".", 0o755), Err(EEXIST));
    assert_eq!(mkdir(R, &d, b"x/y", 0o755), Err(ENOENT));
    open_in(&d, b"file", O_CREAT | O_WRONLY).unwrap();
    assert_eq!(mkdir(R, &d, b"file/y", 0o755), Err(ENOTDIR));
    assert_eq!(rmdir(R, &d, b"a"), Err(ENOTEMPTY));
    assert_eq!(rmdir(R, &d, b"file"), Err(ENOTDIR));
    assert_eq!(rmdir(R, &d, b"missing"), Err(ENOENT));
    assert_eq!(rmdir(R, &d, b"."), Err(EINVAL));
    assert_eq!(rmdir(R, &d, b"a/b/.."), Err(ENOTEMPTY));
    assert_eq!(rmdir(R, &root(), b"/"), Err(EBUSY));
    assert_eq!(unlink(R, &d, b"a"), Err(EISDIR));
    assert_eq!(unlink(R, &d, b"file/"), Err(ENOTDIR));
    rmdir(R, &d, b"a/b/").unwrap();
    rmdir(R, &d, b"c").unwrap();
    assert_eq!((nlink(b"."), nlink(b"a")), (3, 2));
    assert_eq!(stat(R, &d, b"a/b", true), Err(ENOENT));
    unlink(R, &d, b"file").unwrap();
    assert_eq!(unlink(R, &d, b"file"), Err(ENOENT));
}

#[test]
fn removed_directory_stays_usable_as_a_base() {
    let d = test_dir("gone");
    mkdir(R, &d, b"sub", 0o755).unwrap();
    let sub = lookup(R, &d, b"sub", true).unwrap();
    rmdir(R, &d, b"sub").unwrap();
    assert_eq!(sub.stat().st_nlink, 0);
    assert_eq!(open_in(&sub, b"f", O_CREAT | O_WRONLY).err(), Some(ENOENT));
    assert!(list(&sub, b".", 256).is_empty());
    assert_eq!(lookup(R, &sub, b"..", true).unwrap().stat().st_ino, d.stat().st_ino);
}

#[test]
fn paths() {
    let d = test_dir("paths");
    mkdir(R, &d, b"a", 0o755).unwrap();
    mkdir(R, &d, b"a/b", 0o755).unwrap();
    let b = lookup(R, &d, b"a//b/", true).unwrap();
    assert_eq!(b.path(), b"/tmp/paths/a/b");
    assert_eq!(root().path(), b"/");
    assert_eq!(lookup(R, &b, b"../../a/./b/..", true).unwrap().path(), b"/tmp/paths/a");
    assert_eq!(lookup(R, &root(), b"/../..//tmp", true).unwrap().path(), b"/tmp");
    assert_eq!(stat(R, &d, b"", true), Err(ENOENT));
    let long_name = vec![b'x'; 256];
    assert_eq!(stat(R, &d, &long_name, true), Err(ENAMETOOLONG));
    assert_eq!(mkdir(R, &d, &long_name, 0o755), Err(ENAMETOOLONG));
    mkdir(R, &d, &long_name[..255], 0o755).unwrap();
    let long_path: Vec<u8> = b"./".iter().copied().cycle().take(4096).collect();
    assert_eq!(stat(R, &d, &long_path, true), Err(ENAMETOOLONG));
    assert_eq!(stat(R, &d, &long_path[..4094], true).unwrap().st_ino, d.stat().st_ino);
    // A relative path from a non-directory base.
    open_in(&d, b"f", O_CREAT | O_WRONLY).unwrap();
    let f = lookup(R, &d, b"f", true).unwrap();
    assert!(!f.is_dir() && f.path().is_empty());
    assert_eq!(stat(R, &f, b"x", true), Err(ENOTDIR));
    assert_eq!(stat(R, &f, b"/tmp", true).unwrap().st_mode & S_IFMT, S_IFDIR);
}

#[test]
fn symlinks() {
    let d = test_dir("links");
    mkdir(R, &d, b"dir", 0o755).unwrap();
    let f = open_in(&d, b"dir/file", O_CREAT | O_WRONLY).unwrap();
    f.write(b"data").unwrap();
    symlink(R, b"dir/file", &d, b"rel").unwrap();
    symlink(R, b"/tmp/links/dir", &d, b"abs").unwrap();
    symlink(R, b"../rel", &d, b"dir/up").unwrap();
    symlink(R, b"nowhere", &d, b"dangling").unwrap();
    assert_eq!(symlink(R, b"x", &d, b"rel"), Err(EEXIST));
    assert_eq!(symlink(R, b"", &d, b"empty"), Err(ENOENT));
    assert_eq!(read_all(&*open_in(&d, b"rel", O_RDONLY).unwrap()), b"data");
    assert_eq!(read_all(&*open_in(&d, b"abs/file", O_RDONLY).unwrap()), b"data");
    assert_eq!(read_all(&*open_in(&d, b"dir/up", O_RDONLY).unwrap()), b"data");
    assert_eq!(lookup(R, &d, b"abs/", false).unwrap().path(), b"/tmp/links/dir");
    let lstat = stat(R, &d, b"rel", false).unwrap();
    assert_eq!((lstat.st_mode, lstat.st_size), (S_IFLNK | 0o777, 8));
    assert_eq!(file_type(&d, b"abs"), S_IFLNK);
    assert_eq!(stat(R, &d, b"abs", true).unwrap().st_mode & S_IFMT, S_IFDIR);
    assert_eq!(readlink(R, &d, b"dir/up").unwrap(), b"../rel");
    assert_eq!(readlink(R, &d, b"dir"), Err(EINVAL));
    assert_eq!(stat(R, &d, b"dangling", true), Err(ENOENT));
    assert_eq!(open_in(&d, b"rel", O_RDONLY | O_NOFOLLOW).err(), Some(ELOOP));
    assert_eq!(open_in(&d, b"rel", O_RDONLY | O_CREAT | O_EXCL).err(), Some(EEXIST));
    assert!(open_in(&d, b"rel", O_RDONLY | O_CREAT).is_ok());
    // Loops, and the limit of 40 links.
    symlink(R, b"loop2", &d, b"loop1").unwrap();
    symlink(R, b"loop1", &d, b"loop2").unwrap();
    assert_eq!(stat(R, &d, b"loop1", true), Err(ELOOP));
    assert_eq!(stat(R, &d, b"loop1", false).unwrap().st_mode & S_IFMT, S_IFLNK);
    symlink(R, b"dir/file", &d, b"chain0").unwrap();
    for i in 1..=41 {
        let (from, to) = (format!("chain{}", i - 1), format!("chain{i}"));
        symlink(R, from.as_bytes(), &d, to.as_bytes()).unwrap();
    }
    assert_eq!(stat(R, &d, b"chain39", true).unwrap().st_size, 4);
    assert_eq!(stat(R, &d, b"chain40", true), Err(ELOOP));
    // unlink removes the link, not its target.
    unlink(R, &d, b"rel").unwrap();
    assert!(stat(R, &d, b"dir/file", true).is_ok());
}

#[test]
fn rename_cases() {
    let d = test_dir("rename");
    let write = |p: &[u8], data: &[u8]| open_in(&d, p, O_CREAT | O_WRONLY | O_TRUNC).unwrap().write(data).unwrap();
    let read = |p: &[u8]| read_all(&*open_in(&d, p, O_RDONLY).unwrap());
    write(b"a", b"A");
    write(b"b", b"B");
    let old_b = open_in(&d, b"b", O_RDONLY).unwrap();
    rename(R, &d, b"a", &d, b"b").unwrap();
    assert_eq!(read(b"b"), b"A");
    assert_eq!(stat(R, &d, b"a", true), Err(ENOENT));
    assert_eq!(old_b.stat().unwrap().st_nlink, 0);
    assert_eq!(read_all(&*old_b), b"B");
    rename(R, &d, b"b", &d, b"b").unwrap();
    assert_eq!(rename(R, &d, b"missing", &d, b"x"), Err(ENOENT));
    assert_eq!(rename(R, &d, b"b/", &d, b"x"), Err(ENOTDIR));

    mkdir(R, &d, b"x", 0o755).unwrap();
    mkdir(R, &d, b"y", 0o755).unwrap();
    mkdir(R, &d, b"full", 0o755).unwrap();
    write(b"full/f", b"");
    assert_eq!(rename(R, &d, b"x", &d, b"b"), Err(ENOTDIR));
    assert_eq!(rename(R, &d, b"b", &d, b"x"), Err(EISDIR));
    assert_eq!(rename(R, &d, b"x", &d, b"full"), Err(ENOTEMPTY));
    assert_eq!(rename(R, &d, b"x", &d, b"x/inner"), Err(EINVAL));
    assert_eq!(rename(R, &d, b"x", &d, b"."), Err(EBUSY));
    rename(R, &d, b"x", &d, b"y").unwrap();
    assert_eq!(stat(R, &d, b".", true).unwrap().st_nlink, 4);

    // Moving a directory elsewhere updates its parent link and the counts.
    mkdir(R, &d, b"y/sub", 0o755).unwrap();
    let sub = lookup(R, &d, b"y/sub", true).unwrap();
    rename(R, &d, b"y/sub", &d, b"full/moved").unwrap();
    assert_eq!(sub.path(), b"/tmp/rename/full/moved");
    assert_eq!(lookup(R, &sub, b"..", true).unwrap().path(), b"/tmp/rename/full");
    assert_eq!(stat(R, &d, b"y", true).unwrap().st_nlink, 2);
    assert_eq!(stat(R, &d, b"full", true).unwrap().st_nlink, 3);
    // Moving an ancestor onto a non-empty descendant's parent fails.
    assert_eq!(rename(R, &d, b"full/moved", &d, b"full"), Err(ENOTEMPTY));
}

#[test]
fn hard_links() {
    let d = test_dir("hard");
    open_in(&d, b"f", O_CREAT | O_WRONLY).unwrap().write(b"same").unwrap();
    link(R, &d, b"f", &d, b"g").unwrap();
    assert_eq!(stat(R, &d, b"g", true).unwrap().st_nlink, 2);
    assert_eq!(link(R, &d, b"f", &d, b"g"), Err(EEXIST));
    assert_eq!(link(R, &d, b".", &d, b"dirlink"), Err(EPERM));
    assert_eq!(link(R, &d, b"missing", &d, b"h"), Err(ENOENT));
    unlink(R, &d, b"f").unwrap();
    let g = stat(R, &d, b"g", true).unwrap();
    assert_eq!((g.st_nlink, g.st_size), (1, 4));
}

#[test]
fn unlinked_open_file_keeps_working() {
    let d = test_dir("unlinked");
    let f = open_in(&d, b"f", O_CREAT | O_RDWR).unwrap();
    f.write(b"before").unwrap();
    unlink(R, &d, b"f").unwrap();
    node::heap().collect();
    f.write(b" after").unwrap();
    f.seek(0, SEEK_SET).unwrap();
    assert_eq!(read_all(&*f), b"before after");
    assert_eq!(f.stat().unwrap().st_nlink, 0);
    assert_eq!(open_in(&d, b"f", O_RDONLY).err(), Some(ENOENT));
}

#[test]
fn getdents64_lists_dot_entries_first() {
    let d = test_dir("dents");
    mkdir(R, &d, b"sub", 0o755).unwrap();
    open_in(&d, b"file", O_CREAT | O_WRONLY).unwrap();
    symlink(R, b"file", &d, b"link").unwrap();
    mknod_char(b"/tmp/dents/null", 0o666, makedev(1, 3)).unwrap();
    for i in 0..30 {
        open_in(&d, format!("many-{i:02}").as_bytes(), O_CREAT | O_WRONLY).unwrap();
    }
    let parent_ino = stat(R, &root(), b"/tmp", true).unwrap().st_ino;
    for buf_len in [32, 64, 100, 4096] {
        let records = list(&d, b".", buf_len);
        assert_eq!(records.len(), 36, "buffer {buf_len}");
        assert_eq!(names(&records[..2]), [&b"."[..], b".."]);
        assert_eq!((records[0].ino, records[1].ino), (d.stat().st_ino, parent_ino));
        let offsets: Vec<u64> = records.iter().map(|r| r.next_off).collect();
        assert_eq!(offsets, (1..=36).collect::<Vec<u64>>());
        let kind = |name: &[u8]| records.iter().find(|r| r.name == name).unwrap().d_type;
        assert_eq!([kind(b"sub"), kind(b"file"), kind(b"link"), kind(b"null")], [DT_DIR, DT_REG, DT_LNK, DT_CHR]);
        assert_eq!(records.iter().find(|r| r.name == b"file").unwrap().ino, stat(R, &d, b"file", true).unwrap().st_ino);
    }
    let root_list = list(&root(), b"/", 4096);
    assert_eq!(root_list[0].ino, root_list[1].ino);
    // Too small for one record; rewinding; entries added meanwhile.
    let dir = open_in(&d, b".", O_RDONLY).unwrap();
    assert_eq!(dir.getdents64(&mut [0u8; 20]), Err(EINVAL));
    let mut buf = [0u8; 200];
    let mut next = || {
        let n = dir.getdents64(&mut buf).unwrap();
        dirent::decode(&buf[..n])
    };
    let first = next();
    open_in(&d, b"0-added-early", O_CREAT | O_WRONLY).unwrap();
    let mut seen = first.len();
    loop {
        let more = next();
        if more.is_empty() {
            break;
        }
        seen += more.len();
    }
    assert_eq!(seen, 36, "no entry skipped or repeated");
    assert_eq!(dir.seek(0, SEEK_SET), Ok(0));
    assert_eq!(names(&next())[0], b".");
    assert_eq!(dir.seek(5, SEEK_SET), Ok(5));
    assert_eq!(next()[0].next_off, 6);
}

#[test]
fn executables_need_an_execute_bit() {
    let d = test_dir("exec");
    open_in(&d, b"prog", O_CREAT | O_WRONLY).unwrap().write(b"code").unwrap();
    assert_eq!(exec_bytes(&d, b"prog"), Err(EACCES));
    chmod(R, &d, b"prog", 0o4710).unwrap();
    assert_eq!(stat(R, &d, b"prog", true).unwrap().st_mode, S_IFREG | 0o4710);
    assert_eq!(exec_bytes(&d, b"prog").unwrap(), b"code");
    assert_eq!(exec_bytes(&d, b"."), Err(EISDIR));
    assert_eq!(exec_bytes(&root(), b"/dev/null"), Err(EACCES));
}

#[test]
fn char_devices() {
    setup();
    let r = root();
    let null = open_in(&r, b"/dev/null", O_RDWR).unwrap();
    assert_eq!(null.write(b"gone"), Ok(4));
    assert_eq!(null.read(&mut [1; 8]), Ok(0));
    let zero = open_in(&r, b"/dev/zero", O_RDONLY).unwrap();
    let mut buf = [1u8; 8];
    assert_eq!(zero.read(&mut buf), Ok(8));
    assert_eq!(buf, [0; 8]);

    fn open_test_device(flags: u32) -> KResult<Arc<dyn File>> {
        assert_eq!(flags & O_ACCMODE, O_WRONLY);
        Err(EROFS)
    }
    let rdev = makedev(240, 7);
    register_char_device(rdev, open_test_device);
    mknod_char(b"/dev/test240", 0o600, rdev).unwrap();
    assert_eq!(mknod_char(b"/dev/test240", 0o600, rdev), Err(EEXIST));
    assert_eq!(open_in(&r, b"/dev/test240", O_WRONLY).err(), Some(EROFS));
    mknod_char(b"/dev/unregistered", 0o600, makedev(241, 0)).unwrap();
    assert_eq!(open_in(&r, b"/dev/unregistered", O_RDONLY).err().map(|e| e.0), Some(6));
}

#[test]
fn concurrent_writers_in_threads() {
    let d = test_dir("threads");
    fn shareable<T: Send + Sync + Clone>(_: &T) {}
    shareable(&d);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let d = d.clone();
            std::thread::spawn(move || {
                let name = format!("t{t}");
                for i in 0..50 {
                    let f = open_in(&d, name.as_bytes(), O_CREAT | O_WRONLY | O_APPEND).unwrap();
                    f.write(&[i as u8; 100]).unwrap();
                }
                stat(R, &d, name.as_bytes(), true).unwrap().st_size
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), 5000);
    }
    assert_eq!(list(&d, b".", 4096).len(), 6);
}

/// A small synthetic file system: a map from paths to nodes, which tests
/// change behind the mount's back.
struct Fake {
    nodes: spin::Mutex<std::collections::BTreeMap<Vec<u8>, FakeNode>>,
}

/// A node of [`Fake`]: its kind and, for a readable file, its contents.
type FakeNode = (SynthKind, Option<Vec<u8>>);

impl Fake {
    fn set(&self, path: &[u8], kind: SynthKind, data: Option<&[u8]>) {
        self.nodes.lock().insert(path.to_vec(), (kind, data.map(<[u8]>::to_vec)));
    }

    fn remove(&self, prefix: &[u8]) {
        self.nodes.lock().retain(|path, _| !(path == prefix || path.starts_with(&[prefix, b"/"].concat())));
    }
}

impl Synthetic for Fake {
    fn kind(&self, path: &[u8]) -> Option<SynthKind> {
        assert!(path::components(path).all(|c| !path::is_special(c)) && !path.starts_with(b"/"), "path {path:?}");
        self.nodes.lock().get(path).map(|(kind, _)| kind.clone())
    }

    fn list(&self, path: &[u8]) -> Option<Vec<(Vec<u8>, SynthKind)>> {
        let nodes = self.nodes.lock();
        if nodes.get(path)?.0 != SynthKind::Dir {
            return None;
        }
        let prefix = if path.is_empty() { Vec::new() } else { [path, b"/"].concat() };
        let children = nodes.iter().filter_map(|(p, (kind, _))| {
            let name = p.strip_prefix(&prefix[..])?;
            (!name.is_empty() && !name.contains(&b'/')).then(|| (name.to_vec(), kind.clone()))
        });
        Some(children.collect())
    }

    fn read(&self, path: &[u8]) -> Option<Vec<u8>> {
        self.nodes.lock().get(path).and_then(|(_, data)| data.clone())
    }
}

/// `/tmp/synth` (tmpfs, with a file `marker`) and the fake mounted on
/// `/tmp/synth/mnt`, once for all tests: `uptime`, `1/{stat,cmdline,up}`,
/// `2/stat`, `self -> 1`, `home -> /tmp/synth`, `ghost` (unreadable).
fn synth_setup() -> (NodeRef, &'static Fake) {
    static FAKE: std::sync::OnceLock<Arc<Fake>> = std::sync::OnceLock::new();
    let fake = FAKE.get_or_init(|| {
        let d = test_dir("synth");
        open_in(&d, b"marker", O_CREAT | O_WRONLY).unwrap().write(b"tmpfs").unwrap();
        mkdir(R, &d, b"mnt", 0o755).unwrap();
        let fake = Arc::new(Fake { nodes: spin::Mutex::new(Default::default()) });
        let (dir, file) = (SynthKind::Dir, SynthKind::File);
        fake.set(b"", dir.clone(), None);
        fake.set(b"uptime", file.clone(), Some(b"12.34 5.67\n"));
        fake.set(b"1", dir.clone(), None);
        fake.set(b"1/stat", file.clone(), Some(b"1 (init) S 0"));
        fake.set(b"1/cmdline", file.clone(), Some(b"/sbin/init\0"));
        fake.set(b"1/up", SynthKind::Symlink(b"..".to_vec()), None);
        fake.set(b"2", dir, None);
        fake.set(b"2/stat", file.clone(), Some(b"2 (sh) R 1"));
        fake.set(b"self", SynthKind::Symlink(b"1".to_vec()), None);
        fake.set(b"home", SynthKind::Symlink(b"/tmp/synth".to_vec()), None);
        fake.set(b"ghost", file, None);
        mount_synthetic(b"/tmp/synth/mnt", fake.clone()).unwrap();
        fake
    });
    (lookup(R, &root(), b"/tmp/synth", true).unwrap(), fake)
}

#[test]
fn synthetic_lookup_stat_readlink() {
    let (d, _) = synth_setup();
    let tmpfs_dev = d.stat().st_dev;
    let mnt = stat(R, &d, b"mnt", true).unwrap();
    assert_eq!((mnt.st_mode, mnt.st_nlink), (S_IFDIR | 0o555, 4));
    assert_ne!(mnt.st_dev, tmpfs_dev);
    let uptime = stat(R, &d, b"mnt/uptime", true).unwrap();
    assert_eq!((uptime.st_mode, uptime.st_nlink, uptime.st_size), (S_IFREG | 0o444, 1, 0));
    let link = stat(R, &d, b"mnt/self", false).unwrap();
    assert_eq!((link.st_mode, link.st_size), (S_IFLNK | 0o777, 1));
    assert_eq!(file_type(&d, b"mnt/self/"), S_IFDIR);
    assert_eq!(readlink(R, &d, b"mnt/self").unwrap(), b"1");
    assert_eq!(readlink(R, &d, b"mnt/uptime"), Err(EINVAL));
    assert_eq!(stat(R, &d, b"mnt/missing", true), Err(ENOENT));
    assert_eq!(stat(R, &d, b"mnt/uptime/x", true), Err(ENOTDIR));
    assert_eq!(stat(R, &d, b"mnt/uptime/", true), Err(ENOTDIR));
    // Inode numbers: stable per path, distinct between paths.
    let ino = |p: &[u8]| stat(R, &d, p, true).unwrap().st_ino;
    assert_eq!(ino(b"mnt/self"), ino(b"mnt/1"));
    assert_eq!(ino(b"mnt/1/stat"), ino(b"/tmp/synth/mnt/./1//stat"));
    assert_ne!(ino(b"mnt/1/stat"), ino(b"mnt/2/stat"));
    assert_ne!(ino(b"mnt"), ino(b"mnt/1"));
    // `..` within the tree and out of it; symbolic links both ways.
    assert_eq!(lookup(R, &d, b"mnt/self/..", true).unwrap().path(), b"/tmp/synth/mnt");
    assert_eq!(lookup(R, &d, b"mnt/1/../..", true).unwrap().path(), b"/tmp/synth");
    assert_eq!(lookup(R, &d, b"mnt/../mnt/2", true).unwrap().path(), b"/tmp/synth/mnt/2");
    assert_eq!(lookup(R, &d, b"mnt/1/up/2/", true).unwrap().path(), b"/tmp/synth/mnt/2");
    assert_eq!(ino(b"mnt/.."), d.stat().st_ino);
    assert_eq!(read_all(&*open_in(&d, b"mnt/home/marker", O_RDONLY).unwrap()), b"tmpfs");
    assert_eq!(read_all(&*open_in(&d, b"mnt/../marker", O_RDONLY).unwrap()), b"tmpfs");
    assert_eq!(lookup(R, &d, b"mnt/home", false).unwrap().path(), b"/tmp/synth/mnt/home");
    symlink(R, b"mnt/self", &d, b"me").unwrap();
    assert_eq!(read_all(&*open_in(&d, b"me/cmdline", O_RDONLY).unwrap()), b"/sbin/init\0");
    assert_eq!(lookup(R, &d, b"me", true).unwrap().path(), b"/tmp/synth/mnt/1");
    symlink(R, b"/tmp/synth/mnt/self/stat", &d, b"abs").unwrap();
    assert_eq!(read_all(&*open_in(&d, b"abs", O_RDONLY | O_CREAT).unwrap()), b"1 (init) S 0");
    assert!(lookup(R, &d, b"mnt/uptime", true).is_ok_and(|n| !n.is_dir() && n.path() == b"/tmp/synth/mnt/uptime"));
}

#[test]
fn synthetic_files_are_read_only_snapshots() {
    let (d, fake) = synth_setup();
    let f = open_in(&d, b"mnt/uptime", O_RDONLY).unwrap();
    fake.set(b"uptime", SynthKind::File, Some(b"99.00 1.00\n"));
    assert_eq!(read_all(&*f), b"12.34 5.67\n");
    let st = f.stat().unwrap();
    assert_eq!((st.st_mode, st.st_size), (S_IFREG | 0o444, 11));
    assert_eq!(f.seek(-5, SEEK_END), Ok(6));
    assert_eq!(read_all(&*f), b"5.67\n");
    assert_eq!(f.seek(0, SEEK_SET), Ok(0));
    let mut buf = [0u8; 5];
    assert_eq!(f.read(&mut buf), Ok(5));
    assert_eq!(&buf, b"12.34");
    assert_eq!(f.write(b"x"), Err(EBADF));
    assert_eq!(f.truncate(0), Err(EINVAL));
    assert!(f.as_dir().is_none());
    assert_eq!(read_all(&*open_in(&d, b"mnt/uptime", O_RDONLY).unwrap()), b"99.00 1.00\n");
    // Writing, creating, changing: refused.
    assert_eq!(open_in(&d, b"mnt/uptime", O_WRONLY).err(), Some(EACCES));
    assert_eq!(open_in(&d, b"mnt/uptime", O_RDWR | O_TRUNC).err(), Some(EACCES));
    assert_eq!(open_in(&d, b"mnt/uptime", O_RDONLY | O_DIRECTORY).err(), Some(ENOTDIR));
    assert_eq!(open_in(&d, b"mnt/self", O_RDONLY | O_NOFOLLOW).err(), Some(ELOOP));
    assert_eq!(open_in(&d, b"mnt/new", O_WRONLY | O_CREAT).err(), Some(EACCES));
    assert_eq!(open_in(&d, b"mnt/uptime", O_RDONLY | O_CREAT | O_EXCL).err(), Some(EEXIST));
    assert!(open_in(&d, b"mnt/uptime", O_RDONLY | O_CREAT).is_ok());
    assert_eq!(open_in(&d, b"mnt", O_RDWR).err(), Some(EISDIR));
    assert_eq!(open_in(&d, b"mnt/1", O_RDONLY | O_CREAT).err(), Some(EISDIR));
    assert_eq!(mkdir(R, &d, b"mnt/x", 0o755), Err(EACCES));
    assert_eq!(mkdir(R, &d, b"mnt/1", 0o755), Err(EEXIST));
    assert_eq!(symlink(R, b"x", &d, b"mnt/x"), Err(EACCES));
    assert_eq!(unlink(R, &d, b"mnt/uptime"), Err(EACCES));
    assert_eq!(unlink(R, &d, b"mnt/1"), Err(EISDIR));
    assert_eq!(unlink(R, &d, b"mnt/nope"), Err(ENOENT));
    assert_eq!(rmdir(R, &d, b"mnt/1"), Err(EACCES));
    assert_eq!(rmdir(R, &d, b"mnt/uptime"), Err(ENOTDIR));
    assert_eq!(rmdir(R, &d, b"mnt/1/."), Err(EINVAL));
    assert_eq!(chmod(R, &d, b"mnt/uptime", 0o777), Err(EACCES));
    assert_eq!(truncate(R, &d, b"mnt/uptime", 0), Err(EACCES));
    assert_eq!(truncate(R, &d, b"mnt/1", 0), Err(EISDIR));
    assert_eq!(exec_bytes(&d, b"mnt/uptime"), Err(EACCES));
    assert_eq!(exec_bytes(&d, b"mnt/1"), Err(EISDIR));
    assert_eq!(rename(R, &d, b"mnt/uptime", &d, b"mnt/u"), Err(EACCES));
    assert_eq!(rename(R, &d, b"mnt/uptime", &d, b"u"), Err(EXDEV));
    assert_eq!(rename(R, &d, b"marker", &d, b"mnt/marker"), Err(EXDEV));
    assert_eq!(rename(R, &d, b"mnt/nope", &d, b"u"), Err(ENOENT));
    assert_eq!(link(R, &d, b"mnt/uptime", &d, b"u"), Err(EXDEV));
    assert_eq!(link(R, &d, b"marker", &d, b"mnt/m"), Err(EXDEV));
    assert_eq!(link(R, &d, b"mnt/1", &d, b"u"), Err(EPERM));
    // The mount point itself, and mounting again.
    assert_eq!(rmdir(R, &d, b"mnt"), Err(EBUSY));
    assert_eq!(rename(R, &d, b"mnt", &d, b"moved"), Err(EBUSY));
    mkdir(R, &d, b"empty", 0o755).unwrap();
    assert_eq!(rename(R, &d, b"empty", &d, b"mnt"), Err(EBUSY));
    assert_eq!(mkdir(R, &d, b"mnt", 0o755), Err(EEXIST));
    let other = Arc::new(Fake { nodes: spin::Mutex::new(Default::default()) });
    assert_eq!(mount_synthetic(b"/tmp/synth/mnt", other.clone()), Err(EBUSY));
    assert_eq!(mount_synthetic(b"/", other.clone()), Err(EBUSY));
    assert_eq!(mount_synthetic(b"tmp", other.clone()), Err(EINVAL));
    assert_eq!(mount_synthetic(b"/tmp/synth/marker", other), Err(ENOTDIR));
    // Paths that merely pass through the mount still change tmpfs.
    open_in(&d, b"mnt/../made", O_CREAT | O_WRONLY).unwrap().write(b"ok").unwrap();
    mkdir(R, &d, b"mnt/home/sub", 0o700).unwrap();
    rename(R, &d, b"mnt/../made", &d, b"mnt/home/sub/made").unwrap();
    link(R, &d, b"sub/made", &d, b"mnt/home/made2").unwrap();
    assert_eq!(read_all(&*open_in(&d, b"made2", O_RDONLY).unwrap()), b"ok");
    unlink(R, &d, b"mnt/home/sub/made").unwrap();
    unlink(R, &d, b"mnt/../made2").unwrap();
    rmdir(R, &d, b"mnt/1/up/../sub").unwrap();
    assert_eq!(rmdir(R, &d, b"mnt/../sub"), Err(ENOENT));
}

#[test]
fn synthetic_directories_list_and_serve_as_bases() {
    let (d, _) = synth_setup();
    let ino = |p: &[u8]| stat(R, &d, p, false).unwrap().st_ino;
    for buf_len in [32, 48, 4096] {
        let records = list(&d, b"mnt", buf_len);
        assert_eq!(names(&records), [&b"."[..], b"..", b"1", b"2", b"ghost", b"home", b"self", b"uptime"]);
        assert_eq!((records[0].ino, records[1].ino), (ino(b"mnt"), d.stat().st_ino));
        for r in &records[2..] {
            assert_eq!(r.ino, ino(&[&b"mnt/"[..], &r.name].concat()));
        }
        let offsets: Vec<u64> = records.iter().map(|r| r.next_off).collect();
        assert_eq!(offsets, (1..=8).collect::<Vec<u64>>());
        let types: Vec<u8> = records.iter().map(|r| r.d_type).collect();
        assert_eq!(types, [DT_DIR, DT_DIR, DT_DIR, DT_DIR, DT_REG, DT_LNK, DT_LNK, DT_REG]);
    }
    let one = list(&d, b"mnt/self/", 4096);
    assert_eq!(names(&one), [&b"."[..], b"..", b"cmdline", b"stat", b"up"]);
    assert_eq!(one[1].ino, ino(b"mnt"));
    let dir = open_in(&d, b"mnt", O_RDONLY | O_DIRECTORY).unwrap();
    assert_eq!(dir.getdents64(&mut [0u8; 20]), Err(EINVAL));
    assert_eq!(dir.read(&mut [0; 4]), Err(EISDIR));
    assert_eq!(dir.stat().unwrap().st_mode, S_IFDIR | 0o555);
    assert_eq!(dir.seek(3, SEEK_SET), Ok(3));
    let mut buf = [0u8; 4096];
    let n = dir.getdents64(&mut buf).unwrap();
    assert_eq!(names(&dirent::decode(&buf[..n]))[0], b"2");
    // fchdir/chdir into it: a base for relative lookups, with a path.
    let cwd = open_in(&d, b"mnt/self", O_RDONLY | O_DIRECTORY).unwrap().as_dir().unwrap();
    assert!(cwd.is_dir());
    assert_eq!(cwd.path(), b"/tmp/synth/mnt/1");
    assert_eq!(cwd.stat().st_ino, ino(b"mnt/1"));
    assert_eq!(read_all(&*open_in(&cwd, b"stat", O_RDONLY).unwrap()), b"1 (init) S 0");
    assert_eq!(stat(R, &cwd, b"cmdline", true).unwrap().st_mode, S_IFREG | 0o444);
    assert_eq!(lookup(R, &cwd, b"..", true).unwrap().path(), b"/tmp/synth/mnt");
    assert_eq!(lookup(R, &cwd, b"../..", true).unwrap().path(), b"/tmp/synth");
    assert_eq!(lookup(R, &cwd, b"/tmp", true).unwrap().path(), b"/tmp");
    assert_eq!(lookup(R, &cwd, b".", true).unwrap().path(), b"/tmp/synth/mnt/1");
    assert_eq!(names(&list(&cwd, b".", 4096)).len(), 5);
    assert_eq!(read_all(&*open_in(&cwd, b"../../marker", O_RDONLY).unwrap()), b"tmpfs");
    assert_eq!(mkdir(R, &cwd, b"x", 0o755), Err(EACCES));
    assert_eq!(stat(R, &cwd, b"stat/x", true), Err(ENOTDIR));
    let root_of_mount = lookup(R, &d, b"mnt", true).unwrap();
    assert_eq!(root_of_mount.path(), b"/tmp/synth/mnt");
    assert_eq!(lookup(R, &root_of_mount, b"..", true).unwrap().path(), b"/tmp/synth");
    let file = lookup(R, &cwd, b"stat", true).unwrap();
    assert_eq!(stat(R, &file, b"x", true), Err(ENOTDIR));
}

#[test]
fn vanished_synthetic_nodes() {
    let (d, fake) = synth_setup();
    assert_eq!(stat(R, &d, b"mnt/ghost", true).unwrap().st_mode, S_IFREG | 0o444);
    assert_eq!(open_in(&d, b"mnt/ghost", O_RDONLY).err(), Some(ENOENT));
    fake.set(b"3", SynthKind::Dir, None);
    fake.set(b"3/stat", SynthKind::File, Some(b"3 (sleep) S 1"));
    let three = lookup(R, &d, b"mnt/3", true).unwrap();
    let listing = open_in(&three, b".", O_RDONLY).unwrap();
    let stat_file = open_in(&three, b"stat", O_RDONLY).unwrap();
    fake.remove(b"3");
    assert_eq!(stat(R, &d, b"mnt/3", true), Err(ENOENT));
    assert_eq!(open_in(&three, b"stat", O_RDONLY).err(), Some(ENOENT));
    assert_eq!(listing.getdents64(&mut [0u8; 4096]), Ok(0));
    assert_eq!(read_all(&*stat_file), b"3 (sleep) S 1");
    assert_eq!(three.path(), b"/tmp/synth/mnt/3");
    assert_eq!(lookup(R, &three, b"..", true).unwrap().path(), b"/tmp/synth/mnt");
}

/// An unprivileged caller: uid 1000, group 100, supplementary group 7.
const USER: &Cred = &Cred { uid: 1000, gid: 100, groups: &[7] };

#[test]
fn permission_bits_bind_everyone_but_root() {
    let dir = test_dir("perms");
    let secret = open(R, &dir, b"secret", O_CREAT | O_WRONLY, 0o600).unwrap();
    drop(secret);
    assert_eq!(open(USER, &dir, b"secret", O_RDONLY, 0).err(), Some(EACCES));
    assert!(open(R, &dir, b"secret", O_RDWR, 0).is_ok());
    // No write permission in the directory: no new entries, no removals.
    assert_eq!(mkdir(USER, &dir, b"mine", 0o755), Err(EACCES));
    assert_eq!(unlink(USER, &dir, b"secret"), Err(EACCES));
    assert_eq!(mkdir(USER, &dir, b"secret", 0o755), Err(EEXIST));
    // No search permission: nothing below is reachable.
    mkdir(R, &dir, b"closed", 0o700).unwrap();
    mkdir(R, &dir, b"closed/in", 0o777).unwrap();
    assert_eq!(stat(USER, &dir, b"closed/in", true).err(), Some(EACCES));
    assert_eq!(stat(USER, &dir, b"closed/none", true).err(), Some(EACCES));
    assert!(stat(USER, &dir, b"closed", true).is_ok());
    // Root executes only what has an execute bit.
    assert_eq!(open_executable(R, &dir, b"secret").err(), Some(EACCES));
}

#[test]
fn new_nodes_belong_to_their_creator_and_sticky_directories_protect_them() {
    let dir = test_dir("owners");
    chmod(R, &dir, b".", 0o1777).unwrap();
    mkdir(USER, &dir, b"d", 0o755).unwrap();
    let st = stat(R, &dir, b"d", true).unwrap();
    assert_eq!((st.st_uid, st.st_gid), (1000, 100));
    open(R, &dir, b"roots", O_CREAT | O_WRONLY, 0o666).unwrap();
    assert_eq!(unlink(USER, &dir, b"roots"), Err(EPERM));
    assert_eq!(rename(USER, &dir, b"roots", &dir, b"taken"), Err(EPERM));
    assert_eq!(rmdir(USER, &dir, b"d"), Ok(()));
    // A set-group-id directory hands its group (and the bit) down.
    mkdir(R, &dir, b"shared", 0o2777).unwrap();
    set_attr(R, &dir, b"shared", true, Attr::Owner { uid: None, gid: Some(50) }).unwrap();
    mkdir(USER, &dir, b"shared/sub", 0o755).unwrap();
    let st = stat(R, &dir, b"shared/sub", true).unwrap();
    assert_eq!((st.st_gid, st.st_mode & 0o7777), (50, 0o2755));
}

#[test]
fn chmod_and_chown_follow_ownership() {
    let dir = test_dir("chown");
    chmod(R, &dir, b".", 0o777).unwrap();
    open(USER, &dir, b"f", O_CREAT | O_WRONLY, 0o644).unwrap();
    let owner = |uid, gid| Attr::Owner { uid, gid };
    assert_eq!(set_attr(USER, &dir, b"f", true, owner(Some(0), None)), Err(EPERM));
    assert_eq!(set_attr(USER, &dir, b"f", true, owner(None, Some(8))), Err(EPERM));
    assert_eq!(set_attr(USER, &dir, b"f", true, owner(Some(1000), Some(7))), Ok(()));
    // The owner outside the file's group loses set-group-id on chmod.
    set_attr(R, &dir, b"f", true, owner(None, Some(9))).unwrap();
    chmod(USER, &dir, b"f", 0o6755).unwrap();
    assert_eq!(stat(R, &dir, b"f", true).unwrap().st_mode & 0o7777, 0o4755);
    // chown drops set-user-id.
    set_attr(R, &dir, b"f", true, owner(Some(1000), None)).unwrap();
    assert_eq!(stat(R, &dir, b"f", true).unwrap().st_mode & 0o7777, 0o755);
    open(R, &dir, b"g", O_CREAT | O_WRONLY, 0o644).unwrap();
    assert_eq!(chmod(USER, &dir, b"g", 0o777), Err(EPERM));
    let times = Attr::Times { atime: Time::At(5_000_000_000), mtime: Time::Omit };
    assert_eq!(set_attr(USER, &dir, b"g", true, times), Err(EPERM));
    let touch = Attr::Times { atime: Time::Now, mtime: Time::Now };
    assert_eq!(set_attr(USER, &dir, b"g", true, touch), Err(EACCES));
    set_attr(R, &dir, b"g", true, times).unwrap();
    assert_eq!(stat(R, &dir, b"g", true).unwrap().st_atime, 5);
}

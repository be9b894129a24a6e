//! A reader of cpio archives in the "newc" format (what the Linux
//! initramfs uses and `cpio -H newc` writes).
//!
//! Each entry is a 110-byte ASCII header — the magic `070701` (or `070702`,
//! the same layout with a checksum this reader ignores) and thirteen
//! 8-digit hex fields — then the NUL-terminated name, padded so that header
//! and name end on a 4-byte boundary, then the data, padded to 4 bytes. The
//! entry named `TRAILER!!!` ends the archive. Malformed input is an error,
//! never a panic.

use core::fmt;

use crate::devices::makedev;

/// Bytes of a newc header.
const HEADER_LEN: usize = 110;
/// The name of the entry that ends an archive.
const TRAILER: &[u8] = b"TRAILER!!!";

/// Why an archive could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpioError {
    /// An entry does not start with `070701` or `070702`.
    BadMagic,
    /// A header field is not 8 hex digits.
    BadField,
    /// The name is empty or not NUL-terminated.
    BadName,
    /// The archive ends inside an entry.
    Truncated,
}

impl fmt::Display for CpioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CpioError::BadMagic => "bad cpio magic",
            CpioError::BadField => "bad cpio header field",
            CpioError::BadName => "bad cpio entry name",
            CpioError::Truncated => "truncated cpio archive",
        })
    }
}

/// One archive member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Inode number in the archive (equal for hard links of one file).
    pub ino: u32,
    /// `st_mode`: file type and permissions.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Link count.
    pub nlink: u32,
    /// Major number of the device the file was on.
    pub dev_major: u32,
    /// Minor number of the device the file was on.
    pub dev_minor: u32,
    /// Major number of a device file.
    pub rdev_major: u32,
    /// Minor number of a device file.
    pub rdev_minor: u32,
    /// Path name, without the terminating NUL.
    pub name: &'a [u8],
    /// File contents (a symbolic link's target).
    pub data: &'a [u8],
}

impl Entry<'_> {
    /// A device file's number in Linux's `makedev` encoding.
    pub fn rdev(&self) -> u64 {
        makedev(self.rdev_major, self.rdev_minor)
    }
}

/// Iterates over the entries of an archive, up to `TRAILER!!!` or the end
/// of the input (an empty or zero-padded tail ends it too). After an error
/// it yields nothing more.
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader of `archive`.
    pub fn new(archive: &'a [u8]) -> Self {
        Self { rest: archive }
    }

    fn parse(&mut self) -> Result<Option<Entry<'a>>, CpioError> {
        if self.rest.iter().all(|&b| b == 0) {
            return Ok(None);
        }
        let header = self.rest.get(..HEADER_LEN).ok_or(CpioError::Truncated)?;
        if &header[..6] != b"070701" && &header[..6] != b"070702" {
            return Err(CpioError::BadMagic);
        }
        let field = |i: usize| hex_field(&header[6 + 8 * i..14 + 8 * i]);
        let ino = field(0)?;
        let mode = field(1)?;
        let (uid, gid) = (field(2)?, field(3)?);
        let nlink = field(4)?;
        let size = field(6)? as usize;
        let (dev_major, dev_minor) = (field(7)?, field(8)?);
        let (rdev_major, rdev_minor) = (field(9)?, field(10)?);
        let name_size = field(11)? as usize;
        field(12)?;
        let name_end = HEADER_LEN.checked_add(name_size).ok_or(CpioError::Truncated)?;
        let name = self.rest.get(HEADER_LEN..name_end).ok_or(CpioError::Truncated)?;
        let Some((&0, name)) = name.split_last() else { return Err(CpioError::BadName) };
        if name.is_empty() {
            return Err(CpioError::BadName);
        }
        let data_start = align4(name_end);
        let data_end = data_start.checked_add(size).ok_or(CpioError::Truncated)?;
        let data = self.rest.get(data_start..data_end).ok_or(CpioError::Truncated)?;
        if name == TRAILER {
            return Ok(None);
        }
        self.rest = self.rest.get(align4(data_end)..).unwrap_or(&[]);
        Ok(Some(Entry { ino, mode, uid, gid, nlink, dev_major, dev_minor, rdev_major, rdev_minor, name, data }))
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Entry<'a>, CpioError>;

    fn next(&mut self) -> Option<Self::Item> {
        let result = self.parse();
        if !matches!(result, Ok(Some(_))) {
            self.rest = &[];
        }
        result.transpose()
    }
}

/// Rounds up to a multiple of 4.
fn align4(n: usize) -> usize {
    n.next_multiple_of(4)
}

/// Parses 8 ASCII hex digits.
fn hex_field(digits: &[u8]) -> Result<u32, CpioError> {
    digits.iter().try_fold(0u32, |value, &c| {
        let digit = (c as char).to_digit(16).ok_or(CpioError::BadField)?;
        Ok((value << 4) | digit)
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use alloc::format;
    use alloc::vec::Vec;

    use super::*;

    /// Appends one newc entry to `archive` (test archive builder).
    pub(crate) fn push_entry(archive: &mut Vec<u8>, name: &[u8], ino: u32, mode: u32, nlink: u32, data: &[u8]) {
        push_raw(archive, name, [ino, mode, 0, 0, nlink, 0, data.len() as u32, 0, 0, 0, 0], data);
    }

    /// Appends an entry with explicit fields `ino..rdevminor`.
    pub(crate) fn push_raw(archive: &mut Vec<u8>, name: &[u8], fields: [u32; 11], data: &[u8]) {
        archive.extend_from_slice(b"070701");
        for value in fields {
            archive.extend_from_slice(format!("{value:08x}").as_bytes());
        }
        archive.extend_from_slice(format!("{:08x}{:08x}", name.len() + 1, 0).as_bytes());
        archive.extend_from_slice(name);
        archive.push(0);
        archive.resize(align4(archive.len()), 0);
        archive.extend_from_slice(data);
        archive.resize(align4(archive.len()), 0);
    }

    /// Appends the trailer.
    pub(crate) fn push_trailer(archive: &mut Vec<u8>) {
        push_entry(archive, TRAILER, 0, 0, 1, b"");
    }

    fn read_all(archive: &[u8]) -> Result<Vec<Entry<'_>>, CpioError> {
        Reader::new(archive).collect()
    }

    #[test]
    fn reads_entries_until_the_trailer() {
        let mut archive = Vec::new();
        push_entry(&mut archive, b".", 1, 0o40755, 2, b"");
        push_entry(&mut archive, b"bin/sh", 2, 0o100755, 1, b"#!x");
        push_raw(&mut archive, b"dev/tty", [3, 0o20620, 0, 0, 1, 0, 0, 0, 0, 5, 1], b"");
        push_trailer(&mut archive);
        push_entry(&mut archive, b"after", 4, 0o100644, 1, b"ignored");
        let entries = read_all(&archive).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].name, b".");
        assert_eq!(entries[1].name, b"bin/sh");
        assert_eq!(entries[1].data, b"#!x");
        assert_eq!(entries[1].mode, 0o100755);
        assert_eq!(entries[2].rdev(), makedev(5, 1));
    }

    #[test]
    fn aligns_names_and_data_of_every_length() {
        let mut archive = Vec::new();
        for len in 1..9 {
            let name: Vec<u8> = (0..len).map(|i| b'a' + i as u8).collect();
            let data: Vec<u8> = (0..len * 3).map(|i| i as u8).collect();
            push_entry(&mut archive, &name, len, 0o100644, 1, &data);
        }
        push_trailer(&mut archive);
        let entries = read_all(&archive).unwrap();
        assert_eq!(entries.len(), 8);
        for (i, entry) in entries.iter().enumerate() {
            assert_eq!(entry.name.len(), i + 1);
            assert_eq!(entry.data.len(), (i + 1) * 3);
            assert_eq!(entry.data.last().copied(), Some(((i + 1) * 3 - 1) as u8));
        }
    }

    #[test]
    fn empty_and_zero_padded_archives_have_no_entries() {
        assert_eq!(read_all(b"").unwrap(), []);
        assert_eq!(read_all(&[0; 512]).unwrap(), []);
        let mut archive = Vec::new();
        push_trailer(&mut archive);
        assert_eq!(read_all(&archive).unwrap(), []);
    }

    #[test]
    fn malformed_archives_are_errors() {
        let mut good = Vec::new();
        push_entry(&mut good, b"file", 1, 0o100644, 1, b"contents");
        push_trailer(&mut good);

        let mut bad_magic = good.clone();
        bad_magic[5] = b'9';
        assert_eq!(read_all(&bad_magic), Err(CpioError::BadMagic));

        let mut bad_hex = good.clone();
        bad_hex[10] = b'g';
        assert_eq!(read_all(&bad_hex), Err(CpioError::BadField));

        for cut in [1, 50, HEADER_LEN, HEADER_LEN + 3, HEADER_LEN + 8] {
            assert_eq!(read_all(&good[..cut]), Err(CpioError::Truncated), "cut at {cut}");
        }

        let mut no_nul = Vec::new();
        push_entry(&mut no_nul, b"file", 1, 0o100644, 1, b"");
        let name_size = HEADER_LEN - 16;
        no_nul[name_size..name_size + 8].copy_from_slice(b"00000004");
        assert_eq!(read_all(&no_nul), Err(CpioError::BadName));

        let mut huge = good.clone();
        huge[54..62].copy_from_slice(b"ffffffff");
        assert_eq!(read_all(&huge), Err(CpioError::Truncated));
    }

    #[test]
    fn stops_after_an_error() {
        let mut reader = Reader::new(b"garbage that is not an archive at all");
        assert!(matches!(reader.next(), Some(Err(_))));
        assert!(reader.next().is_none());
    }
}

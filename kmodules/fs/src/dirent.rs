//! `linux_dirent64` records, as `getdents64` returns them.

pub(crate) use abi::flags::dirent::{DT_CHR, DT_DIR, DT_LNK, DT_REG};
use abi::types::DIRENT64_NAME_OFFSET;

/// Writes one record at the start of `buf`: the head, the name, a NUL,
/// zero padding to 8 bytes. Returns its length, or `None` if it does not
/// fit.
pub(crate) fn encode(buf: &mut [u8], ino: u64, next_off: u64, d_type: u8, name: &[u8]) -> Option<usize> {
    let len = (DIRENT64_NAME_OFFSET + name.len() + 1).next_multiple_of(8);
    let record = buf.get_mut(..len)?;
    record[0..8].copy_from_slice(&ino.to_ne_bytes());
    record[8..16].copy_from_slice(&next_off.to_ne_bytes());
    record[16..18].copy_from_slice(&(len as u16).to_ne_bytes());
    record[18] = d_type;
    let name_end = DIRENT64_NAME_OFFSET + name.len();
    record[DIRENT64_NAME_OFFSET..name_end].copy_from_slice(name);
    record[name_end..].fill(0);
    Some(len)
}

/// One decoded record (tests).
#[cfg(test)]
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Record {
    pub ino: u64,
    pub next_off: u64,
    pub d_type: u8,
    pub name: alloc::vec::Vec<u8>,
}

/// Decodes the records of a `getdents64` result (tests).
#[cfg(test)]
pub(crate) fn decode(mut buf: &[u8]) -> alloc::vec::Vec<Record> {
    let mut records = alloc::vec::Vec::new();
    while !buf.is_empty() {
        let u64_at = |i: usize| u64::from_ne_bytes(buf[i..i + 8].try_into().unwrap());
        let len = u16::from_ne_bytes([buf[16], buf[17]]) as usize;
        assert!(len.is_multiple_of(8) && len > DIRENT64_NAME_OFFSET && len <= buf.len(), "bad d_reclen {len}");
        let name = &buf[DIRENT64_NAME_OFFSET..len];
        let name = &name[..name.iter().position(|&b| b == 0).expect("NUL-terminated name")];
        records.push(Record { ino: u64_at(0), next_off: u64_at(8), d_type: buf[18], name: name.to_vec() });
        buf = &buf[len..];
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_padded_to_8_bytes() {
        let mut buf = [0xffu8; 64];
        assert_eq!(encode(&mut buf, 7, 1, DT_DIR, b"."), Some(24));
        assert_eq!(encode(&mut buf[24..], 9, 2, DT_REG, b"abcde"), Some(32));
        let records = decode(&buf[..56]);
        assert_eq!(records[0], Record { ino: 7, next_off: 1, d_type: DT_DIR, name: b".".to_vec() });
        assert_eq!(records[1], Record { ino: 9, next_off: 2, d_type: DT_REG, name: b"abcde".to_vec() });
        assert_eq!(encode(&mut buf[..31], 1, 1, DT_LNK, b"abcde"), None);
        assert_eq!(encode(&mut buf, 1, 1, DT_CHR, b"x"), Some(24));
    }
}

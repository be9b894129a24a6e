//! Plain logic on byte paths: limits, components, splitting off the last
//! component. No file system access.

use abi::errno::{ENAMETOOLONG, ENOENT};

use crate::KResult;

/// Longest path, without its NUL (Linux's `PATH_MAX` is 4096 with it).
pub(crate) const MAX_PATH: usize = 4095;
/// Longest component.
pub(crate) const MAX_NAME: usize = 255;

/// Checks a path given to a system call: not empty, not too long.
pub(crate) fn check(path: &[u8]) -> KResult<()> {
    if path.is_empty() {
        return Err(ENOENT);
    }
    if path.len() > MAX_PATH {
        return Err(ENAMETOOLONG);
    }
    Ok(())
}

/// Checks one component's length.
pub(crate) fn check_name(name: &[u8]) -> KResult<()> {
    if name.len() > MAX_NAME { Err(ENAMETOOLONG) } else { Ok(()) }
}

/// The non-empty components of `path` (repeated slashes collapse).
pub(crate) fn components(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|&b| b == b'/').filter(|c| !c.is_empty())
}

/// Whether `path` starts at the root.
pub(crate) fn is_absolute(path: &[u8]) -> bool {
    path.first() == Some(&b'/')
}

/// Whether `path` ends in a slash, which requires it to name a directory.
pub(crate) fn has_trailing_slash(path: &[u8]) -> bool {
    path.last() == Some(&b'/')
}

/// Whether a last component names an existing directory by itself: `""`
/// (the path was only slashes, i.e. the root), `.` or `..`.
pub(crate) fn is_special(name: &[u8]) -> bool {
    matches!(name, b"" | b"." | b"..")
}

/// A path cut before its last component.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Split<'a> {
    /// Everything before the last component (`""`: the base directory).
    pub dir: &'a [u8],
    /// The last component; `""` if the path was only slashes.
    pub name: &'a [u8],
    /// Whether slashes followed the last component.
    pub trailing_slash: bool,
}

/// Splits off the last component: `a/b//` → (`a/`, `b`, slash),
/// `/a` → (`/`, `a`), `a` → (``, `a`), `/` → (`/`, ``).
pub(crate) fn split_last(path: &[u8]) -> Split<'_> {
    let trimmed_len = path.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    if trimmed_len == 0 {
        return Split { dir: path, name: b"", trailing_slash: false };
    }
    let trimmed = &path[..trimmed_len];
    let name_start = trimmed.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
    Split { dir: &path[..name_start], name: &trimmed[name_start..], trailing_slash: trimmed_len < path.len() }
}

#[cfg(test)]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;

    #[test]
    fn limits() {
        assert_eq!(check(b""), Err(ENOENT));
        assert_eq!(check(&vec![b'a'; MAX_PATH]), Ok(()));
        assert_eq!(check(&vec![b'a'; MAX_PATH + 1]), Err(ENAMETOOLONG));
        assert_eq!(check_name(&[b'x'; MAX_NAME]), Ok(()));
        assert_eq!(check_name(&[b'x'; MAX_NAME + 1]), Err(ENAMETOOLONG));
    }

    #[test]
    fn components_skip_empty_ones() {
        let parts: Vec<&[u8]> = components(b"//a/./b//c/").collect();
        assert_eq!(parts, [&b"a"[..], b".", b"b", b"c"]);
        assert_eq!(components(b"///").count(), 0);
    }

    #[test]
    fn splits_the_last_component() {
        let split = |p: &'static [u8]| split_last(p);
        assert_eq!(split(b"a"), Split { dir: b"", name: b"a", trailing_slash: false });
        assert_eq!(split(b"/a"), Split { dir: b"/", name: b"a", trailing_slash: false });
        assert_eq!(split(b"a/b//"), Split { dir: b"a/", name: b"b", trailing_slash: true });
        assert_eq!(split(b"x//y"), Split { dir: b"x//", name: b"y", trailing_slash: false });
        assert_eq!(split(b"//"), Split { dir: b"//", name: b"", trailing_slash: false });
        assert_eq!(split(b"a/.."), Split { dir: b"a/", name: b"..", trailing_slash: false });
        assert!(is_special(split(b"/").name) && is_special(b".") && !is_special(b"..."));
        assert!(is_absolute(b"/x") && !is_absolute(b"x"));
        assert!(has_trailing_slash(b"x/") && !has_trailing_slash(b"x"));
    }
}

//! Identity system calls: reading and changing the user and group ids and
//! the supplementary groups (`creds.rs` has the rules).

use alloc::sync::Arc;
use alloc::vec::Vec;

use abi::errno::{EINVAL, ENOMEM, EPERM};
use abi::flags::cred::NGROUPS_MAX;
use fs::KResult;

use super::Ctx;
use super::table::syscalls;
use crate::creds::{Creds, Ids};
use crate::uaccess;

syscalls! {
    GETUID => |c| Ok(u64::from(c.process.creds().uid.real)),
    GETEUID => |c| Ok(u64::from(c.process.creds().uid.effective)),
    GETGID => |c| Ok(u64::from(c.process.creds().gid.real)),
    GETEGID => |c| Ok(u64::from(c.process.creds().gid.effective)),
    GETRESUID => |c| getres(c, c.process.creds().uid),
    GETRESGID => |c| getres(c, c.process.creds().gid),
    SETUID => |c| change(c, |creds| creds.uid.set(c.arg(0) as u32, creds.privileged())),
    SETGID => |c| change(c, |creds| creds.gid.set(c.arg(0) as u32, creds.privileged())),
    SETREUID => |c| change(c, |creds| creds.uid.set_re(c.arg(0) as u32, c.arg(1) as u32, creds.privileged())),
    SETREGID => |c| change(c, |creds| creds.gid.set_re(c.arg(0) as u32, c.arg(1) as u32, creds.privileged())),
    SETRESUID => |c| change(c, |creds| {
        creds.uid.set_res(c.arg(0) as u32, c.arg(1) as u32, c.arg(2) as u32, creds.privileged())
    }),
    SETRESGID => |c| change(c, |creds| {
        creds.gid.set_res(c.arg(0) as u32, c.arg(1) as u32, c.arg(2) as u32, creds.privileged())
    }),
    SETFSUID => |c| Ok(u64::from(c.process.change_creds(|creds| creds.uid.set_fs(c.arg(0) as u32, creds.privileged())))),
    SETFSGID => |c| Ok(u64::from(c.process.change_creds(|creds| creds.gid.set_fs(c.arg(0) as u32, creds.privileged())))),
    GETGROUPS => getgroups,
    SETGROUPS => setgroups,
}

/// Changes the caller's credentials with `change`, which fails without
/// changing anything.
fn change(ctx: &Ctx<'_>, change: impl FnOnce(&mut Creds) -> KResult<()>) -> KResult<u64> {
    ctx.process.change_creds(change).map(|()| 0)
}

/// `getresuid`/`getresgid`: the real, effective and saved ids, to the
/// three pointer arguments.
fn getres(ctx: &Ctx<'_>, ids: Ids) -> KResult<u64> {
    for (i, id) in [ids.real, ids.effective, ids.saved].into_iter().enumerate() {
        uaccess::write_value(ctx.process, ctx.arg(i), &id)?;
    }
    Ok(0)
}

/// Group ids copied to or from user memory per step.
const GROUPS_PER_STEP: usize = 64;

/// `getgroups(size, list)`: the count with `size` 0, else the groups
/// (`EINVAL` if `size` is negative or too small).
fn getgroups(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let size = usize::try_from(ctx.int(0)).map_err(|_| EINVAL)?;
    let groups = ctx.process.creds().groups;
    if size == 0 {
        return Ok(groups.len() as u64);
    }
    if size < groups.len() {
        return Err(EINVAL);
    }
    let mut addr = ctx.arg(1);
    for chunk in groups.chunks(GROUPS_PER_STEP) {
        let mut bytes = [0u8; GROUPS_PER_STEP * 4];
        for (slot, gid) in bytes.chunks_exact_mut(4).zip(chunk) {
            slot.copy_from_slice(&gid.to_le_bytes());
        }
        uaccess::write(ctx.process, addr, &bytes[..chunk.len() * 4])?;
        addr = addr.checked_add(bytes.len() as u64).ok_or(abi::errno::EFAULT)?;
    }
    Ok(groups.len() as u64)
}

/// `setgroups(size, list)`: privileged only (`EPERM`), at most
/// `NGROUPS_MAX` groups (`EINVAL`); kept sorted.
fn setgroups(ctx: &mut Ctx<'_>) -> KResult<u64> {
    if !ctx.process.creds().privileged() {
        return Err(EPERM);
    }
    let count = ctx.arg(0) as u32;
    if count > NGROUPS_MAX {
        return Err(EINVAL);
    }
    let mut groups: Vec<u32> = Vec::new();
    groups.try_reserve_exact(count as usize).map_err(|_| ENOMEM)?;
    let mut addr = ctx.arg(1);
    while groups.len() < count as usize {
        let n = (count as usize - groups.len()).min(GROUPS_PER_STEP);
        let mut bytes = [0u8; GROUPS_PER_STEP * 4];
        uaccess::read(ctx.process, addr, &mut bytes[..n * 4])?;
        groups.extend(bytes[..n * 4].chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])));
        addr = addr.checked_add(n as u64 * 4).ok_or(abi::errno::EFAULT)?;
    }
    groups.sort_unstable();
    // The buffer was reserved fallibly above; the `Arc` only adds its counts.
    let groups = Arc::new(groups);
    // Another thread may have given up the privilege meanwhile.
    let old = ctx.process.change_creds(|creds| match creds.privileged() {
        true => Ok(core::mem::replace(&mut creds.groups, groups)),
        false => Err(EPERM),
    })?;
    drop(old);
    Ok(0)
}

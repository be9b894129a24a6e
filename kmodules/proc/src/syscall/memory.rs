//! Memory system calls: the break and anonymous mappings.

use abi::errno::{EINVAL, ENODEV, ENOMEM};
use abi::flags::mman::{
    MAP_ANONYMOUS, MAP_DENYWRITE, MAP_EXECUTABLE, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_NORESERVE,
    MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_STACK,
};
use abi::flags::rlimit::RLIMIT_AS;
use fs::KResult;
use vm::{Prot, Vm};

use super::Ctx;
use super::table::syscalls;

/// Flags accepted and ignored (hints).
const MAP_HINTS: u32 = MAP_NORESERVE | MAP_POPULATE | MAP_STACK | MAP_GROWSDOWN | MAP_DENYWRITE | MAP_EXECUTABLE;

syscalls! {
    BRK => brk,
    MMAP => mmap,
    MUNMAP => |c| with_vm(c, |vm| vm.munmap(c.arg(0), c.arg(1)).map(|()| 0)),
    MPROTECT => |c| with_vm(c, |vm| vm.mprotect(c.arg(0), c.arg(1), Prot::from_bits(c.arg(2) as u32)).map(|()| 0)),
    MADVISE => |_| Ok(0),
}

/// Calls `f` with the caller's address space (`ENOMEM` once it is gone).
fn with_vm(ctx: &Ctx<'_>, f: impl FnOnce(&mut Vm) -> KResult<u64>) -> KResult<u64> {
    let mut vm = ctx.process.vm.lock();
    f(vm.as_mut().ok_or(ENOMEM)?)
}

/// `brk`: the break moves unless that passes `RLIMIT_AS` (or the VM
/// refuses); the result is the break either way.
fn brk(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let limit = ctx.process.limit(RLIMIT_AS);
    with_vm(ctx, |vm| {
        let (current, wanted) = (vm.current_brk(), ctx.arg(0));
        if wanted > current && vm.mapped_bytes().saturating_add(wanted - current) > limit {
            return Ok(current);
        }
        Ok(vm.brk(wanted))
    })
}

fn mmap(ctx: &mut Ctx<'_>) -> KResult<u64> {
    let (addr, len, prot, flags) = (ctx.arg(0), ctx.arg(1), ctx.arg(2) as u32, ctx.arg(3) as u32);
    if flags & MAP_ANONYMOUS == 0 {
        // File mappings are not implemented; a bad descriptor is still
        // EBADF first, as on Linux.
        ctx.process.file(ctx.int(4))?;
        return Err(ENODEV);
    }
    let sharing = flags & (MAP_SHARED | MAP_PRIVATE);
    if sharing == 0 || sharing == (MAP_SHARED | MAP_PRIVATE) || prot & !7 != 0 {
        return Err(EINVAL);
    }
    if flags & !(MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_HINTS) != 0 {
        return Err(EINVAL);
    }
    if sharing == MAP_SHARED {
        // Shared memory needs shared frames, which the VM does not have
        // yet: refuse rather than hand out private pages.
        return Err(EINVAL);
    }
    let fixed = flags & MAP_FIXED != 0;
    let limit = ctx.process.limit(RLIMIT_AS);
    with_vm(ctx, |vm| {
        if vm.mapped_bytes().saturating_add(len) > limit {
            return Err(ENOMEM);
        }
        if flags & MAP_FIXED_NOREPLACE != 0 && !fixed {
            // Exactly there, or EEXIST: try without replacing.
            let at = vm.mmap_anonymous(addr, len, Prot::from_bits(prot), false)?;
            if at != addr {
                vm.munmap(at, len)?;
                return Err(abi::errno::EEXIST);
            }
            return Ok(at);
        }
        vm.mmap_anonymous(addr, len, Prot::from_bits(prot), fixed)
    })
}

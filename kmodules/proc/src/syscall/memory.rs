//! Memory system calls: the break and anonymous mappings.

use abi::errno::{EINVAL, ENODEV, ENOMEM};
use abi::flags::mman::{
    MAP_ANONYMOUS, MAP_DENYWRITE, MAP_EXECUTABLE, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_NORESERVE,
    MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_STACK,
};
use abi::nr;
use fs::KResult;
use vm::{Prot, Vm};

use super::Ctx;

/// Flags accepted and ignored (hints).
const MAP_HINTS: u32 = MAP_NORESERVE | MAP_POPULATE | MAP_STACK | MAP_GROWSDOWN | MAP_DENYWRITE | MAP_EXECUTABLE;

pub(super) fn dispatch(ctx: &mut Ctx<'_>, number: u64) -> KResult<u64> {
    let mut vm = ctx.process.vm.lock();
    let vm: &mut Vm = vm.as_mut().ok_or(ENOMEM)?;
    match number {
        nr::BRK => Ok(vm.brk(ctx.arg(0))),
        nr::MMAP => {
            let (addr, len, prot, flags) = (ctx.arg(0), ctx.arg(1), ctx.arg(2) as u32, ctx.arg(3) as u32);
            if flags & MAP_ANONYMOUS == 0 {
                // File mappings are not implemented; a bad descriptor is
                // still EBADF first, as on Linux.
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
                // Shared memory needs shared frames, which the VM does not
                // have yet: refuse rather than hand out private pages.
                return Err(EINVAL);
            }
            let fixed = flags & MAP_FIXED != 0;
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
        }
        nr::MUNMAP => vm.munmap(ctx.arg(0), ctx.arg(1)).map(|()| 0),
        nr::MPROTECT => vm.mprotect(ctx.arg(0), ctx.arg(1), Prot::from_bits(ctx.arg(2) as u32)).map(|()| 0),
        nr::MADVISE => Ok(0),
        _ => unreachable!("routed here by the table"),
    }
}

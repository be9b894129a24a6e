//! The argument and environment strings of a new program: copied from
//! user memory (or given by the kernel, for init) into an object of the
//! process's heap, a piece at a time, where the loader rewrites them for a
//! `#!` interpreter and builds the initial stack from them.

use alloc::vec::Vec;
use core::cell::RefCell;

use abi::errno::{E2BIG, EFAULT, ENAMETOOLONG, ENOMEM};
use fs::KResult;
use runtime::heap::{Handle, Heap, Rootable, Static};

use crate::process::Process;
use crate::uaccess;

/// Most bytes of arguments and environment for `execve` (strings with
/// their NULs, and a pointer each).
pub const ARG_MAX: usize = 128 << 10;

/// The strings (without NULs).
#[derive(Default)]
pub struct Strings {
    /// `argv`.
    pub argv: Vec<Vec<u8>>,
    /// `envp`.
    pub envp: Vec<Vec<u8>>,
}

type StringsRoot = Rootable![Static<RefCell<Strings>>];

/// Which list a string goes to.
#[derive(Clone, Copy)]
enum List {
    Argv,
    Envp,
}

impl Strings {
    fn list(&mut self, list: List) -> &mut Vec<Vec<u8>> {
        match list {
            List::Argv => &mut self.argv,
            List::Envp => &mut self.envp,
        }
    }

    /// Bytes they take against [`ARG_MAX`].
    fn size(&self) -> usize {
        self.argv.iter().chain(&self.envp).map(|s| s.len() + 1 + 8).sum()
    }
}

/// A handle to the strings in the process's heap.
pub struct ExecArgs(Handle<StringsRoot>);

impl ExecArgs {
    fn new(heap: &Heap) -> KResult<Self> {
        let strings =
            heap.try_mutate(|s| Ok(s.stash::<StringsRoot>(s.alloc(Static(RefCell::new(Strings::default())))?)));
        strings.map(ExecArgs).map_err(|_| ENOMEM)
    }

    /// The kernel's strings (init's), in `heap`.
    pub fn from_kernel(heap: &Heap, argv: &[&[u8]], envp: &[&[u8]]) -> KResult<Self> {
        let args = Self::new(heap)?;
        args.0.with(|s, strings| {
            let bytes = argv.iter().chain(envp).map(|a| a.len() as u64 + 32).sum();
            s.reserve(bytes).map_err(|_| ENOMEM)?;
            let mut strings = strings.0.borrow_mut();
            strings.argv = argv.iter().map(|a| a.to_vec()).collect();
            strings.envp = envp.iter().map(|e| e.to_vec()).collect();
            Ok(())
        })?;
        Ok(args)
    }

    /// Copies the NULL-terminated string arrays at `argv` and `envp` (a
    /// null array is empty) from `process`'s memory into `heap`; `E2BIG`
    /// past [`ARG_MAX`] bytes in all.
    pub fn read(heap: &Heap, process: &Process, argv: u64, envp: u64) -> KResult<Self> {
        let args = Self::new(heap)?;
        args.read_array(process, argv, List::Argv)?;
        args.read_array(process, envp, List::Envp)?;
        Ok(args)
    }

    fn read_array(&self, process: &Process, addr: u64, list: List) -> KResult<()> {
        if addr == 0 {
            return Ok(());
        }
        let mut total = self.with(|strings| strings.size());
        for index in 0u64.. {
            let at = index.checked_mul(8).and_then(|offset| addr.checked_add(offset)).ok_or(EFAULT)?;
            let pointer: u64 = uaccess::read_value(process, at)?;
            if pointer == 0 {
                return Ok(());
            }
            total += 1 + 8;
            self.append(list, None)?;
            let room = ARG_MAX.checked_sub(total).ok_or(E2BIG)?;
            let len = uaccess::read_cstring_pieces(process, pointer, room + 1, |piece| self.append(list, Some(piece)))
                .map_err(|e| if e == ENAMETOOLONG { E2BIG } else { e })?;
            total += len;
        }
        Ok(())
    }

    /// Starts a new string in `list` (`None`), or appends `piece` to the
    /// last one.
    fn append(&self, list: List, piece: Option<&[u8]>) -> KResult<()> {
        self.0.with(|s, strings| {
            s.reserve(piece.map_or(32, |p| p.len() as u64)).map_err(|_| ENOMEM)?;
            let mut strings = strings.0.borrow_mut();
            let list = strings.list(list);
            match piece {
                None => list.push(Vec::new()),
                Some(piece) => list.last_mut().ok_or(EFAULT)?.extend_from_slice(piece),
            }
            Ok(())
        })
    }

    /// Runs `f` on the strings, in a scope of their heap (`f` must not
    /// block or open another scope).
    pub fn with<T>(&self, f: impl FnOnce(&mut Strings) -> T) -> T {
        self.0.with(|_, strings| f(&mut strings.0.borrow_mut()))
    }
}

//! Kernel buffers that system calls copy user data through (a file's
//! `read` fills one, then it is copied to user memory): at most
//! [`STACK_BUFFER`] bytes on the stack, larger ones from a small pool,
//! filled at boot with [`PRIMED`] buffers of the largest transfer, so a
//! `read` or `write` allocates nothing unless more than that many run at
//! once. The pooled buffers are plain kernel heap memory (data, not
//! kernel objects: docs/gc.md lists them), taken and returned around one
//! transfer; a buffer's old contents are never shown, since callers copy
//! out only what the file wrote.

use alloc::vec;
use alloc::vec::Vec;
use runtime::sync::SpinLock;

/// Transfers of at most this many bytes go through a buffer on the stack
/// (most `read`s and `write`s of a pipe or terminal).
const STACK_BUFFER: usize = 256;
/// Smallest pooled buffer.
const MIN_POOLED: usize = 4096;
/// Buffers the pool keeps; more are freed when they come back.
const POOLED: usize = 8;

/// Largest buffer (the system calls' chunk).
pub const LARGEST: usize = 64 << 10;
/// Buffers of [`LARGEST`] bytes the pool starts with.
const PRIMED: usize = 4;

static POOL: SpinLock<Vec<Vec<u8>>> = SpinLock::new(Vec::new());

/// Fills the pool (at boot).
pub fn prime() {
    let buffers: Vec<Vec<u8>> = (0..PRIMED).map(|_| vec![0u8; LARGEST]).collect();
    let mut pool = POOL.lock();
    pool.reserve_exact(POOLED);
    pool.extend(buffers);
}

/// Runs `f` with a kernel buffer of `len` bytes (at most [`LARGEST`]).
pub fn with<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    if len <= STACK_BUFFER {
        return f(&mut [0u8; STACK_BUFFER][..len]);
    }
    let mut buffer = take(len);
    let result = f(&mut buffer[..len]);
    give_back(buffer);
    result
}

/// A pooled buffer of at least `len` bytes (the smallest that fits), or a
/// new one.
fn take(len: usize) -> Vec<u8> {
    let mut pool = POOL.lock();
    let fitting = pool.iter().enumerate().filter(|(_, b)| b.len() >= len).min_by_key(|(_, b)| b.len()).map(|(i, _)| i);
    match fitting {
        Some(index) => pool.swap_remove(index),
        None => {
            drop(pool);
            vec![0u8; len.next_power_of_two().max(MIN_POOLED)]
        }
    }
}

/// Returns `buffer` to the pool; when the pool is full, the smallest
/// buffer (this one or a pooled one) is freed instead.
fn give_back(buffer: Vec<u8>) {
    let mut pool = POOL.lock();
    if pool.len() < POOLED {
        pool.push(buffer);
        return;
    }
    let smallest = pool.iter().enumerate().min_by_key(|(_, b)| b.len()).map(|(i, b)| (i, b.len()));
    let freed = match smallest {
        Some((index, len)) if len < buffer.len() => core::mem::replace(&mut pool[index], buffer),
        _ => buffer,
    };
    drop(pool);
    drop(freed);
}

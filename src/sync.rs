//! The one place the crate takes its concurrency primitives from.
//!
//! Built normally, this re-exports `std`'s atomics, `Arc` and thread parking, and
//! an `UnsafeCell` with the closure-based API that loom's has. Built with
//! `RUSTFLAGS="--cfg stoptoken_loom"`, it re-exports loom's instead, so the model tests in
//! `tests/loom_*.rs` explore every interleaving of the real code. Nothing else in the
//! crate imports `std::sync::atomic` or `std::thread` parking directly.
//!
//! loom has no timed park: under loom, `park_timeout` is an untimed `park` (a
//! timeout that never fires), so a model of a timed wait must end by an unpark.

#[cfg(stoptoken_loom)]
pub(crate) use loom::{
    cell::UnsafeCell,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Condvar, Mutex, MutexGuard,
    },
    thread::{current, park, Thread},
};

/// loom models no clock: a timed park is modelled as an untimed one, which
/// `unpark` (or a spurious wake-up, which loom does not produce) ends.
#[cfg(stoptoken_loom)]
pub(crate) fn park_timeout(_timeout: std::time::Duration) {
    loom::thread::park();
}

#[cfg(not(stoptoken_loom))]
pub(crate) use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Condvar, Mutex, MutexGuard,
    },
    thread::{current, park, park_timeout, Thread},
};

/// `std::cell::UnsafeCell` behind the access API of `loom::cell::UnsafeCell`.
#[cfg(not(stoptoken_loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(stoptoken_loom))]
impl<T> UnsafeCell<T> {
    #[inline]
    pub(crate) const fn new(value: T) -> Self {
        Self(std::cell::UnsafeCell::new(value))
    }

    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    #[inline]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Tells apart the threads that are alive at the same moment.
///
/// Used to see whether a callback that is running right now runs on the calling
/// thread. Two live threads never have the same key; a key may be reused after its
/// thread has exited, which is harmless because the key is only compared while the
/// requesting thread is inside `request_stop`.
#[cfg(not(stoptoken_loom))]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct ThreadKey(core::num::NonZeroUsize);

#[cfg(not(stoptoken_loom))]
impl ThreadKey {
    /// The key of the calling thread: the address of a thread-local byte, which is
    /// cheaper than `std::thread::current().id()` (no reference count traffic).
    #[inline]
    pub(crate) fn current() -> Self {
        std::thread_local!(static KEY: u8 = const { 0 });
        let address = KEY.with(|key| key as *const u8 as usize);
        // A thread-local's address is never 0 (`MIN` is never reached).
        ThreadKey(core::num::NonZeroUsize::new(address).unwrap_or(core::num::NonZeroUsize::MIN))
    }
}

#[cfg(stoptoken_loom)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct ThreadKey(loom::thread::ThreadId);

#[cfg(stoptoken_loom)]
impl ThreadKey {
    pub(crate) fn current() -> Self {
        ThreadKey(loom::thread::current().id())
    }
}

/// One step of a spin-wait on a lock that is only ever held for a few pointer
/// writes: 1, 2, then 4 pause hints (a holder that runs is done by then), then
/// a yield to the scheduler at each further miss, so that a holder that was
/// preempted can run. Measured on 2 cores with other processes running
/// (`bench` bin `contend`): yielding after 63 pauses instead tripled the
/// contended registration's cost. libstdc++ yields at every miss, which was
/// seen to collapse with a third busy process on a 2-core machine (issue 13).
#[cfg(not(stoptoken_loom))]
#[inline]
pub(crate) fn spin_wait(spins: &mut u32) {
    if *spins < 3 {
        for _ in 0..(1u32 << *spins) {
            std::hint::spin_loop();
        }
        *spins += 1;
    } else {
        std::thread::yield_now();
    }
}

#[cfg(stoptoken_loom)]
pub(crate) fn spin_wait(_spins: &mut u32) {
    loom::thread::yield_now();
}

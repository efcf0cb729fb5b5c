//! The stop state: the one module of the crate that holds `unsafe` code.
//!
//! # Protocol
//!
//! A [`StopState`] has three parts:
//!
//! - `flags` (`AtomicUsize`):
//!   - bit 0: a stop was requested; set once, under the lock, by the request
//!     whose caller gets `true`; never cleared.
//!   - bit 1: a thread blocked in [`StopState::wait`] (sticky). The drop of the
//!     last source, when it leaves no stop possible, then wakes the waiters.
//!   - bits 2..: the number of live `StopSource`s (an inplace state keeps 1).
//!
//!   `stop_requested()` is one `Acquire` load of bit 0; `stop_possible()` is
//!   "bit 0 or a source" (a stop was requested, or a source remains).
//! - `reason`: written once by the first request, before it sets bit 0, and
//!   read without the lock by anyone who has seen bit 0 set.
//! - `lock` (`AtomicBool`): a spin lock over `list`, held only for a few pointer
//!   writes and never while a user callback runs, so nobody waits on it for long.
//!   (The one thing run under it: when the last source goes without a stop,
//!   the `wait()` nodes are unparked, one `Thread::unpark` each.)
//! - `list` (guarded by `lock`): an intrusive doubly linked list of callback nodes,
//!   the node whose callback runs now (`running`), the thread that runs it
//!   (`requester`), and at most one `waiter`.
//!
//! A node's `status` (guarded by `lock`) moves
//! `Idle -> Linked -> Running -> Done`, or `Linked -> Idle` when its owner drops it
//! before it ran. Transitions:
//!
//! - register: lock; if bit 0 is set, unlock and run the callback on this thread;
//!   if no source remains (and no stop) unlock and keep it idle forever;
//!   otherwise link it (`Linked`) and unlock.
//! - request: lock; if bit 0 is already set, unlock and return `false`;
//!   otherwise write the reason, set bit 0 (Release), pop the first node, mark it
//!   `Running`, set `running` and `requester`, unlock, and run it. Then repeat:
//!   lock; mark the node that just returned `Done` (unless its owner dropped it
//!   meanwhile on this thread) and take the waiter, if any; pop the next node,
//!   mark it `Running`, set `running`; unlock; wake the waiter; run the callback
//!   (catching a panic). One lock round trip per callback, and no system call
//!   unless a waiter is there to wake. Bit 0 is only set under the lock, so the
//!   lock picks the first request, and the reason is in place before any thread
//!   can see bit 0.
//! - deregister: lock; `Idle`/`Done`: nothing to do. `Linked`: unlink, back to
//!   `Idle`. `Running` on this very thread (the callback drops its own
//!   registration): set `running = None`, which tells the requester the node is
//!   gone, and return at once. `Running` on another thread: unlock, then lock
//!   again to leave a `Waiter` on the stack (if the node is still `Running`) and
//!   park until the requester marks the node `Done` and wakes it.
//!
//! Why a registration made concurrently with a request is never lost: the
//! requester sets bit 0 while holding the lock, and a registrant reads bit 0
//! while holding the lock. Either the registrant locked first, and the
//! requester finds the node in the list, or the requester's unlock (Release) is
//! seen by the registrant's lock (Acquire), and so is bit 0.
//!
//! Why a callback never runs after its `drop` returned: the requester only runs
//! nodes it popped under the lock, and `deregister` either unlinks the node under
//! that lock first, or finds it `Running` and waits for `Done`.

mod node;
mod parker;
mod registration;
mod shared;
mod waker;

use core::panic::AssertUnwindSafe;
use core::ptr::NonNull;
use std::panic::{catch_unwind, resume_unwind};

use crate::sync::{spin_wait, AtomicBool, AtomicUsize, Ordering, ThreadKey, UnsafeCell};
use crate::StopReason;
use node::{List, Node, Status, Waiter};

pub(crate) use parker::wait_on;
pub use registration::PinnedCallback;
pub(crate) use registration::{with_scoped_callback, Exclusive, StateRef};
pub(crate) use shared::{same_state, Shared};
pub use waker::StopFuture;

/// Bit 0 of `flags`: a stop was requested.
const STOP: usize = 1;
/// Bit 1 of `flags`: a thread has blocked in [`StopState::wait`] (set for
/// good), so the last source's drop must wake the waiters, which no stop will.
const PARKED: usize = 2;
/// One source in the count held by bits 2.. of `flags`.
const SOURCE: usize = 4;

/// Whether `flags` still allow a stop: one was requested, or a source remains.
#[inline]
fn possible(flags: usize) -> bool {
    flags & !PARKED != 0
}
/// Above this many sources the count could overflow; abort like `Arc` does.
const MAX_FLAGS: usize = isize::MAX as usize;

/// What became of a registration attempt.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Registered {
    /// Linked: it runs on the stop request, unless deregistered first.
    Linked,
    /// A stop was already requested: the caller runs the callback itself, now.
    Stopped,
    /// No stop can ever come (no source remains): nothing was linked.
    Impossible,
}

/// The stop flag, source count and callback list of one stop state.
///
/// Invariant: every node in `list` is valid and pinned until it is unlinked or
/// marked `Done` (its owner's `Drop` calls [`StopState::deregister`]).
pub struct StopState {
    flags: AtomicUsize,
    lock: AtomicBool,
    list: UnsafeCell<List>,
    /// Written once, by the first request, before it sets bit 0; read only
    /// after bit 0 is seen set.
    reason: UnsafeCell<Option<StopReason>>,
}

// SAFETY: `list` and the nodes it points to are only touched under `lock`; the
// nodes' callbacks are `Send` (checked where they are registered). `reason` is
// written once under `lock` before bit 0 is published and then only read (as
// `&StopReason`, from any thread) or dropped with the state, which is sound
// because `StopReason` is `Send + Sync`.
unsafe impl Send for StopState {}
// SAFETY: as for `Send`: all shared access to `list` goes through `lock`.
unsafe impl Sync for StopState {}

// A panic inside a callback leaves the state consistent (the requester catches
// it, finishes the list, then resumes it), so handles may cross `catch_unwind`.
impl std::panic::RefUnwindSafe for StopState {}
impl std::panic::UnwindSafe for StopState {}

impl StopState {
    /// A state with `sources` live sources and no stop requested.
    #[cfg(not(stoptoken_loom))]
    pub(crate) const fn new(sources: usize) -> Self {
        StopState {
            flags: AtomicUsize::new(sources * SOURCE),
            lock: AtomicBool::new(false),
            list: UnsafeCell::new(List::new()),
            reason: UnsafeCell::new(None),
        }
    }

    /// A state with `sources` live sources and no stop requested.
    #[cfg(stoptoken_loom)]
    pub(crate) fn new(sources: usize) -> Self {
        StopState {
            flags: AtomicUsize::new(sources * SOURCE),
            lock: AtomicBool::new(false),
            list: UnsafeCell::new(List::new()),
            reason: UnsafeCell::new(None),
        }
    }

    #[inline]
    pub(crate) fn stop_requested(&self) -> bool {
        // Acquire: pairs with the Release half of the `fetch_or` in
        // `request_stop`, so what the requester did before is visible here.
        self.flags.load(Ordering::Acquire) & STOP != 0
    }

    #[inline]
    pub(crate) fn stop_possible(&self) -> bool {
        // Acquire: as in `stop_requested`, for the case where bit 0 is what we see.
        possible(self.flags.load(Ordering::Acquire))
    }

    /// Counts one more source.
    #[inline]
    pub(crate) fn add_source(&self) {
        // Relaxed: the caller holds a source, so the count cannot reach 0
        // meanwhile, and nothing is published by the increment (as `Arc::clone`).
        let old = self.flags.fetch_add(SOURCE, Ordering::Relaxed);
        if old > MAX_FLAGS {
            std::process::abort();
        }
    }

    /// Counts one source less; `true` if it was the last one. When that leaves
    /// no stop possible, threads blocked in [`StopState::wait`] are woken.
    #[inline]
    pub(crate) fn remove_source(&self) -> bool {
        // AcqRel: orders the last source's teardown of an attachment after the
        // other sources' decrements, as in `Arc`'s drop (pairs with itself), and
        // acquires the `PARKED` bit from the waiter's `fetch_or` (Release) in
        // `wait`, so the waiter's node is linked before we look for it. Being
        // read-modify-writes of one word, the two are ordered one way or the
        // other: a waiter either is seen here or sees the count at 0.
        let old = self.flags.fetch_sub(SOURCE, Ordering::AcqRel);
        if old == SOURCE | PARKED {
            self.wake_abandoned();
        }
        old & !(STOP | PARKED) == SOURCE
    }

    #[cold]
    fn wake_abandoned(&self) {
        // SAFETY: we hold the lock.
        self.with_list(|list| unsafe { list.wake_abandoned() });
    }

    /// Makes the stop request with [`StopReason::Requested`]; see
    /// [`StopState::request_stop_with`].
    #[inline]
    pub(crate) fn request_stop(&self) -> bool {
        self.request(StopReason::Requested, false)
    }

    /// Makes the stop request with `reason`; `true` only for the call that made
    /// the first one, which then runs every linked callback before it returns.
    /// A losing call drops its `reason` outside the lock.
    ///
    /// # Panics
    /// After all callbacks have run, resumes the first panic raised by one of them.
    #[inline]
    pub(crate) fn request_stop_with(&self, reason: StopReason) -> bool {
        self.request(reason, false)
    }

    /// Like [`StopState::request_stop_with`], but only while a stop is still
    /// possible: a state whose sources are all gone without a stop stays
    /// unstopped for ever (`stop_possible()` never turns back to `true`). Used by
    /// links (`child_of`, `any_of`) and deadlines, which may still fire while
    /// the last source of their target is being dropped.
    pub(crate) fn request_stop_if_possible(&self, reason: StopReason) -> bool {
        self.request(reason, true)
    }

    /// The reason of the first stop request, once `stop_requested()` is true.
    #[inline]
    pub(crate) fn stop_reason(&self) -> Option<&StopReason> {
        // Acquire: pairs with the Release that set bit 0 in `request`, after
        // the reason was written.
        if self.flags.load(Ordering::Acquire) & STOP == 0 {
            return None;
        }
        // SAFETY: the reason was written before bit 0 was set (Release, seen by
        // the Acquire load above) and is never written again: only the one
        // request that sets bit 0 writes it.
        self.reason.with(|slot| unsafe { (*slot).as_ref() })
    }

    fn request(&self, reason: StopReason, only_if_possible: bool) -> bool {
        // Relaxed: only a shortcut to `false`; nothing is read on its strength.
        if self.flags.load(Ordering::Relaxed) & STOP != 0 {
            return false;
        }
        let me = ThreadKey::current();
        // Bit 0 is only ever set inside this critical section, so the lock
        // decides which request is the first, and the reason can be written
        // before bit 0 with no reader seeing it half-written.
        let first = self.with_list(|list| {
            // Relaxed: bit 0 cannot change under the lock; the count is only
            // a precondition, re-checked by the update below.
            if self.flags.load(Ordering::Relaxed) & STOP != 0 {
                return Err(reason);
            }
            // Bit 0 is clear and we hold the lock: no request writes the slot
            // concurrently, no reader reads it (only after seeing bit 0), and
            // it is `None` (only the request that sets bit 0 fills it).
            // SAFETY: as just said; nothing is overwritten without a drop.
            self.reason
                .with_mut(|slot| unsafe { slot.write(Some(reason)) });
            // Release: publishes the reason (and everything this thread did
            // before) to the Acquire loads that see bit 0.
            if !only_if_possible {
                self.flags.fetch_or(STOP, Ordering::Release);
            } else if !self.set_stop_if_possible() {
                // SAFETY: as above: bit 0 was not set, nobody reads the slot.
                let reason = self.reason.with_mut(|slot| unsafe { (*slot).take() });
                return Err(reason.unwrap_or_default());
            }
            list.requester = Some(me);
            // SAFETY: we hold the lock.
            let next = unsafe { list.pop_running() };
            list.running = next;
            Ok(next)
        });
        match first {
            Ok(next) => {
                self.run_callbacks(next);
                true
            }
            Err(reason) => {
                drop(reason); // outside the lock: a custom reason's drop is user code
                false
            }
        }
    }

    /// Sets bit 0 unless no source remains; `false` if none does. Called with
    /// the lock held (so bit 0 is clear and stays so); the source count may
    /// still drop to 0 meanwhile, hence the loop.
    fn set_stop_if_possible(&self) -> bool {
        // Relaxed: the compare below decides; nothing is read on its strength.
        let mut flags = self.flags.load(Ordering::Relaxed);
        while possible(flags) {
            // Release: publishes the reason (and everything this thread did
            // before) to the Acquire loads that see bit 0. Relaxed on failure:
            // only the new value is read.
            match self.flags.compare_exchange_weak(
                flags,
                flags | STOP,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(current) => flags = current,
            }
        }
        false
    }

    /// Runs `next` and then every node still linked, one lock round trip each.
    fn run_callbacks(&self, mut next: Option<NonNull<Node>>) {
        let mut first_panic = None;
        while let Some(node) = next {
            // SAFETY: the node is `Running`, so its owner cannot free it before
            // `run` starts the callback (a drop on another thread waits for
            // `Done`, one on this thread can only happen inside the callback).
            let run = unsafe { node.as_ref().run };
            // SAFETY: `run` matches the node's registration type (set at its
            // creation) and the node is valid, as above.
            let result = catch_unwind(AssertUnwindSafe(|| unsafe { run(node) }));
            if let Err(payload) = result {
                match first_panic {
                    None => first_panic = Some(payload),
                    Some(_) => drop_payload(payload),
                }
            }
            let waiter;
            (next, waiter) = self.with_list(|list| {
                let mut waiter = None;
                if list.running == Some(node) {
                    // SAFETY: its owner has not dropped it on this thread
                    // (`running` would be `None`), and one on another thread
                    // waits for `Done`, so the node is still valid; lock held.
                    unsafe { node.as_ref().set_status(Status::Done) };
                    waiter = list.waiter.take();
                }
                // SAFETY: we hold the lock.
                let next = unsafe { list.pop_running() };
                list.running = next;
                (next, waiter)
            });
            if let Some(waiter) = waiter {
                // SAFETY: a waiter is only left for the running node, and its
                // thread waits until it is woken, which happens only here, once.
                unsafe { Waiter::wake(waiter) };
            }
        }
        if let Some(payload) = first_panic {
            resume_unwind(payload);
        }
    }

    /// Links `node`, unless a stop was already requested or can never come.
    ///
    /// # Safety
    /// `node` is valid and `Idle`, and if this returns `Linked` it stays valid
    /// and in place until [`StopState::deregister`] has returned for it.
    #[inline]
    pub(crate) unsafe fn register(&self, node: NonNull<Node>) -> Registered {
        // SAFETY: forwarded from the caller.
        unsafe { self.register_with(node, || {}) }
    }

    /// Links `node` if it is `Idle`, keeps it linked if it is `Linked`, and in
    /// both cases first runs `update` with the lock held, so `update` may write
    /// data that the node's `run` reads. Nothing is linked or updated if a stop
    /// was already requested (`Stopped`) or can never come (`Impossible`).
    ///
    /// # Safety
    /// `node` is valid, `Idle` or `Linked` in this state, and if this returns
    /// `Linked` it stays valid and in place until [`StopState::deregister`] has
    /// returned for it.
    pub(crate) unsafe fn register_with(
        &self,
        node: NonNull<Node>,
        update: impl FnOnce(),
    ) -> Registered {
        let quick = self.flags.load(Ordering::Acquire);
        if quick & STOP != 0 {
            return Registered::Stopped;
        }
        if !possible(quick) {
            return Registered::Impossible;
        }
        self.with_list(|list| {
            // Acquire: pairs with `request_stop`'s Release; see the module doc
            // for why reading bit 0 under the lock closes the race.
            let flags = self.flags.load(Ordering::Acquire);
            if flags & STOP != 0 {
                return Registered::Stopped;
            }
            if !possible(flags) {
                return Registered::Impossible;
            }
            // Without a stop request no node is `Running` or `Done`, so the
            // node is `Idle` or `Linked` and the requester is not reading it.
            update();
            // SAFETY: lock held; the caller guarantees the node is valid.
            if unsafe { node.as_ref().links().status } == Status::Idle {
                // SAFETY: lock held; the caller guarantees the node stays valid
                // while linked.
                unsafe { list.push_front(node) };
            }
            Registered::Linked
        })
    }

    /// Makes sure `node`'s callback is not running and will never run: removes
    /// it if it has not started, waits for it if it runs on another thread,
    /// returns at once if it runs on this thread.
    ///
    /// # Safety
    /// `node` was passed to [`StopState::register`] of this state, is valid, and
    /// this is the only `deregister` call for it.
    pub(crate) unsafe fn deregister(&self, node: NonNull<Node>) {
        let must_wait = self.with_list(|list| {
            // SAFETY: the caller guarantees the node is valid; we hold the lock.
            match unsafe { node.as_ref().links().status } {
                Status::Idle | Status::Done => false,
                Status::Linked => {
                    // SAFETY: it is linked in this list; we hold the lock.
                    unsafe { list.unlink(node, Status::Idle) };
                    false
                }
                Status::Running if list.requester == Some(ThreadKey::current()) => {
                    // The callback drops its own registration: the node is
                    // about to go, so the requester must not touch it again.
                    list.running = None;
                    false
                }
                Status::Running => true,
            }
        });
        if must_wait {
            self.wait_until_done(node);
        }
    }

    #[cold]
    fn wait_until_done(&self, node: NonNull<Node>) {
        let waiter = Waiter::new();
        let registered = self.with_list(|list| {
            // SAFETY: the node is valid (see `deregister`); we hold the lock.
            if unsafe { node.as_ref().links().status } == Status::Running {
                list.waiter = Some(NonNull::from(&waiter));
                true
            } else {
                false
            }
        });
        if registered {
            waiter.wait();
        }
    }

    /// Runs `f` on the list with the lock held.
    #[inline]
    fn with_list<R>(&self, f: impl FnOnce(&mut List) -> R) -> R {
        self.lock();
        let _unlock = Unlock(self);
        // SAFETY: the lock is held until `_unlock` drops, so access is exclusive.
        self.list.with_mut(|list| f(unsafe { &mut *list }))
    }

    #[inline]
    fn lock(&self) {
        // Acquire: pairs with the Release store in `unlock`, so the previous
        // holder's list writes are visible.
        if self
            .lock
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
    }

    #[cold]
    fn lock_contended(&self) {
        let mut spins = 0;
        loop {
            // Relaxed: only a hint; the exchange below is what acquires.
            while self.lock.load(Ordering::Relaxed) {
                spin_wait(&mut spins);
            }
            // Acquire: as in `lock`.
            if self
                .lock
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
            spin_wait(&mut spins);
        }
    }
}

/// Drops a panic payload that will not be resumed; a payload whose own `drop`
/// panics is leaked instead, so the requester still finishes the list.
pub(crate) fn drop_payload(payload: Box<dyn std::any::Any + Send>) {
    if let Err(nested) = catch_unwind(AssertUnwindSafe(|| drop(payload))) {
        core::mem::forget(nested);
    }
}

/// Releases the list lock when dropped, also if the critical section unwinds.
struct Unlock<'a>(&'a StopState);

impl Drop for Unlock<'_> {
    #[inline]
    fn drop(&mut self) {
        // Release: pairs with the Acquire exchange in `lock`.
        self.0.lock.store(false, Ordering::Release);
    }
}

#[cfg(all(test, not(stoptoken_loom)))]
impl StopState {
    /// Test probe: how many nodes are linked.
    pub(crate) fn linked_len(&self) -> usize {
        self.with_list(|list| list.len())
    }

    /// Test probe: whether a thread waits in `deregister` for a running callback.
    pub(crate) fn has_waiter(&self) -> bool {
        self.with_list(|list| list.waiter.is_some())
    }
}

#[cfg(all(test, not(stoptoken_loom)))]
mod tests;

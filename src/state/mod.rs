//! The stop state: the one module of the crate that holds `unsafe` code.
//!
//! # Protocol
//!
//! A [`StopState`] has four parts:
//!
//! - `flags` (`AtomicUsize`):
//!   - bit 0 (`STOP`): a stop was requested; set once, by the request (the
//!     *claim*) whose caller gets `true`; never cleared.
//!   - bit 1 (`LINKED`): a node was linked at some point (sticky). Only then
//!     do the stop and the abandonment take the lock to walk the lists: a stop
//!     of a state that never had a callback is one compare-exchange.
//!   - bit 2 (`CLAIM`): a claim with a reason other than `Requested` won and
//!     writes the reason; it turns into bit 0 right after (a losing request
//!     waits those few instructions, so that it returns with the stop
//!     visible; a registration treats it as no stop yet).
//!   - bits 3.. (`STOPPER` each): the *stoppers*, everything that can still
//!     stop the state: its live `StopSource`s, its links whose parent can
//!     still stop, its pending deadline (an inplace state keeps 1 for ever).
//!
//!   `stop_requested()` is one `Acquire` load of bit 0; `stop_possible()` is
//!   "bit 0, `CLAIM` or a stopper". A state whose stoppers reach 0 without a
//!   stop is *abandoned*: it will never stop, and its watchers are told so.
//! - `reason`: written once by a `CLAIM`, before bit 0, and read without the
//!   lock by anyone who has seen bit 0 set; an empty slot reads as
//!   `Requested` (a plain request writes nothing).
//! - `lock` (`AtomicBool`): a spin lock over `list`, held only for a few
//!   pointer writes and never while user code runs.
//! - `list` (guarded by `lock`): two intrusive doubly linked lists, callbacks
//!   (user callbacks and task wakers) and watchers (parked threads and links),
//!   plus the callback node that runs now (`running`), the thread that handles
//!   the state's event (`requester`) and at most one `waiter`.
//!
//! ## Nodes
//!
//! A node's `status` (guarded by `lock`) moves `Idle -> Linked -> Running ->
//! Done` for a callback, `Idle -> Linked -> Done` for a *quick* node (waker,
//! parker, link), or `Linked -> Idle` when its owner drops it before it was
//! handled.
//!
//! - register: lock; if bit 0 is set, unlock and report `Stopped` (the owner
//!   runs its callback itself); if no stopper remains, report `Impossible`;
//!   otherwise link the node (`Linked`) and unlock. The first node's check is
//!   the compare-exchange that sets `LINKED`, so the bit is set before any
//!   node can be seen.
//! - request (the claim, lock-free): a compare-exchange sets bit 0 (or
//!   `CLAIM`, then the reason, then bit 0) unless bit 0 or `CLAIM` is already
//!   set (`false`). If `LINKED` was set, the requester takes the lock, sets
//!   `requester` and handles the lists one node at a time, one lock round
//!   trip each: lock; mark the callback that just returned `Done` (unless its owner
//!   dropped it meanwhile on this thread) and take the waiter; pop the next
//!   node (watchers first): a callback becomes `Running` and is run after the
//!   unlock (a panic is caught); a quick node becomes `Done` and its handler
//!   runs under the lock, taking out what to do after the unlock (wake a
//!   waker, unpark a thread, pass the stop on to a linked state); unlock;
//!   wake the waiter.
//! - deregister: lock; `Idle`/`Done`: nothing to do. `Linked`: unlink, back to
//!   `Idle`. `Running` on this very thread (the callback drops its own
//!   registration): set `running = None`, which tells the requester the node
//!   is gone, and return at once. `Running` on another thread: unlock, then
//!   lock again to leave a `Waiter` on the stack (if the node is still
//!   `Running`) and park until the requester marks the node `Done`. Quick
//!   nodes are never `Running`: dropping a waker, a parker or a link never
//!   waits.
//! - abandonment: the decrement that takes the last stopper away (and sees
//!   `LINKED`) handles the watchers list like a request, with
//!   [`Event::Abandon`]: parked threads are unparked (their wait returns
//!   `false`), links take one stopper from their target. Callbacks stay linked,
//!   never to run.
//!
//! ## Propagation without recursion
//!
//! A link is a quick watcher node that a child state (made by `child_of`,
//! `any_of`, a deadline constructor) keeps in each parent's list. Handled for
//! a stop, it claims the child's stop with the parent's reason; handled for an
//! abandonment, it takes one stopper from the child. Either may leave the
//! child with an event of its own to handle: the child is then pushed on the
//! requester's *worklist*, an intrusive stack threaded through the states
//! themselves (each state has one event at most, so one `next` field), which
//! the outermost request (or abandonment) drains before it returns. The stack
//! depth is one frame whatever the depth of the tree, and nothing is
//! allocated. Dropping handles never recurses either (`shared.rs`).
//!
//! ## Invariants, cited by number in the `SAFETY` comments
//!
//! 1. A node that is `Linked` or `Running` is valid and does not move: its
//!    owner is pinned and deregisters it before it moves or is freed.
//! 2. The lists, every node's links and status, `running`, `requester` and
//!    `waiter` are only touched with the lock held; a `&mut List` (given out
//!    only by [`StopState::with_list`]) is the proof.
//! 3. Bit 0 is set once, by the winning claim; only a `CLAIM` writes the
//!    reason, before bit 0; nothing writes it again.
//! 4. Only the requester marks a `Running` node `Done`; an owner on another
//!    thread waits for that (the `waiter`), an owner on the requester's thread
//!    clears `running` instead, and the requester then leaves the node alone.
//! 5. A quick node's handler runs with the lock held, on a node just marked
//!    `Done`, and runs no user code; the node's owner cannot free it before
//!    the unlock, and never touches it again after.
//! 6. The stoppers never rise from 0: a source is only cloned from a live
//!    one, links and deadlines are counted when the state is made. So a stop
//!    and an abandonment exclude each other, and each happens at most once:
//!    a state is on at most one worklist, once.
//! 7. `LINKED` is set, under the lock and in the same compare-exchange that
//!    checks bit 0 and the stoppers, before the first node is linked.
//!
//! Why a registration made concurrently with a request is never lost: the
//! first registration and the claim are read-modify-writes of one word, so
//! either the registration's compare-exchange comes first (the claim then sees
//! `LINKED` and takes the lock, after the registrant's unlock, and finds the
//! node), or the claim comes first and the registration sees bit 0. A later
//! registration reads bit 0 under the lock: if it read it clear, the claim (which
//! saw `LINKED`) locks after it and finds the node; if the claimer's lock came
//! first, the registrant's lock acquires the claimer's unlock, which follows
//! bit 0. The same holds for a watcher against the abandonment, with the
//! decrement in place of the claim.
//!
//! Why a callback never runs after its `drop` returned: the requester only runs
//! nodes it popped under the lock, and `deregister` either unlinks the node under
//! that lock first, or finds it `Running` and waits for `Done`.

mod link;
mod node;
mod parker;
mod registration;
mod shared;
mod spare;
mod waker;

use core::panic::AssertUnwindSafe;
use core::ptr::NonNull;
use core::task::Waker;
use std::panic::{catch_unwind, resume_unwind};

use crate::sync::{spin_wait, AtomicBool, AtomicUsize, Ordering, Thread, ThreadKey, UnsafeCell};
use crate::StopReason;
use node::{Event, Kind, List, Node, Waiter};

pub(crate) use parker::wait_on;
pub(crate) use registration::{with_scoped_callback, Exclusive};
pub use registration::{CallbackToken, PinnedCallback};
pub(crate) use shared::{same_state, Shared, SharedRef, SharedWeak, TimerHook};
pub(crate) use spare::SpareBox;
pub use waker::StopFuture;

/// Bit 0 of `flags`: a stop was requested.
const STOP: usize = 1;
/// Bit 1 of `flags`: a node was linked at some point (set for good), so the
/// stop and the abandonment must take the lock and walk the lists.
const LINKED: usize = 2;
/// Bit 2 of `flags`: a request with a reason other than `Requested` won and is
/// writing its reason; bit 0 follows at once.
const CLAIM: usize = 4;
/// One stopper in the count held by bits 3.. of `flags`.
const STOPPER: usize = 8;

/// Whether `flags` still allow a stop: one was requested (or is being made),
/// or a stopper remains.
#[inline]
fn possible(flags: usize) -> bool {
    flags & !LINKED != 0
}

/// What a registration against `flags` becomes: `Stopped` once bit 0 is set
/// (a `CLAIM` without it is no stop yet), `Linked` while a stop can come,
/// `Impossible` otherwise. The one rule of `peek`, `register_with` and
/// `set_linked`.
#[inline]
fn outcome(flags: usize) -> Registered {
    if flags & STOP != 0 {
        Registered::Stopped
    } else if possible(flags) {
        Registered::Linked
    } else {
        Registered::Impossible
    }
}

/// The reason of a stop whose slot is empty: a plain request writes none.
static REQUESTED: StopReason = StopReason::Requested;
/// Above this many stoppers the count could overflow; abort like `Arc` does.
const MAX_FLAGS: usize = isize::MAX as usize;

/// What became of a registration attempt.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Registered {
    /// Linked: it runs on the stop request, unless deregistered first.
    Linked,
    /// A stop was already requested: the caller runs the callback itself, now.
    Stopped,
    /// No stop can ever come (no stopper remains): nothing was linked.
    Impossible,
}

/// What a quick node's handler leaves to do once the lock is released.
pub(crate) enum Deferred {
    Nothing,
    /// A task waits for the stop.
    Wake(Waker),
    /// A thread is parked in [`StopState::wait`].
    Unpark(Thread),
    /// A link: pass the event on to this state (a reference held for it).
    Link(SharedRef),
}

/// What the requester does next with the list of the state it handles.
enum Step {
    End,
    Run(NonNull<Node>, unsafe fn(NonNull<Node>)),
    Deferred(Deferred),
}

type Payload = Box<dyn std::any::Any + Send>;

/// The stop flag, stopper count, reason and node lists of one stop state.
///
/// Invariant: see the module doc, 1 to 7.
///
/// `repr(C)`: the words every registration touches (`flags`, `lock`, the list
/// heads) come first, next to a shared state's handle count, so that they
/// share a cache line.
#[repr(C)]
pub struct StopState {
    flags: AtomicUsize,
    lock: AtomicBool,
    list: UnsafeCell<List>,
    /// Written once, by the claim, before it sets bit 0 (invariant 3).
    reason: UnsafeCell<Option<StopReason>>,
}

// SAFETY: `list` and the nodes it points to are only touched under `lock`
// (invariant 2); the nodes' callbacks and wakers are `Send` (checked where they
// are registered). `reason` is written once under `lock` before bit 0 is
// published and then only read (as `&StopReason`, from any thread) or dropped
// with the state, which is sound because `StopReason` is `Send + Sync`.
unsafe impl Send for StopState {}
// SAFETY: as for `Send`: all shared access to `list` goes through `lock`.
unsafe impl Sync for StopState {}

// A panic inside a callback leaves the state consistent (the requester catches
// it, finishes the list, then resumes it), so handles may cross `catch_unwind`.
impl std::panic::RefUnwindSafe for StopState {}
impl std::panic::UnwindSafe for StopState {}

impl StopState {
    /// A state with `stoppers` stoppers and no stop requested.
    #[cfg(not(stoptoken_loom))]
    pub(crate) const fn new(stoppers: usize) -> Self {
        StopState {
            flags: AtomicUsize::new(stoppers * STOPPER),
            lock: AtomicBool::new(false),
            list: UnsafeCell::new(List::new()),
            reason: UnsafeCell::new(None),
        }
    }

    /// A state with `stoppers` stoppers and no stop requested.
    #[cfg(stoptoken_loom)]
    pub(crate) fn new(stoppers: usize) -> Self {
        StopState {
            flags: AtomicUsize::new(stoppers * STOPPER),
            lock: AtomicBool::new(false),
            list: UnsafeCell::new(List::new()),
            reason: UnsafeCell::new(None),
        }
    }

    #[inline]
    pub(crate) fn stop_requested(&self) -> bool {
        // Acquire: pairs with the Release that sets bit 0 in `claim`, so what
        // the requester did before is visible here.
        self.flags.load(Ordering::Acquire) & STOP != 0
    }

    #[inline]
    pub(crate) fn stop_possible(&self) -> bool {
        // Acquire: as in `stop_requested`, for the case where bit 0 is what we see.
        possible(self.flags.load(Ordering::Acquire))
    }

    /// What a registration made now would most likely become, in one load:
    /// `Stopped`, `Impossible`, or `Linked` (a stop can still come). Only a
    /// hint: the registration decides under the lock.
    #[inline]
    pub(crate) fn peek(&self) -> Registered {
        // Acquire: as in `stop_requested`.
        outcome(self.flags.load(Ordering::Acquire))
    }

    /// Counts one more source (a clone of a live one).
    #[inline]
    pub(crate) fn add_source(&self) {
        // Relaxed: the caller holds a source, so the count cannot reach 0
        // meanwhile, and nothing is published by the increment (as `Arc::clone`).
        let old = self.flags.fetch_add(STOPPER, Ordering::Relaxed);
        if old > MAX_FLAGS {
            std::process::abort();
        }
    }

    /// Counts `count` more stoppers (the links of a state being made).
    #[inline]
    pub(crate) fn add_stoppers(&self, count: usize) {
        // Relaxed, and a load and a store rather than a read-modify-write:
        // the state is being made, no other thread knows it yet (the links'
        // registration, which publishes it, comes after this in this
        // thread). `count` is the length of a slice of links, so
        // `count * STOPPER` cannot overflow, and the flags hold a few
        // stoppers at most.
        let flags = self.flags.load(Ordering::Relaxed);
        self.flags.store(flags + count * STOPPER, Ordering::Relaxed);
    }

    /// Counts one source less; when that leaves no stopper, the state is
    /// abandoned and its watchers are told.
    #[inline]
    pub(crate) fn remove_source(&self) {
        if self.remove_stopper() {
            self.abandon();
        }
    }

    /// Takes one stopper away (a source dropped, a link whose parent was
    /// abandoned); `true` if that abandons the state and watchers must be told.
    #[inline]
    fn remove_stopper(&self) -> bool {
        // AcqRel: acquires the `LINKED` bit from the registrant's
        // compare-exchange (AcqRel) in `register_with`, so the first node is
        // linked before we look for it, and releases this thread's writes to
        // whoever sees the abandonment. Being read-modify-writes of one word,
        // the two are ordered one way or the other (invariant 7); later nodes
        // are ordered by the lock (see the module doc).
        let old = self.flags.fetch_sub(STOPPER, Ordering::AcqRel);
        old == STOPPER | LINKED
    }

    #[cold]
    fn abandon(&self) {
        let first = self.with_list(|list| self.step(list, Event::Abandon, None).0);
        propagate(self, Event::Abandon, first);
    }

    /// Makes the stop request with [`StopReason::Requested`]; see
    /// [`StopState::request_stop_with`].
    #[inline]
    pub(crate) fn request_stop(&self) -> bool {
        let claimed = self.claim_plain(false);
        self.finish_request(claimed)
    }

    /// Makes the stop request with `reason`; `true` only for the call that made
    /// the first one, which then runs every linked callback, and those of every
    /// state linked below, before it returns. A losing call drops its `reason`
    /// outside the lock.
    ///
    /// # Panics
    /// After all callbacks have run, resumes the first panic raised by one of them.
    #[inline]
    pub(crate) fn request_stop_with(&self, reason: StopReason) -> bool {
        self.request(reason, false)
    }

    /// Like [`StopState::request_stop_with`], but only while a stop is still
    /// possible: an abandoned state stays unstopped for ever
    /// (`stop_possible()` never turns back to `true`). Used by links and by
    /// the deadline thread, which act on states they hold no stopper of.
    pub(crate) fn request_stop_if_possible(&self, reason: StopReason) -> bool {
        self.request(reason, true)
    }

    /// The reason of the first stop request, once `stop_requested()` is true.
    #[inline]
    pub(crate) fn stop_reason(&self) -> Option<&StopReason> {
        // Acquire: pairs with the Release that set bit 0 in `claim`, after
        // the reason was written.
        if self.flags.load(Ordering::Acquire) & STOP == 0 {
            return None;
        }
        // SAFETY: the reason was written before bit 0 was set (Release, seen by
        // the Acquire load above) and is never written again (invariant 3).
        let reason = self.reason.with(|slot| unsafe { (*slot).as_ref() });
        Some(reason.unwrap_or(&REQUESTED))
    }

    fn request(&self, reason: StopReason, only_if_possible: bool) -> bool {
        let claimed = match reason {
            StopReason::Requested => self.claim_plain(only_if_possible),
            reason => self.claim(reason, only_if_possible),
        };
        self.finish_request(claimed)
    }

    /// After a claim: the winner handles the lists, if a node was ever linked.
    #[inline]
    fn finish_request(&self, claimed: Option<usize>) -> bool {
        match claimed {
            Some(flags) => {
                if flags & LINKED != 0 {
                    self.drain_stop();
                }
                true
            }
            None => false,
        }
    }

    /// Sets `mark` (bit 0, or `CLAIM`) in one compare-exchange, lock-free,
    /// unless a stop was already requested or claimed (or, with
    /// `only_if_possible`, the state is abandoned): `Ok` with the flags it
    /// replaced, `Err` with the flags that stopped it.
    #[inline]
    fn mark(&self, mark: usize, only_if_possible: bool) -> Result<usize, usize> {
        // Relaxed: the compare-exchange below decides.
        let mut flags = self.flags.load(Ordering::Relaxed);
        loop {
            if flags & (STOP | CLAIM) != 0 || (only_if_possible && !possible(flags)) {
                return Err(flags);
            }
            // Release: marking bit 0 publishes everything this thread did
            // before to the Acquire loads that see it. Relaxed on failure:
            // only the new value is read.
            match self.flags.compare_exchange_weak(
                flags,
                flags | mark,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(flags),
                Err(current) => flags = current,
            }
        }
    }

    /// The claim of a plain request: bit 0 in one compare-exchange, and no
    /// reason written (an empty slot reads as `Requested`). `Some(flags)` (as
    /// bit 0 was set) for the one call that sets bit 0; `None` if a stop was
    /// already requested (the call returns once bit 0 is visible), or, with
    /// `only_if_possible`, the state is abandoned.
    #[inline]
    fn claim_plain(&self, only_if_possible: bool) -> Option<usize> {
        match self.mark(STOP, only_if_possible) {
            Ok(flags) => Some(flags | STOP),
            Err(flags) => {
                self.wait_for_stop_bit(flags);
                None
            }
        }
    }

    /// The claim with another reason: `CLAIM` in one compare-exchange, then
    /// the reason, then `CLAIM` turned into bit 0 (invariant 3); as
    /// [`StopState::claim_plain`] otherwise. A losing call drops `reason`
    /// (user code, for a custom reason: no lock is held).
    fn claim(&self, reason: StopReason, only_if_possible: bool) -> Option<usize> {
        if let Err(flags) = self.mark(CLAIM, only_if_possible) {
            self.wait_for_stop_bit(flags);
            drop(reason);
            return None;
        }
        self.reason.with_mut(|slot| {
            // SAFETY: `CLAIM` is ours: no other claim writes the slot, no
            // reader reads it (only after seeing bit 0), and it is `None`
            // (invariant 3), so nothing is overwritten without a drop.
            unsafe { slot.write(Some(reason)) }
        });
        // Release: publishes the reason (and everything this thread did
        // before) to the Acquire loads that see bit 0.
        let old = self.flags.fetch_xor(CLAIM | STOP, Ordering::Release);
        debug_assert_eq!(old & (CLAIM | STOP), CLAIM);
        Some(old ^ (CLAIM | STOP))
    }

    /// Waits out the few instructions between another request's `CLAIM` and
    /// its bit 0, so that every request returns with the stop visible.
    #[cold]
    #[inline(never)]
    fn wait_for_stop_bit(&self, mut flags: usize) {
        let mut spins = 0;
        while flags & (STOP | CLAIM) == CLAIM {
            spin_wait(&mut spins);
            // Acquire: pairs with the claim's Release, like `stop_requested`.
            flags = self.flags.load(Ordering::Acquire);
        }
    }

    /// Handles the lists of a state whose stop this thread claimed, and those
    /// of every state the stop is passed on to.
    #[cold]
    fn drain_stop(&self) {
        let first = self.with_list(|list| {
            debug_assert!(list.requester.is_none(), "a state handles one event, once");
            list.requester = Some(ThreadKey::current());
            self.step(list, Event::Stop, None).0
        });
        propagate(self, Event::Stop, first);
    }

    /// Under the lock: marks the callback `finished` (if any) `Done` and takes
    /// its waiter, then pops the next node to handle for `event`.
    fn step(
        &self,
        list: &mut List,
        event: Event,
        finished: Option<NonNull<Node>>,
    ) -> (Step, Option<NonNull<Waiter>>) {
        let mut waiter = None;
        if let Some(node) = finished.filter(|&node| list.running == Some(node)) {
            // Its owner has not dropped it on this thread (`running` would be
            // `None`), and one on another thread waits (invariant 4).
            list.set_done(node);
            waiter = list.waiter.take();
        }
        list.running = None;
        let step = match list.pop(event) {
            None => Step::End,
            // SAFETY: a popped node is valid until its owner sees it `Done` or
            // `Running`-and-handled, which needs the lock we hold (invariant 1).
            Some(node) => match unsafe { node.as_ref() }.kind {
                Kind::Callback(run) => {
                    list.running = Some(node);
                    Step::Run(node, run)
                }
                // SAFETY: the node was just marked `Done` under the lock we hold
                // (invariant 5); `take` matches its registration type.
                Kind::Quick(take) => Step::Deferred(unsafe { take(node, event) }),
            },
        };
        (step, waiter)
    }

    /// Handles the rest of this state's list for `event`, starting with
    /// `step`; linked states that get an event are pushed on `work`.
    fn drain(
        &self,
        event: Event,
        mut step: Step,
        work: &mut Worklist,
        panic: &mut Option<Payload>,
    ) {
        loop {
            let finished = match step {
                Step::End => return,
                Step::Run(node, run) => {
                    // SAFETY: the node is `Running`, so its owner cannot free it
                    // before `run` starts the callback (invariant 4); `run`
                    // matches its registration type.
                    let result = catch_unwind(AssertUnwindSafe(|| unsafe { run(node) }));
                    keep_first(panic, result);
                    Some(node)
                }
                Step::Deferred(deferred) => {
                    let result =
                        catch_unwind(AssertUnwindSafe(|| self.perform(event, deferred, work)));
                    keep_first(panic, result);
                    None
                }
            };
            let waiter;
            (step, waiter) = self.with_list(|list| self.step(list, event, finished));
            if let Some(waiter) = waiter {
                // SAFETY: a waiter is only left for the running node, and its
                // thread waits until it is woken, which happens only here, once.
                unsafe { Waiter::wake(waiter) };
            }
        }
    }

    /// What a quick node left to do, with the lock released.
    fn perform(&self, event: Event, deferred: Deferred, work: &mut Worklist) {
        match deferred {
            Deferred::Nothing => {}
            Deferred::Wake(waker) => waker.wake(),
            Deferred::Unpark(thread) => thread.unpark(),
            Deferred::Link(target) => {
                let state = target.state();
                let passed_on = match event {
                    Event::Stop => {
                        let reason = self.stop_reason().cloned().unwrap_or_default();
                        // A state that never linked a node has nothing to handle.
                        state
                            .claim(reason, true)
                            .is_some_and(|flags| flags & LINKED != 0)
                    }
                    Event::Abandon => state.remove_stopper(),
                };
                if passed_on {
                    work.push(target);
                }
            }
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
    /// data that the node's handler reads. Nothing is linked or updated if a
    /// stop was already requested (`Stopped`) or can never come (`Impossible`).
    ///
    /// # Safety
    /// `node` is valid, `Idle` or `Linked` in this state, and if this returns
    /// `Linked` it stays valid and in place until [`StopState::deregister`] has
    /// returned for it.
    #[inline]
    pub(crate) unsafe fn register_with(
        &self,
        node: NonNull<Node>,
        update: impl FnOnce(),
    ) -> Registered {
        // No look at the flags before the lock: under contention, a read
        // first and the lock's read-modify-write after would move the cache
        // line twice.
        self.with_list(|list| {
            // Acquire: pairs with the claim's Release; see the module doc for
            // why reading bit 0 under the lock closes the race.
            let flags = self.flags.load(Ordering::Acquire);
            // A `CLAIM` without bit 0 counts as no stop yet: the claimer then
            // sees `LINKED` and runs the node, like any node linked before
            // bit 0.
            match outcome(flags) {
                Registered::Linked => {}
                other => return other,
            }
            if flags & LINKED == 0 {
                if let Err(outcome) = self.set_linked(flags) {
                    return outcome;
                }
            }
            // Without a stop or an abandonment no node is `Running` or `Done`,
            // so the node is `Idle` or `Linked` and the requester does not read it.
            update();
            // SAFETY: the caller guarantees the node is valid.
            if unsafe { node.as_ref() }.status(list) == node::Status::Idle {
                // SAFETY: the caller guarantees the node stays valid while
                // linked (invariant 1); it is `Idle`.
                unsafe { list.push_front(node) };
            }
            Registered::Linked
        })
    }

    /// The check of [`StopState::register_with`] for the first node, with
    /// the lock held: sets `LINKED` unless a stop was requested (`Stopped`)
    /// or can never come (`Impossible`). `flags` is the value just read.
    /// Out of line: it runs once per state.
    #[cold]
    #[inline(never)]
    fn set_linked(&self, mut flags: usize) -> Result<(), Registered> {
        loop {
            // The first node sets `LINKED` in the same step as its check
            // (invariant 7). AcqRel: pairs with the claim (which then sees
            // the bit and takes the lock) and with `remove_stopper`.
            // Acquire on failure: as for the load in `register_with`.
            match self.flags.compare_exchange_weak(
                flags,
                flags | LINKED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(current) => flags = current,
            }
            // As in `register_with`: a `CLAIM` without bit 0 is no stop yet.
            match outcome(flags) {
                Registered::Linked if flags & LINKED != 0 => return Ok(()),
                Registered::Linked => {}
                other => return Err(other),
            }
        }
    }

    /// Makes sure `node` is not handled now and will never be: removes it if
    /// it has not been handled, waits for its callback if it runs on another
    /// thread, returns at once if it runs on this thread.
    ///
    /// # Safety
    /// `node` was passed to [`StopState::register`] of this state, is valid, and
    /// this is the only `deregister` call for it.
    #[inline]
    pub(crate) unsafe fn deregister(&self, node: NonNull<Node>) {
        use node::Status;
        let must_wait = self.with_list(|list| {
            // SAFETY: the caller guarantees the node is valid.
            let status = unsafe { node.as_ref() }.status(list);
            if status == Status::Linked {
                // SAFETY: it is linked in this list.
                unsafe { list.unlink(node, Status::Idle) };
                false
            } else {
                Self::deregister_unlinked(list, status)
            }
        });
        if must_wait {
            self.wait_until_done(node);
        }
    }

    /// [`StopState::deregister`] of a node that is not `Linked`, with the
    /// lock held: `true` if its callback runs on another thread, which must
    /// be waited for. Out of line, so that the common case, a node still
    /// linked, is one compare and the unlink (a `match` on the four states
    /// compiles to a jump table, and the thread lookup stays off that path).
    #[cold]
    #[inline(never)]
    fn deregister_unlinked(list: &mut List, status: node::Status) -> bool {
        use node::Status;
        match status {
            // `Linked` is the caller's (never passed here).
            Status::Idle | Status::Done | Status::Linked => false,
            Status::Running if list.requester == Some(ThreadKey::current()) => {
                // The callback drops its own registration: the node is
                // about to go, so the requester must not touch it again.
                list.running = None;
                false
            }
            Status::Running => true,
        }
    }

    #[cold]
    fn wait_until_done(&self, node: NonNull<Node>) {
        let waiter = Waiter::new();
        let registered = self.with_list(|list| {
            // SAFETY: the node is valid (see `deregister`).
            if unsafe { node.as_ref() }.status(list) == node::Status::Running {
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
        // SAFETY: the lock is held until `_unlock` drops, so access is
        // exclusive (invariant 2).
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

/// Handles `event` on `root` (whose first step is `first`), then on every
/// state it passes the event on to, at any depth, with no recursion: the
/// states wait on an intrusive worklist. Resumes the first panic at the end.
fn propagate(root: &StopState, event: Event, first: Step) {
    let mut work = Worklist::default();
    let mut panic = None;
    root.drain(event, first, &mut work, &mut panic);
    while let Some(target) = work.pop() {
        let state = target.state();
        let first = state.with_list(|list| {
            if event == Event::Stop {
                list.requester = Some(ThreadKey::current());
            }
            state.step(list, event, None).0
        });
        state.drain(event, first, &mut work, &mut panic);
        // The last reference may go here, and its teardown may run user code
        // (a custom reason's drop): keep going whatever it does.
        let result = catch_unwind(AssertUnwindSafe(|| drop(target)));
        keep_first(&mut panic, result);
    }
    if let Some(payload) = panic {
        resume_unwind(payload);
    }
}

/// Keeps the first panic of a propagation; later ones are dropped.
fn keep_first(first: &mut Option<Payload>, result: Result<(), Payload>) {
    if let Err(payload) = result {
        match first {
            None => *first = Some(payload),
            Some(_) => drop_payload(payload),
        }
    }
}

/// The states a propagation still has to handle (all for the propagation's
/// one event): an intrusive stack through [`Shared`]'s `next` field, each
/// entry owning a handle.
#[derive(Default)]
struct Worklist {
    head: Option<SharedRef>,
}

impl Worklist {
    fn push(&mut self, target: SharedRef) {
        target.set_next(self.head.take());
        self.head = Some(target);
    }

    fn pop(&mut self) -> Option<SharedRef> {
        let top = self.head.take()?;
        self.head = top.take_next();
        Some(top)
    }
}

impl Drop for Worklist {
    fn drop(&mut self) {
        // Only reached with entries left if a drain unwound, which `drain`
        // prevents by catching every panic; release them all the same.
        while let Some(target) = self.pop() {
            drop(target);
        }
    }
}

/// Drops a panic payload that will not be resumed; a payload whose own `drop`
/// panics is leaked instead, so the requester still finishes the list.
pub(crate) fn drop_payload(payload: Payload) {
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

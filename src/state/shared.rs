//! The heap-allocated state behind `StopSource` and `StopToken`, its reference
//! count, and what it owns: its links into its parents' lists and its entry in
//! the deadline timer.
//!
//! # Ownership
//!
//! - `refs` counts the *handles* of the state: its sources and tokens (and the
//!   registrations that hold a token), the links of its child states (a child
//!   keeps its parents alive, since its link nodes sit in their lists), and a
//!   propagation that has it on its worklist. [`SharedRef`] is one of them.
//! - When `refs` reaches 0 the state is torn down at once: its links are
//!   removed from its parents' lists (never a wait: links are quick nodes),
//!   its timer entry is cancelled, its parents are released, and its reason
//!   is dropped. A parent released to 0 is torn down by the same thread, in a
//!   loop: a plain state or a `child_of` state (one link, no timer entry, no
//!   reason) by [`Shared::teardown`]'s own loop, any other through an
//!   intrusive stack of dying states (`next`); no recursion, whatever the
//!   depth.
//! - `weak` counts the timer's [`SharedWeak`]s plus one for all the handles
//!   together; when it reaches 0 the value is dropped and the block goes back
//!   to the freeing thread's spare (or to the allocator, see `spare.rs`). A
//!   weak reference never keeps a stop possible, nor the state's links alive:
//!   it can only [`upgrade`](SharedWeak::upgrade) while a handle lives.
//!
//! Invariant (S1): `links`, `timer` and `deadline` are written only by
//! [`Shared::new_linked`] and [`Shared::new_child`] before the state is handed
//! out, and `links` and `timer` are taken only by the teardown, which runs
//! once, after the last handle (ordered by an Acquire load of `refs`).
//! Invariant (S2): `next` is touched only by the one thread that pushes the
//! state on a worklist (it won the state's one event, invariant 6 of the
//! state module) or on the dying stack (it released the last handle).

use core::mem::ManuallyDrop;
use core::pin::Pin;
use core::ptr::{addr_of_mut, NonNull};
use std::time::Instant;

use super::link::LinkNode;
use super::spare::{alloc_state_block, free_state_block};
use super::{Registered, StopState};
use crate::sync::{AtomicUsize, Ordering, UnsafeCell};
use crate::StopReason;

/// What the deadline timer leaves with a state so that the state's teardown
/// removes its entry at once.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimerHook {
    pub(crate) at: Instant,
    pub(crate) id: u64,
    /// Removes the entry `(at, id)` from the timer.
    pub(crate) cancel: fn(Instant, u64),
}

/// Puts a state (behind its weak reference) in the timer at an instant.
pub(crate) type Schedule = fn(Instant, SharedWeak) -> TimerHook;

/// The links a state keeps in its parents' lists.
pub(super) enum LinkSet {
    None,
    /// `child_of`: the one link lives inside the state's own allocation.
    One(LinkNode),
    /// `any_of`: one block for all of them.
    Many(Pin<Box<[LinkNode]>>),
}

impl LinkSet {
    fn as_slice(&self) -> &[LinkNode] {
        match self {
            LinkSet::None => &[],
            LinkSet::One(link) => core::slice::from_ref(link),
            LinkSet::Many(links) => links,
        }
    }
}

/// A [`StopState`] shared by sources and tokens (see the module doc).
///
/// `repr(C)`: the handle count right before the state's flags, lock and list
/// heads, in one cache line (a token clone and a registration touch both).
#[repr(C)]
pub(crate) struct Shared {
    refs: AtomicUsize,
    state: StopState,
    weak: AtomicUsize,
    links: UnsafeCell<LinkSet>,
    timer: UnsafeCell<Option<TimerHook>>,
    /// The earliest deadline linked into this state (its own, or a parent's,
    /// at any depth); written by [`Shared::new_linked`] before any handle
    /// but the constructor's exists, never written again.
    deadline: UnsafeCell<Option<Instant>>,
    next: UnsafeCell<Option<NonNull<Shared>>>,
}

// SAFETY: `state` is `Sync`; `links`, `timer` and `next` are only touched under
// invariants S1 and S2 (one thread at a time, ordered by `refs`).
unsafe impl Sync for Shared {}
// SAFETY: as for `Sync`; nothing in it is tied to a thread.
unsafe impl Send for Shared {}

// Teardown leaves nothing half-done whatever panics (see `teardown`).
impl std::panic::RefUnwindSafe for Shared {}

/// Above this many handles the count could overflow; abort like `Arc` does.
const MAX_REFS: usize = isize::MAX as usize;

impl Shared {
    /// A new state with one handle, on the heap (a block from the thread's
    /// spare, or a new one), written in place (a `Box::new` of the whole
    /// struct would build it on the stack and copy it).
    #[inline]
    fn allocate(stoppers: usize) -> NonNull<Shared> {
        let ptr = alloc_state_block::<Shared>();
        let raw = ptr.as_ptr();
        // SAFETY: `raw` is valid for writes of a `Shared` (a block of its
        // layout, unused); every field is written once, so the value is
        // initialised when this returns.
        unsafe {
            addr_of_mut!((*raw).state).write(StopState::new(stoppers));
            addr_of_mut!((*raw).refs).write(AtomicUsize::new(1));
            addr_of_mut!((*raw).weak).write(AtomicUsize::new(1));
            addr_of_mut!((*raw).links).write(UnsafeCell::new(LinkSet::None));
            addr_of_mut!((*raw).timer).write(UnsafeCell::new(None));
            addr_of_mut!((*raw).deadline).write(UnsafeCell::new(None));
            addr_of_mut!((*raw).next).write(UnsafeCell::new(None));
        }
        ptr
    }

    /// Drops the value of a state nothing refers to any more and gives its
    /// block back (to the thread's spare, or the allocator).
    ///
    /// # Safety
    /// `ptr` came from [`Shared::allocate`], its last handle and its last weak
    /// reference are gone, and nothing touches it after.
    #[inline]
    unsafe fn free(ptr: NonNull<Shared>) {
        // SAFETY: initialised by `allocate`, dropped once, here (caller).
        unsafe { ptr.as_ptr().drop_in_place() };
        // SAFETY: from `alloc_state_block::<Shared>` in `allocate`; its value
        // was dropped just above and nothing uses it (caller).
        unsafe { free_state_block(ptr) };
    }

    /// A state with one source and no stop requested: one allocation.
    #[inline]
    pub(crate) fn create() -> SharedRef {
        SharedRef(Self::allocate(1))
    }

    /// [`Shared::new_linked`] with one parent and no timer (`child_of`), on
    /// the shortest path: the link is written in place in the new state.
    pub(crate) fn new_child(parent: &SharedRef) -> SharedRef {
        // One stopper for the source being made, one for the link.
        let ptr = Self::allocate(2);
        let target = SharedRef(ptr);
        let link = LinkNode::new(parent.clone(), ptr);
        target.install_links(LinkSet::One(link), parent.deadline());
        target
    }

    /// Puts `links` and `deadline` into a state being made (its links counted
    /// among its stoppers already), then links each into its parent.
    #[inline(always)]
    fn install_links(&self, links: LinkSet, deadline: Option<Instant>) {
        self.links.with_mut(|slot| {
            // SAFETY: no other thread knows the state yet (invariant S1); the
            // slot holds `LinkSet::None`, which needs no drop.
            unsafe { slot.write(links) }
        });
        // SAFETY: as for the links; read only through handles made after.
        self.deadline.with_mut(|slot| unsafe { *slot = deadline });
        // SAFETY: the slot was written just above and is not moved again.
        let links = self.links.with(|slot| unsafe { &*slot }.as_slice());
        self.register_links(links);
    }

    /// Links each of `links` into its parent, stopping this (new) state at
    /// once if a parent is already stopped.
    fn register_links(&self, links: &[LinkNode]) {
        for link in links {
            if self.state.stop_requested() {
                break; // the rest need not be registered
            }
            match link.register() {
                Registered::Linked => {}
                Registered::Stopped => {
                    let reason = link.parent().state.stop_reason().cloned();
                    self.state
                        .request_stop_if_possible(reason.unwrap_or_default());
                }
                // A link that can never fire is no stopper. Our own source
                // still counts, so this never abandons the state.
                Registered::Impossible => self.state.remove_source(),
            }
        }
    }

    /// A state with one source that is stopped when any of `parents` is
    /// stopped (at once if one already is), with the reason of the first to
    /// stop it, and, if `timer` is given, at its instant, by the entry that
    /// its function makes. The links and the entry last as long as the state
    /// has a handle (a source or a token).
    pub(crate) fn new_linked(
        parents: impl IntoIterator<Item = SharedRef>,
        timer: Option<(Instant, Schedule)>,
    ) -> SharedRef {
        let mut parents = parents.into_iter();
        // One stopper for the source being made, one for the timer entry; one
        // more for each link as it is made.
        let ptr = Self::allocate(1 + usize::from(timer.is_some()));
        let target = SharedRef(ptr);
        let mut earliest = timer.map(|(at, _)| at);
        let mut link = |parent: SharedRef| {
            if let Some(at) = parent.deadline() {
                earliest = Some(earliest.map_or(at, |earliest| earliest.min(at)));
            }
            LinkNode::new(parent, ptr)
        };
        let links = match (parents.next(), parents.next()) {
            (None, _) => LinkSet::None,
            (Some(parent), None) => LinkSet::One(link(parent)),
            (Some(first), Some(second)) => {
                // Sized by the upper bound, so that `into_boxed_slice` need not
                // shrink it: one block for all the links (a huge or unknown
                // bound falls back to the lower one).
                let (lower, upper) = parents.size_hint();
                let hint = upper.filter(|&upper| upper <= 4096).unwrap_or(lower);
                let mut links = Vec::with_capacity(hint.saturating_add(2));
                links.push(link(first));
                links.push(link(second));
                for parent in parents {
                    links.push(link(parent));
                }
                LinkSet::Many(Box::into_pin(links.into_boxed_slice()))
            }
        };
        // One stopper per link, counted at once: nothing sees the state before
        // `install_links` registers them.
        target.state.add_stoppers(links.as_slice().len());
        target.install_links(links, earliest);
        if let Some((at, schedule)) = timer {
            let hook = schedule(at, target.downgrade());
            // SAFETY: only the teardown reads the slot, and it cannot start
            // while `target` lives (invariant S1).
            target.timer.with_mut(|slot| unsafe { *slot = Some(hook) });
        }
        target
    }

    #[inline]
    pub(crate) fn state(&self) -> &StopState {
        &self.state
    }

    /// The earliest instant at which a deadline linked into this state (its
    /// own, a parent's, an any-of input's, at any depth) stops it; `None` if
    /// none will. Fixed when the state is made; after the deadline has fired
    /// it still returns that instant (a deadline already passed when the state
    /// was made is not recorded: the state is stopped at once instead).
    #[inline]
    pub(crate) fn deadline(&self) -> Option<Instant> {
        // SAFETY: written once before any other handle existed (see the field).
        self.deadline.with(|slot| unsafe { *slot })
    }

    /// One handle more, unless the count is already 0 (the state is being
    /// torn down): `Weak::upgrade`.
    ///
    /// # Safety
    /// `ptr` points to a `Shared` whose memory is alive: a weak reference, or
    /// a link node of it that is still linked, is held.
    pub(super) unsafe fn upgrade(ptr: NonNull<Shared>) -> Option<SharedRef> {
        // SAFETY: the caller guarantees the memory is alive.
        let refs = unsafe { &ptr.as_ref().refs };
        // Relaxed: the compare decides; nothing is read on its strength.
        let mut count = refs.load(Ordering::Relaxed);
        loop {
            if count == 0 {
                return None;
            }
            if count > MAX_REFS {
                std::process::abort();
            }
            // Acquire on success: the handle we make may read what the other
            // handles published (as `Weak::upgrade`). Relaxed on failure.
            match refs.compare_exchange_weak(count, count + 1, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return Some(SharedRef(ptr)),
                Err(current) => count = current,
            }
        }
    }

    /// Counts one more handle of `ptr` (the caller makes it).
    ///
    /// # Safety
    /// The caller holds a handle of `ptr`, which keeps it alive.
    #[inline]
    unsafe fn retain(ptr: NonNull<Shared>) {
        // SAFETY: the caller's handle keeps the state alive.
        let refs = unsafe { &ptr.as_ref().refs };
        // Relaxed: we hold a handle, so the count cannot reach 0 meanwhile, and
        // nothing is published by the increment (as `Arc::clone`).
        if refs.fetch_add(1, Ordering::Relaxed) > MAX_REFS {
            std::process::abort();
        }
    }

    /// Drops one handle of `ptr`; the last one tears the state down.
    ///
    /// # Safety
    /// The caller owns one handle of `ptr` and gives it up.
    #[inline]
    unsafe fn release(ptr: NonNull<Shared>) {
        // SAFETY: forwarded: the caller's handle is given up.
        if unsafe { Self::drop_ref(ptr) } {
            // SAFETY: that was the last handle.
            unsafe { Self::teardown(ptr) };
        }
    }

    /// One handle of `ptr` less; `true` if it was the last one.
    ///
    /// A raw pointer, not `&self`: once another thread's decrement may have
    /// been the last, the memory may be freed while this call still runs, and
    /// a reference argument would claim it valid until the call returns.
    ///
    /// # Safety
    /// The caller owns one handle of `ptr` and gives it up; if this returns
    /// `false`, it does not touch the state again.
    #[inline]
    unsafe fn drop_ref(ptr: NonNull<Shared>) -> bool {
        // SAFETY: the caller's handle keeps the memory alive until the
        // decrement; the reference is a local, not a protected argument.
        let refs = unsafe { &(*ptr.as_ptr()).refs };
        // Release: the other handles' uses happen-before the teardown, which
        // acquires them with the load below (as in `Arc`'s drop).
        if refs.fetch_sub(1, Ordering::Release) != 1 {
            return false;
        }
        // Acquire: pairs with the Release decrements of the other handles. A
        // load, not a fence: ThreadSanitizer does not model fences (`Arc`
        // does the same under it); on x86 both cost nothing.
        refs.load(Ordering::Acquire);
        true
    }

    /// Tears down `first`, whose last handle is gone, and every parent that
    /// this releases to 0, one after the other.
    ///
    /// # Safety
    /// No handle of `first` is left.
    #[cold]
    unsafe fn teardown(first: NonNull<Shared>) {
        // SAFETY: no handle is left; the memory lives until freed below.
        let shared = unsafe { first.as_ref() };
        // The common case, a state with no link, no timer entry, no weak
        // reference and no reason to drop: just free it.
        // SAFETY: the teardown runs once, after the last handle (S1).
        let plain = shared.links.with(|slot| matches!(unsafe { &*slot }, LinkSet::None))
            && shared.timer.with(|slot| unsafe { (*slot).is_none() })
            && shared.state.reason_is_empty()
            // Acquire: pairs with the Release decrements of weak references.
            && shared.weak.load(Ordering::Acquire) == 1;
        if plain {
            // SAFETY: no handle and no weak reference is left (checked
            // above), and nothing touches the state after.
            unsafe { Self::free(first) };
            return;
        }
        // SAFETY: forwarded.
        unsafe { Self::teardown_linked(first) }
    }

    /// [`Shared::teardown`] of a state that is not plain. The next common
    /// case, a `child_of` state (one link) with no timer entry, no weak
    /// reference and no reason to drop, is freed here, and so is each parent
    /// that this releases to 0 and that is as simple (a loop, not a
    /// recursion); anything else goes to [`Shared::teardown_all`].
    ///
    /// # Safety
    /// No handle of `first` is left.
    #[inline(never)]
    unsafe fn teardown_linked(first: NonNull<Shared>) {
        let mut ptr = first;
        loop {
            // SAFETY: no handle is left; the memory lives until freed below.
            let shared = unsafe { ptr.as_ref() };
            // SAFETY: the teardown runs once, after the last handle (S1).
            let simple = shared.timer.with(|slot| unsafe { (*slot).is_none() })
                && shared.state.reason_is_empty()
                // Acquire: pairs with the Release decrements of weak references.
                && shared.weak.load(Ordering::Acquire) == 1;
            // SAFETY: as for `simple`; the link stays in place until freed.
            let links = shared.links.with(|slot| unsafe { &*slot });
            let parent = match links {
                LinkSet::None if simple => {
                    // SAFETY: no handle and no weak reference is left (checked
                    // above), and nothing touches the state after.
                    unsafe { Self::free(ptr) };
                    return;
                }
                LinkSet::One(link) if simple => {
                    // What `detach` does for one link and no timer entry.
                    link.deregister();
                    link.parent_ptr()
                }
                // SAFETY: forwarded.
                _ => return unsafe { Self::teardown_all(ptr) },
            };
            // SAFETY: as for the plain state; the parent pointer was read out
            // before the free.
            unsafe { Self::free(ptr) };
            // SAFETY: the link owned one handle of its parent, given up now.
            if !unsafe { Self::drop_ref(parent) } {
                return;
            }
            // That was the parent's last handle: its teardown is ours.
            ptr = parent;
        }
    }

    /// [`Shared::teardown`] of a state with links, a timer entry, a reason or
    /// weak references: it may release parents, which are torn down in turn.
    ///
    /// # Safety
    /// No handle of `first` is left.
    #[inline(never)]
    unsafe fn teardown_all(first: NonNull<Shared>) {
        let mut dying = Some(first);
        let mut panic = None;
        while let Some(ptr) = dying {
            // SAFETY: a dying state's memory is alive until `release_weak` below; we
            // own it (no handle is left, and weak references only upgrade
            // while one is).
            let shared = unsafe { ptr.as_ref() };
            // SAFETY: this thread put it on the stack (invariant S2).
            dying = shared.next.with_mut(|next| unsafe { (*next).take() });
            let plain = shared.links.with(|slot| {
                // SAFETY: the teardown runs once, after the last handle (S1).
                matches!(unsafe { &*slot }, LinkSet::None)
            }) && shared.timer.with(|slot| {
                // SAFETY: as for the links.
                unsafe { (*slot).is_none() }
            });
            if !plain {
                // SAFETY: as for `plain`.
                unsafe { Self::detach(ptr, &mut dying) };
            }
            let reason = shared.state.take_reason();
            // SAFETY: nothing of the state is used any more but its memory,
            // which the weak count guards.
            unsafe { Self::release_weak(ptr) };
            // A custom reason's drop is user code: keep tearing down whatever
            // it does, then resume its panic.
            if let Some(reason) = reason {
                if let Err(payload) =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(reason)))
                {
                    panic.get_or_insert(payload);
                }
            }
        }
        if let Some(payload) = panic {
            std::panic::resume_unwind(payload);
        }
    }

    /// The part of the teardown of `ptr` for its links and timer entry:
    /// removes them, and pushes each parent it releases to 0 on `dying`.
    ///
    /// # Safety
    /// No handle of `ptr` is left, and this runs once for it.
    #[cold]
    unsafe fn detach(ptr: NonNull<Shared>, dying: &mut Option<NonNull<Shared>>) {
        // SAFETY: the caller owns the dying state.
        let shared = unsafe { ptr.as_ref() };
        // SAFETY: the teardown runs once, after the last handle (S1); the
        // links are handled in place (they are linked where they are). The
        // block of an any-of's links is freed with the state.
        let links = shared.links.with(|slot| unsafe { &*slot }.as_slice());
        for link in links {
            link.deregister();
        }
        // SAFETY: as for `links`; the hook is `Copy`, read once.
        if let Some(hook) = shared.timer.with(|slot| unsafe { *slot }) {
            (hook.cancel)(hook.at, hook.id);
        }
        for link in links {
            let parent = link.parent_ptr();
            // SAFETY: the link owned one handle of its parent, given up now.
            if unsafe { Self::drop_ref(parent) } {
                // SAFETY: that was the parent's last handle: its memory lives
                // until its own teardown, which this thread runs.
                let parent_next = unsafe { &parent.as_ref().next };
                parent_next.with_mut(|next| {
                    // SAFETY: this thread owns the parent's `next` now
                    // (invariant S2).
                    unsafe { *next = *dying }
                });
                *dying = Some(parent);
            }
        }
    }

    /// Gives up one weak reference (or the one all the handles held); the
    /// last one frees the memory.
    ///
    /// # Safety
    /// The caller owns that weak reference and does not touch the state after.
    unsafe fn release_weak(ptr: NonNull<Shared>) {
        // SAFETY: the weak reference keeps the memory alive until the decrement.
        let weak = unsafe { &ptr.as_ref().weak };
        // Acquire: pairs with the Release decrements of the other weak
        // references. Once no handle is left no weak reference is made, so a
        // count of 1 is ours alone and needs no read-modify-write.
        if weak.load(Ordering::Acquire) != 1 && weak.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        // Acquire: pairs with the Release decrements (when we took the slow
        // path); a load rather than a fence, as in `drop_ref`.
        weak.load(Ordering::Acquire);
        // SAFETY: the last weak reference, after the last handle: nothing
        // touches the state after (caller).
        unsafe { Self::free(ptr) };
    }
}

/// One handle of a [`Shared`] state (see the module doc): what `StopSource`
/// and `StopToken` hold.
pub(crate) struct SharedRef(NonNull<Shared>);

// SAFETY: a handle only gives `&Shared`, which is `Sync`, and may be released
// from any thread.
unsafe impl Send for SharedRef {}
// SAFETY: as for `Send`.
unsafe impl Sync for SharedRef {}

impl SharedRef {
    #[inline]
    pub(crate) fn ptr_eq(a: &SharedRef, b: &SharedRef) -> bool {
        a.0 == b.0
    }

    /// A weak reference, for the timer.
    fn downgrade(&self) -> SharedWeak {
        // Relaxed: we hold a handle, so the memory is alive; nothing is published.
        self.weak.fetch_add(1, Ordering::Relaxed);
        SharedWeak(self.0)
    }

    /// The raw pointer, keeping the handle (given back by [`SharedRef::from_raw`]).
    pub(super) fn into_raw(self) -> NonNull<Shared> {
        ManuallyDrop::new(self).0
    }

    /// # Safety
    /// `ptr` came from [`SharedRef::into_raw`], and its handle is given back once.
    pub(super) unsafe fn from_raw(ptr: NonNull<Shared>) -> SharedRef {
        SharedRef(ptr)
    }

    /// Puts `next` behind this state on a worklist.
    pub(super) fn set_next(&self, next: Option<SharedRef>) {
        let next = next.map(SharedRef::into_raw);
        // SAFETY: only the thread that pushes the state touches it (S2).
        self.next.with_mut(|slot| unsafe { *slot = next });
    }

    /// Takes the state behind this one on a worklist.
    pub(super) fn take_next(&self) -> Option<SharedRef> {
        // SAFETY: as in `set_next`; the pointer owns a handle (`set_next`).
        self.next
            .with_mut(|slot| unsafe { (*slot).take() })
            .map(|ptr| unsafe { SharedRef::from_raw(ptr) })
    }
}

impl core::ops::Deref for SharedRef {
    type Target = Shared;

    #[inline]
    fn deref(&self) -> &Shared {
        // SAFETY: the handle keeps the state alive.
        unsafe { self.0.as_ref() }
    }
}

impl Clone for SharedRef {
    #[inline]
    fn clone(&self) -> Self {
        // Copied first, so that the pointer is not read again after the
        // atomic operation.
        let ptr = self.0;
        // SAFETY: our handle keeps the state alive.
        unsafe { Shared::retain(ptr) };
        SharedRef(ptr)
    }
}

impl SharedRef {
    /// `Option::clone` for the handle of a source or a token: the pointer is
    /// copied once, counted if there is one, and the copy is the result.
    ///
    /// Not `Option::clone`, which matches, clones the `SharedRef` and builds
    /// a new `Option`: the compiler then reads the pointer again after the
    /// increment (the `&self` it reads through is immutable, so the read may
    /// be repeated anywhere) and joins the two arms with a jump, two
    /// instructions more per token clone.
    #[inline]
    pub(crate) fn clone_option(handle: &Option<SharedRef>) -> Option<SharedRef> {
        let ptr = handle.as_ref().map(|shared| shared.0);
        if let Some(ptr) = ptr {
            // SAFETY: `handle` keeps the state alive.
            unsafe { Shared::retain(ptr) };
        }
        // The increment above counted this handle.
        ptr.map(SharedRef)
    }
}

impl Drop for SharedRef {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: this handle is given up here, once.
        unsafe { Shared::release(self.0) }
    }
}

// SAFETY: the handle keeps the state alive and in place while it lives, and
// always points to the same one.
unsafe impl super::CallbackToken for SharedRef {
    #[inline]
    fn stop_state(&self) -> Option<&StopState> {
        Some(&self.state)
    }
}

/// A reference that keeps a state's memory, not the state: the timer's.
pub(crate) struct SharedWeak(NonNull<Shared>);

// SAFETY: it only touches the atomic counts, from any thread.
unsafe impl Send for SharedWeak {}

impl SharedWeak {
    /// A handle, if the state still has one.
    pub(crate) fn upgrade(&self) -> Option<SharedRef> {
        // SAFETY: the weak reference keeps the memory alive.
        unsafe { Shared::upgrade(self.0) }
    }
}

impl Drop for SharedWeak {
    fn drop(&mut self) {
        // SAFETY: this weak reference is given up here, once.
        unsafe { Shared::release_weak(self.0) }
    }
}

impl StopState {
    /// Takes the reason out, for the teardown of a state with no handle left.
    fn take_reason(&self) -> Option<StopReason> {
        // SAFETY: no handle is left, so nobody reads the reason any more.
        self.reason.with_mut(|slot| unsafe { (*slot).take() })
    }

    /// Whether no reason was written (a plain stop, or none), for the
    /// teardown of a state with no handle left.
    fn reason_is_empty(&self) -> bool {
        // SAFETY: as for `take_reason`.
        self.reason.with(|slot| unsafe { (*slot).is_none() })
    }
}

/// Whether two handles name the same state (or both none): the equality of
/// sources and tokens.
#[inline]
pub(crate) fn same_state(a: Option<&SharedRef>, b: Option<&SharedRef>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => SharedRef::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

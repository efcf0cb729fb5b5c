//! Per-thread spare blocks: a freed block is kept for the next allocation of
//! its layout, so a `StopCallback` or a `StopSource` made and dropped in a
//! loop (a child token per request) allocates once.
//!
//! Each thread holds at most one spare block (with its layout) for by-value
//! registrations ([`SpareBox`]) and one for shared stop states
//! ([`alloc_state_block`], [`free_state_block`]); two slots, so that the two
//! kinds, made and dropped together, do not evict each other. Taking a block
//! takes the spare if its layout fits, and allocates otherwise; giving one
//! back keeps it as the spare if the thread has none, and frees it otherwise.
//! The spares are freed when the thread exits. Once a spare slot has been
//! destroyed (thread-local destruction), its kind of block comes from and
//! goes to the global allocator directly; a block freed by an earlier
//! thread-local destructor still goes to the slot, and is freed with it. Under loom the state
//! blocks come from the allocator (each model run starts from nothing).

use core::alloc::Layout;
use core::cell::Cell;
use core::ops::{Deref, DerefMut};
use core::pin::Pin;
use core::ptr::NonNull;
use std::alloc::{alloc, dealloc, handle_alloc_error};

/// The calling thread's spare block, if any.
struct Spare(Cell<Option<(NonNull<u8>, Layout)>>);

impl Spare {
    /// The spare, if it has `layout`; a spare of another layout is freed.
    #[inline]
    fn take(&self, layout: Layout) -> Option<NonNull<u8>> {
        match self.0.take() {
            Some((block, spare_layout)) if spare_layout == layout => Some(block),
            Some((block, spare_layout)) => {
                // SAFETY: the spare was allocated with its layout, unused.
                unsafe { dealloc(block.as_ptr(), spare_layout) };
                None
            }
            None => None,
        }
    }

    /// Keeps `block` as the spare if there is none; whether it was kept.
    #[inline]
    fn keep(&self, block: NonNull<u8>, layout: Layout) -> bool {
        let empty = self.0.get().is_none();
        if empty {
            self.0.set(Some((block, layout)));
        }
        empty
    }
}

impl Drop for Spare {
    fn drop(&mut self) {
        if let Some((block, layout)) = self.0.take() {
            // SAFETY: the block was allocated with this layout and is unused.
            unsafe { dealloc(block.as_ptr(), layout) };
        }
    }
}

std::thread_local! {
    static SPARE: Spare = const { Spare(Cell::new(None)) };
    static SPARE_STATE: Spare = const { Spare(Cell::new(None)) };
}

/// A block of `layout`: `slot`'s spare if it fits, else a new one.
///
/// # Panics
/// If `layout` is zero-sized (never here: the blocks hold nodes and states).
#[inline]
fn take_block(slot: &'static std::thread::LocalKey<Spare>, layout: Layout) -> NonNull<u8> {
    assert!(layout.size() > 0, "spare blocks are not zero-sized");
    match slot.try_with(|spare| spare.take(layout)).ok().flatten() {
        Some(block) => block,
        None => new_block(layout),
    }
}

/// A new block of `layout` from the global allocator.
///
/// # Panics
/// If `layout` is zero-sized.
fn new_block(layout: Layout) -> NonNull<u8> {
    assert!(layout.size() > 0, "spare blocks are not zero-sized");
    // SAFETY: the layout is not zero-sized (checked above).
    let block = unsafe { alloc(layout) };
    NonNull::new(block).unwrap_or_else(|| handle_alloc_error(layout))
}

/// Gives `block` back: kept as `slot`'s spare, or freed.
///
/// # Safety
/// `block` was allocated with `layout` (by `take_block`) and is not used any
/// more.
#[inline]
unsafe fn give_block(
    slot: &'static std::thread::LocalKey<Spare>,
    block: NonNull<u8>,
    layout: Layout,
) {
    let kept = slot
        .try_with(|spare| spare.keep(block, layout))
        .unwrap_or(false);
    if !kept {
        // SAFETY: allocated with this layout, and no longer used (caller).
        unsafe { dealloc(block.as_ptr(), layout) };
    }
}

/// An uninitialised heap block for a shared stop state `T` (never
/// zero-sized), from the thread's state spare if it has one.
#[inline]
pub(crate) fn alloc_state_block<T>() -> NonNull<T> {
    let layout = Layout::new::<T>();
    #[cfg(not(stoptoken_loom))]
    let block = take_block(&SPARE_STATE, layout);
    #[cfg(stoptoken_loom)]
    let block = new_block(layout);
    block.cast()
}

/// Gives back the block of a shared stop state whose value was dropped.
///
/// # Safety
/// `block` came from [`alloc_state_block::<T>`], its value was dropped (or
/// never written), and nothing uses it any more.
#[inline]
pub(crate) unsafe fn free_state_block<T>(block: NonNull<T>) {
    let layout = Layout::new::<T>();
    #[cfg(not(stoptoken_loom))]
    // SAFETY: forwarded from the caller.
    unsafe {
        give_block(&SPARE_STATE, block.cast(), layout)
    };
    #[cfg(stoptoken_loom)]
    // SAFETY: allocated with this layout by `alloc_state_block`, unused.
    unsafe {
        dealloc(block.cast::<u8>().as_ptr(), layout)
    };
}

/// A heap box (like `Box<T>`) whose block may come from, and go back to, the
/// thread's spare. `T` is never zero-sized here (it holds a node).
pub(crate) struct SpareBox<T> {
    ptr: NonNull<T>,
}

// SAFETY: a `SpareBox<T>` owns its `T` like a `Box<T>` does.
unsafe impl<T: Send> Send for SpareBox<T> {}
// SAFETY: as for `Send`: `&SpareBox<T>` only gives `&T`.
unsafe impl<T: Sync> Sync for SpareBox<T> {}

impl<T> SpareBox<T> {
    /// `value` on the heap, pinned (it never moves until dropped).
    #[inline]
    pub(crate) fn pin(value: T) -> Pin<SpareBox<T>> {
        let block = take_block(&SPARE, Layout::new::<T>());
        let ptr = block.cast::<T>();
        // SAFETY: the block is valid for writes of a `T` (its layout).
        unsafe { ptr.as_ptr().write(value) };
        // SAFETY: the value is on the heap and `SpareBox` never moves it out
        // (only `Drop` drops it in place), as `Box::into_pin` relies on.
        unsafe { Pin::new_unchecked(SpareBox { ptr }) }
    }
}

impl<T> Deref for SpareBox<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the box owns an initialised `T`.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> DerefMut for SpareBox<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the box owns an initialised `T`, uniquely.
        unsafe { self.ptr.as_mut() }
    }
}

impl<T> Drop for SpareBox<T> {
    #[inline]
    fn drop(&mut self) {
        let layout = Layout::new::<T>();
        // SAFETY: the box owns an initialised `T`; it is dropped once, here.
        unsafe { self.ptr.as_ptr().drop_in_place() };
        // SAFETY: allocated with this layout (by `take_block`), and its value
        // was dropped just above.
        unsafe { give_block(&SPARE, self.ptr.cast(), layout) };
    }
}

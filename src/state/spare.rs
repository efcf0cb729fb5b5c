//! A box for by-value registrations that keeps one freed block per thread for
//! the next one: a `StopCallback` made and dropped in a loop allocates once.
//!
//! Each thread holds at most one spare block (with its layout). Making a box
//! takes the spare if its layout fits, and allocates otherwise; dropping one
//! gives its block back as the spare if the thread has none, and frees it
//! otherwise. The spare is freed when the thread exits; during thread-local
//! destruction the global allocator is used directly.

use core::alloc::Layout;
use core::cell::Cell;
use core::ops::{Deref, DerefMut};
use core::pin::Pin;
use core::ptr::NonNull;
use std::alloc::{alloc, dealloc, handle_alloc_error};

/// The calling thread's spare block, if any.
struct Spare(Cell<Option<(NonNull<u8>, Layout)>>);

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
        let layout = Layout::new::<T>();
        assert!(layout.size() > 0, "SpareBox holds sized, non-empty values");
        let spare = SPARE.try_with(|spare| spare.0.take()).ok().flatten();
        let block = match spare {
            Some((block, spare_layout)) if spare_layout == layout => block,
            other => {
                if let Some((block, spare_layout)) = other {
                    // SAFETY: the spare was allocated with its layout, unused.
                    unsafe { dealloc(block.as_ptr(), spare_layout) };
                }
                // SAFETY: the layout is not zero-sized (checked above).
                let block = unsafe { alloc(layout) };
                NonNull::new(block).unwrap_or_else(|| handle_alloc_error(layout))
            }
        };
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
        let block = self.ptr.cast::<u8>();
        let kept = SPARE
            .try_with(|spare| match spare.0.get() {
                None => {
                    spare.0.set(Some((block, layout)));
                    true
                }
                Some(_) => false,
            })
            .unwrap_or(false);
        if !kept {
            // SAFETY: allocated with this layout (by `alloc`, or kept as the
            // spare with it), and no longer used.
            unsafe { dealloc(block.as_ptr(), layout) };
        }
    }
}

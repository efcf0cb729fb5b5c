//! The heap-allocated state behind `StopSource` and `StopToken`.

use core::pin::Pin;
use core::ptr::NonNull;

use super::{PinnedCallback, StopState};
use crate::sync::{Arc, UnsafeCell};

/// What a source keeps until its last clone is dropped: links registered on
/// other states (`child_of`, `any_of`), a deadline's timer entry. Dropping it
/// deregisters the links and cancels the entry.
pub(crate) type Attachment = Pin<Box<dyn Send + Sync>>;

/// A [`StopState`] shared through an `Arc` by sources and tokens, plus what its
/// sources keep attached to it.
///
/// Invariant: `attachment` is written only by [`Shared::new_attached`] before
/// the `Arc` is handed out, and taken only by the drop of the last source, which
/// happens once; no other code touches it.
pub(crate) struct Shared {
    state: StopState,
    attachment: UnsafeCell<Option<Attachment>>,
}

// SAFETY: `state` is `Sync`; `attachment` is only touched under the invariant
// above (one thread at a time, ordered by the source count decrement).
unsafe impl Sync for Shared {}
// SAFETY: as for `Sync`; the attachment itself is `Send`.
unsafe impl Send for Shared {}

// The attachment is only touched by construction and the last source's drop,
// which leave it consistent whatever panics.
impl std::panic::RefUnwindSafe for Shared {}

impl Shared {
    /// A state with one source and no stop requested.
    pub(crate) fn new() -> Self {
        Shared {
            state: StopState::new(1),
            attachment: UnsafeCell::new(None),
        }
    }

    /// A new shared state (one source) with the attachment that `attach` makes
    /// for it. `attach` may clone the `Arc` and hand the clones out (to register
    /// links that stop it, to a timer), but the attachment is only reachable
    /// through the source that the caller makes of the result.
    pub(crate) fn new_attached(
        attach: impl FnOnce(&Arc<Shared>) -> Option<Attachment>,
    ) -> Arc<Self> {
        let shared = Arc::new(Shared::new());
        if let Some(attachment) = attach(&shared) {
            // No source of `shared` exists yet, so no drop of a last source
            // can race this write, and nothing else touches the slot.
            // SAFETY: as just said.
            let slot = &shared.attachment;
            slot.with_mut(|slot| unsafe { *slot = Some(attachment) });
        }
        shared
    }

    #[inline]
    pub(crate) fn state(&self) -> &StopState {
        &self.state
    }

    /// Counts one source less; the last one drops the attachment, so a gone
    /// child leaves nothing behind in its parents' callback lists, and a gone
    /// deadline source nothing in the timer.
    pub(crate) fn drop_source(&self) {
        if self.state.remove_source() {
            // SAFETY: only the drop of the last source gets here, once; the
            // AcqRel decrement orders it after every other source's use.
            let attachment = self.attachment.with_mut(|slot| unsafe { (*slot).take() });
            drop(attachment);
        }
    }
}

// SAFETY: the `Arc` keeps the `Shared` (and so its state) alive and in place for
// as long as this handle lives, and always points to the same one.
unsafe impl super::StateRef for crate::sync::Arc<Shared> {
    #[inline]
    fn stop_state(&self) -> Option<&StopState> {
        Some(&self.state)
    }
}

/// A pointer to the parent state of a link, read by the link's callback.
struct ParentState(NonNull<StopState>);

// SAFETY: it points to a `StopState`, which is `Sync`, and is only read.
unsafe impl Send for ParentState {}

impl ParentState {
    /// # Safety
    /// The parent state is still alive.
    unsafe fn get(&self) -> &StopState {
        // SAFETY: forwarded from the caller.
        unsafe { self.0.as_ref() }
    }
}

/// The callback of a link: stop `target`, with the reason of `parent`.
fn link_callback(parent: &Arc<Shared>, target: Arc<Shared>) -> impl FnOnce() + Send + 'static {
    let parent = ParentState(NonNull::from(parent.state()));
    move || {
        // SAFETY: this callback runs only while its registration is alive, and
        // the registration holds an `Arc` of the parent (its token); it reads the
        // parent before running any other code.
        let parent = unsafe { parent.get() };
        let reason = parent.stop_reason().cloned().unwrap_or_default();
        target.state.request_stop_if_possible(reason);
    }
}

impl Shared {
    /// Links that stop `target` when any of `parents` is stopped (at once if
    /// one already is), with the reason of the first to stop it; `None` if
    /// there is no parent. One block holds every link (boxed once more to be
    /// type-erased; a single link is boxed alone); dropping it deregisters
    /// them all. Meant for [`Shared::new_attached`].
    pub(crate) fn links(
        target: &Arc<Shared>,
        parents: impl IntoIterator<Item = Arc<Shared>>,
    ) -> Option<Attachment> {
        let mut parents = parents.into_iter();
        let link = |parent: Arc<Shared>| {
            let callback = link_callback(&parent, target.clone());
            PinnedCallback::new(parent, callback)
        };
        let first = parents.next()?;
        let Some(second) = parents.next() else {
            // One parent (`child_of`): one allocation, no slice around it.
            let mut link = Box::pin(link(first));
            link.as_mut().register();
            return Some(link);
        };
        // Sized by the upper bound, so that `into_boxed_slice` need not shrink
        // it when every input is engaged: one block for all the links.
        // (A huge or unknown upper bound falls back to the lower one.)
        let (lower, upper) = parents.size_hint();
        let hint = upper.filter(|&upper| upper <= 4096).unwrap_or(lower);
        let mut links = Vec::with_capacity(hint.saturating_add(2));
        links.extend([first, second].into_iter().chain(parents).map(link));
        let mut links = Box::into_pin(links.into_boxed_slice());
        for index in 0..links.len() {
            if target.state.stop_requested() {
                break; // the rest need not be registered
            }
            // SAFETY: the elements of a pinned slice are pinned with it
            // (structural pinning); none is moved out or swapped.
            let link = unsafe { links.as_mut().map_unchecked_mut(|links| &mut links[index]) };
            link.register();
        }
        Some(Box::pin(links))
    }

    /// A new state (one source) that is stopped when any of `parents` is
    /// stopped; see [`Shared::links`].
    pub(crate) fn new_linked(parents: impl IntoIterator<Item = Arc<Shared>>) -> Arc<Shared> {
        Self::new_attached(|target| Self::links(target, parents))
    }
}

/// Whether two handles name the same state (or both none): the equality of
/// sources and tokens.
#[inline]
pub(crate) fn same_state(a: Option<&Arc<Shared>>, b: Option<&Arc<Shared>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

//! The heap-allocated state behind `StopSource` and `StopToken`.

use core::pin::Pin;

use super::{PinnedCallback, StopState};
use crate::sync::{Arc, UnsafeCell};

/// What a `child_of` source keeps registered on its parent: dropping it
/// deregisters the link callback.
pub(crate) type ParentLink = Pin<Box<dyn Send + Sync>>;

/// A [`StopState`] shared through an `Arc` by sources and tokens, plus the link
/// to a parent state for sources made by `StopSource::child_of`.
///
/// Invariant: `link` is written only by [`Shared::set_link`] while the state is
/// reachable from a single thread, and taken only by the drop of the last source,
/// which happens once; no other code touches it.
pub(crate) struct Shared {
    state: StopState,
    link: UnsafeCell<Option<ParentLink>>,
}

// SAFETY: `state` is `Sync`; `link` is only touched under the invariant above
// (one thread at a time, ordered by the `AcqRel` source count decrement).
unsafe impl Sync for Shared {}
// SAFETY: as for `Sync`; the link itself is `Send`.
unsafe impl Send for Shared {}

// The link is only touched by construction and the last source's drop, which
// leave it consistent whatever panics.
impl std::panic::RefUnwindSafe for Shared {}

impl Shared {
    /// A state with one source and no stop requested.
    pub(crate) fn new() -> Self {
        Shared {
            state: StopState::new(1),
            link: UnsafeCell::new(None),
        }
    }

    #[inline]
    pub(crate) fn state(&self) -> &StopState {
        &self.state
    }

    /// Keeps `link` until the last source of this state is dropped.
    ///
    /// # Safety
    /// No other thread can reach this `Shared`'s `link` yet (other threads may
    /// already hold tokens, which never touch it), and no link was set before.
    pub(crate) unsafe fn set_link(&self, link: ParentLink) {
        // SAFETY: the caller guarantees we are the only thread with access.
        self.link.with_mut(|slot| unsafe { *slot = Some(link) });
    }

    /// Counts one source less; the last one drops the link to the parent, so a
    /// gone child leaves nothing behind in its parent's callback list.
    pub(crate) fn drop_source(&self) {
        if self.state.remove_source() {
            // SAFETY: only the drop of the last source gets here, once; the
            // AcqRel decrement orders it after every other source's use.
            let link = self.link.with_mut(|slot| unsafe { (*slot).take() });
            drop(link);
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

impl Shared {
    /// A new state (one source) that is stopped when `parent` is stopped, at
    /// once if it already is. The link lives until the child's last source goes.
    pub(crate) fn new_child(parent: &Arc<Shared>) -> Arc<Shared> {
        let child = Arc::new(Shared::new());
        let target = child.clone();
        let mut link = Box::pin(PinnedCallback::new(parent.clone(), move || {
            target.state.request_stop_if_possible();
        }));
        link.as_mut().register();
        // SAFETY: `child` was made above and has not been handed out, so no other
        // thread can reach its link; the link callback only touches its `state`.
        unsafe { child.set_link(link) };
        child
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

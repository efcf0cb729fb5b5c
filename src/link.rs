//! Linked sources: `child_of` and `any_of`, states stopped by the stop of
//! other states.
//!
//! The policy lives here; the mechanism (a link node kept in each parent's
//! list for as long as the child state has a handle, and propagation without
//! recursion) is the state module's.

use core::borrow::Borrow;

use crate::state::Shared;
use crate::{StopSource, StopToken};

impl StopSource {
    /// A new engaged source that is stopped when `parent` is stopped (at once if
    /// it already is), with the parent's reason. Its own stop does not reach the
    /// parent.
    ///
    /// The link belongs to the child's *state*, not to this source: it stops the
    /// child for as long as any handle of the child lives, a source or a token,
    /// so `StopSource::child_of(&t).token()` is a token that stops when `t`
    /// stops (tokio-util's `child_token()`). The link is one node in the
    /// parent's list, inside the child's own allocation (one allocation in
    /// all); when the child's last handle goes, the node is removed at once
    /// (O(1)), so children that are gone leave nothing behind in the parent.
    /// A disengaged parent, or one that can no longer be stopped, gives an
    /// unlinked child.
    ///
    /// The parent's stop reaches children, grandchildren and so on at any
    /// depth, exactly once each, before the parent's `request_stop` returns,
    /// without recursion: a million-deep chain is fine on a small stack.
    ///
    /// The child's [`stop_possible`](StopToken::stop_possible) is `true` while
    /// one of its sources lives or its parent can still stop; when the parent
    /// is abandoned (its sources gone without a stop), so is a child with no
    /// source of its own, and threads blocked in its
    /// [`wait`](StopToken::wait) return `false`.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::StopSource;
    ///
    /// let parent = StopSource::new();
    /// let child = StopSource::child_of(&parent.token());
    /// child.request_stop();
    /// assert!(!parent.stop_requested()); // a child's stop stays below
    ///
    /// let child_token = StopSource::child_of(&parent.token()).token();
    /// parent.request_stop();
    /// assert!(child_token.stop_requested()); // a parent's stop reaches the child
    /// ```
    #[must_use = "a source that is dropped at once cannot request a stop; keep it, or keep only `.token()` to observe the parent's stop"]
    pub fn child_of(parent: &StopToken) -> StopSource {
        match parent.shared() {
            Some(parent) => StopSource::from_new(Shared::new_child(parent)),
            None => StopSource::new(),
        }
    }

    /// A new engaged source that is stopped when any of `tokens` is stopped (at
    /// once if one already is), with the reason of the stop that reached it
    /// first. Its own stop reaches none of them.
    ///
    /// It holds one link per engaged token: N nodes in the inputs' lists, kept
    /// together in one allocation, all removed when the last handle of the new
    /// state goes. No thread, no task. Disengaged tokens, and tokens that can
    /// no longer be stopped, add no link. The rules of [`StopSource::child_of`]
    /// (which is `any_of` with one input) apply: the links belong to the state,
    /// so a token of it alone keeps them.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::{StopReason, StopSource};
    ///
    /// let shutdown = StopSource::new();
    /// let client_gone = StopSource::new();
    /// let request = StopSource::any_of([shutdown.token(), client_gone.token()]).token();
    /// assert!(!request.stop_requested());
    /// client_gone.request_stop_with(StopReason::Message("client hung up"));
    /// assert_eq!(request.stop_reason(), Some(&StopReason::Message("client hung up")));
    /// assert!(!shutdown.stop_requested());
    /// ```
    #[must_use = "a source that is dropped at once cannot request a stop; keep it, or keep only `.token()` to observe the inputs' stop"]
    pub fn any_of<I>(tokens: I) -> StopSource
    where
        I: IntoIterator,
        I::Item: Borrow<StopToken>,
    {
        let parents = tokens
            .into_iter()
            .filter_map(|token| token.borrow().shared().cloned());
        StopSource::from_new(Shared::new_linked(parents, None))
    }
}

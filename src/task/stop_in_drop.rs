//! Requesting a stop from a `drop`: the end of a stop group, of a
//! `with_cancellation_token` scope, of a `stop_on_drop` handle, of a request's
//! response future (feature `tower`).
//!
//! All of them go through the one helper of [`StopGuard`](crate::StopGuard)'s
//! module (`src/guard.rs`), which says what becomes of a callback's panic.

pub(crate) use crate::guard::request_stop_in_drop;
#[cfg(feature = "tower")]
pub(crate) use crate::guard::request_stop_with_in_drop;
#[cfg(feature = "tokio-util")]
use crate::StopSource;

/// A source that is stopped when the guard is dropped: the source of a scope
/// whose tokens must not outlive it unstopped (see the module docs of
/// [`task`](super)).
#[cfg(feature = "tokio-util")]
pub(crate) struct StopOnDrop {
    pub(crate) source: StopSource,
    /// Names the owner in the report of a panic that cannot be raised.
    owner: &'static str,
}

#[cfg(feature = "tokio-util")]
impl StopOnDrop {
    pub(crate) fn new(source: StopSource, owner: &'static str) -> Self {
        StopOnDrop { source, owner }
    }
}

#[cfg(feature = "tokio-util")]
impl Drop for StopOnDrop {
    fn drop(&mut self) {
        request_stop_in_drop(&self.source, self.owner);
    }
}

//! Requesting a stop from a `drop`: the end of a stop group, of a
//! `with_cancellation_token` scope, of a `stop_on_drop` handle, of a request's
//! response future (feature `tower`).
//!
//! Each goes through the one helper of [`StopGuard`](crate::StopGuard)'s
//! module (`src/guard.rs`), which says what becomes of a callback's panic.

pub(crate) use crate::guard::request_stop_in_drop;
#[cfg(feature = "tower")]
pub(crate) use crate::guard::request_stop_with_in_drop;

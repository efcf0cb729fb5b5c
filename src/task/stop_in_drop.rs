//! Requesting a stop from a `drop`: the end of a stop group, of a
//! `with_cancellation_token` scope, of a `stop_on_drop` handle, of a request's
//! response future (feature `tower`).
//!
//! `request_stop` runs the stop callbacks inline and re-raises the first panic
//! of one of them once all have run. Raised from a `drop` that runs while the
//! thread is already unwinding, that second panic would abort the process; so
//! while unwinding the request is made inside `catch_unwind`, the callback's
//! panic is reported on standard error and dropped, and the first panic goes
//! on. Outside an unwind the callback's panic propagates from the `drop`, as
//! from any `request_stop`.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::panic_message::panic_message;
use crate::state::drop_payload;
#[cfg(feature = "tower")]
use crate::StopReason;
use crate::StopSource;

/// Requests a stop on `source` from the `drop` of `owner` (named in the
/// report of a panic that cannot be raised).
pub(crate) fn request_stop_in_drop(source: &StopSource, owner: &str) {
    if !std::thread::panicking() {
        source.request_stop();
        return;
    }
    // The stop flag is set before any callback runs, so even a panicking
    // callback leaves the source stopped and every other callback run.
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| source.request_stop())) {
        report(owner, payload);
    }
}

/// [`request_stop_in_drop`] with `reason`.
#[cfg(feature = "tower")]
pub(crate) fn request_stop_with_in_drop(source: &StopSource, reason: StopReason, owner: &str) {
    if !std::thread::panicking() {
        source.request_stop_with(reason);
        return;
    }
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| source.request_stop_with(reason))) {
        report(owner, payload);
    }
}

/// Tells standard error about a callback's panic that a `drop` cannot raise.
#[cold]
fn report(owner: &str, payload: Box<dyn Any + Send>) {
    let message = panic_message(&*payload);
    eprintln!(
        "stoptoken::task: a stop callback panicked in the drop of {owner} while unwinding; \
         the panic is dropped: {message}"
    );
    // A payload whose own `drop` panics would be a panic while unwinding too.
    drop_payload(payload);
}

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

//! `StopGuard`: a source that requests a stop when it is dropped
//! (tokio-util's `DropGuard`), and the one helper that every stop made from a
//! `drop` goes through.
//!
//! `request_stop` runs the stop callbacks inline and re-raises the first panic
//! of one of them once all have run. Raised from a `drop` that runs while the
//! thread is already unwinding, that second panic would abort the process; so
//! while unwinding the request is made inside `catch_unwind`, the callback's
//! panic is reported on standard error and dropped, and the first panic goes
//! on. Outside an unwind the callback's panic propagates from the `drop`, as
//! from any `request_stop`.

use core::fmt;
use std::any::Any;
use std::io::Write;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use crate::panic_message::panic_message;
use crate::state::drop_payload;
use crate::{StopReason, StopSource};

/// A [`StopSource`] that requests a stop when it is dropped; made by
/// [`StopSource::drop_guard`].
///
/// Dropping the last source of a plain state makes a stop *impossible*
/// ([`StopToken::stop_possible`](crate::StopToken::stop_possible) turns
/// `false`); dropping a guard instead stops every token of it, as dropping
/// tokio-util's `DropGuard` cancels its token. [`StopGuard::disarm`] gives
/// the source back without a stop.
///
/// The stop is requested on every exit of the scope that owns the guard,
/// including an unwind. A stop callback that panics in a drop made during an
/// unwind cannot raise its panic (that would abort the process): the panic is
/// reported on standard error and dropped, and the stop still reaches every
/// other callback.
///
/// # Examples
///
/// ```
/// use stoptoken::StopSource;
///
/// let source = StopSource::new();
/// let token = source.token();
/// {
///     let _guard = source.drop_guard();
///     assert!(!token.stop_requested());
/// } // the guard is dropped here, and requests the stop
/// assert!(token.stop_requested());
/// ```
#[must_use = "dropping a StopGuard requests the stop at once"]
pub struct StopGuard {
    /// Invariant: `Some` until `disarm` takes it out (consuming the guard).
    source: Option<StopSource>,
    /// Names the owner in the report of a panic that cannot be raised.
    owner: &'static str,
}

impl StopSource {
    /// Turns this source into a guard that requests a stop when it is dropped
    /// (tokio-util's `CancellationToken::drop_guard`).
    ///
    /// Only this source is moved into the guard: its clones, and the tokens,
    /// are untouched, and may still request the stop before the guard does.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::StopSource;
    ///
    /// let source = StopSource::new();
    /// let token = source.token();
    /// let worker = std::thread::spawn(move || {
    ///     let _stop_on_exit = source.drop_guard();
    ///     // ... work; every return (or panic) of this thread stops `token`
    /// });
    /// worker.join().unwrap();
    /// assert!(token.stop_requested());
    /// ```
    pub fn drop_guard(self) -> StopGuard {
        StopGuard::owned_by(self, "a StopGuard")
    }
}

impl StopGuard {
    /// The crate's own guards (the scope of `with_cancellation_token`, ...):
    /// `owner` names them in the report of a panic that cannot be raised.
    pub(crate) fn owned_by(source: StopSource, owner: &'static str) -> StopGuard {
        StopGuard {
            source: Some(source),
            owner,
        }
    }

    /// Gives the source back without requesting a stop.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::StopSource;
    ///
    /// let guard = StopSource::new().drop_guard();
    /// let token = guard.source().token();
    /// let source = guard.disarm();
    /// assert!(!token.stop_requested()); // no stop on disarm
    /// source.request_stop();
    /// assert!(token.stop_requested());
    /// ```
    pub fn disarm(self) -> StopSource {
        let mut guard = self;
        guard.source.take().unwrap_or_else(StopSource::no_state)
    }

    /// The source that the guard stops when dropped, e.g. to hand out tokens.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::StopSource;
    ///
    /// let guard = StopSource::new().drop_guard();
    /// let token = guard.source().token();
    /// drop(guard);
    /// assert!(token.stop_requested());
    /// ```
    #[must_use]
    #[inline]
    pub fn source(&self) -> &StopSource {
        match &self.source {
            Some(source) => source,
            None => unreachable!("StopGuard: the source is only taken by `disarm`"),
        }
    }
}

impl Drop for StopGuard {
    fn drop(&mut self) {
        if let Some(source) = &self.source {
            request_stop_in_drop(source, self.owner);
        }
    }
}

impl fmt::Debug for StopGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StopGuard")
            .field("source", self.source())
            .finish()
    }
}

/// A panic payload, as `catch_unwind` returns it.
pub(crate) type Payload = Box<dyn Any + Send>;

/// Requests a stop on `source` from the `drop` of `owner` (named in the
/// report of a panic that cannot be raised): a stop callback's panic
/// propagates, unless the thread is already unwinding; then it is reported
/// and dropped.
pub(crate) fn request_stop_in_drop(source: &StopSource, owner: &str) {
    stop_in_drop(source, None, owner);
}

/// [`request_stop_in_drop`] with `reason`.
#[cfg(feature = "tower")]
pub(crate) fn request_stop_with_in_drop(source: &StopSource, reason: StopReason, owner: &str) {
    stop_in_drop(source, Some(reason), owner);
}

fn stop_in_drop(source: &StopSource, reason: Option<StopReason>, owner: &str) {
    if !std::thread::panicking() {
        request(source, reason);
        return;
    }
    // The stop flag is set before any callback runs, so even a panicking
    // callback leaves the source stopped and every other callback run.
    if let Err(payload) = request_stop_catching(source, reason) {
        report(owner, "a stop callback panicked while unwinding", payload);
    }
}

/// `request_stop`, or `request_stop_with(reason)`.
fn request(source: &StopSource, reason: Option<StopReason>) {
    match reason {
        Some(reason) => source.request_stop_with(reason),
        None => source.request_stop(),
    };
}

/// Requests a stop on `source` (with `reason`, if any) and hands a stop
/// callback's panic back instead of raising it, for a caller that has more to
/// do first (a `JThread` joins its thread, a `StopGroup` waits for its units,
/// the signal watcher keeps watching). The stop is requested in any case: the
/// flag is set before the first callback runs, and every callback runs.
pub(crate) fn request_stop_catching(
    source: &StopSource,
    reason: Option<StopReason>,
) -> Result<(), Payload> {
    catch_unwind(AssertUnwindSafe(|| request(source, reason)))
}

/// The one way a `drop` raises a panic that it caught: resumed, or, if the
/// thread is already unwinding (a second panic would abort the process),
/// reported on standard error as coming from the drop of `owner`, and dropped.
pub(crate) fn resume_or_report(payload: Payload, owner: &str) {
    if std::thread::panicking() {
        report(
            owner,
            "a panic could not be resumed while unwinding",
            payload,
        );
    } else {
        resume_unwind(payload);
    }
}

/// Tells standard error about a panic that the drop of `owner` does not
/// raise (`what` says which), and drops it; a payload whose own `drop` panics
/// is leaked, as that would be a panic while unwinding too.
#[cold]
pub(crate) fn report(owner: &str, what: &str, payload: Payload) {
    let message = panic_message(&*payload);
    // Not `eprintln!`, which panics if standard error is closed: this runs
    // while unwinding, where a second panic aborts the process.
    let _ = writeln!(
        std::io::stderr(),
        "stoptoken: {owner}: {what}; the panic is dropped: {message}"
    );
    drop_payload(payload);
}

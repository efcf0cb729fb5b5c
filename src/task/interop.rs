//! Bridges with `tokio_util::sync::CancellationToken` (feature `tokio-util`).
//!
//! - Stop -> cancel, [`CancelOnStop`]: a [`StopCallback`] that calls
//!   `CancellationToken::cancel`, synchronously, inside the `request_stop` that
//!   stops the token. No task, no polling; the bridge lives as long as the
//!   `CancelOnStop` value.
//! - Cancel -> stop: a `CancellationToken` has no synchronous callback, so
//!   something has to await `cancelled()`:
//!   - [`with_cancellation_token`] polls it beside the future it runs (no task);
//!   - [`StopOnCancel`] spawns one small tokio task per bridge, which ends when
//!     the token is cancelled or the `StopOnCancel` is dropped (it is aborted);
//!     a token cancelled already needs no task: the source is stopped at once.

use core::fmt;
use core::future::{poll_fn, Future};
use core::pin::pin;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{current_token, with_stop_token};
use crate::{StopCallback, StopGuard, StopSource, StopToken};

/// A `CancellationToken` that is cancelled when a [`StopToken`] is stopped.
///
/// The cancel runs inside the `request_stop` call, on the requesting thread
/// (at once, in [`CancelOnStop::new`], if the stop was already requested).
/// Dropping the `CancelOnStop` ends the bridge: the `CancellationToken` (and
/// its clones) stays as it is, and is no longer cancelled by the stop.
///
/// # Examples
///
/// ```
/// use stoptoken::task::CancelOnStop;
/// use stoptoken::StopSource;
///
/// let source = StopSource::new();
/// let bridge = CancelOnStop::new(&source.token());
/// let cancel = bridge.cancellation_token().clone(); // hand it to tokio-util APIs
/// assert!(!cancel.is_cancelled());
/// source.request_stop();
/// assert!(cancel.is_cancelled());
/// ```
#[must_use = "keep the CancelOnStop alive: the bridge ends when it is dropped, and a stop no longer cancels the CancellationToken"]
pub struct CancelOnStop {
    cancel: CancellationToken,
    _on_stop: StopCallback<Box<dyn FnOnce() + Send>>,
}

impl CancelOnStop {
    /// A fresh `CancellationToken`, cancelled when `token` is stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::StopSource::new();
    /// source.request_stop();
    /// let bridge = stoptoken::task::CancelOnStop::new(&source.token());
    /// assert!(bridge.cancellation_token().is_cancelled()); // already stopped
    /// ```
    pub fn new(token: &StopToken) -> Self {
        CancelOnStop::with_cancellation_token(token, CancellationToken::new())
    }

    /// Bridges to an existing `CancellationToken`: `cancel` is cancelled when
    /// `token` is stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use tokio_util::sync::CancellationToken;
    ///
    /// let source = stoptoken::StopSource::new();
    /// let cancel = CancellationToken::new();
    /// let _bridge = stoptoken::task::CancelOnStop::with_cancellation_token(&source.token(), cancel.clone());
    /// source.request_stop();
    /// assert!(cancel.is_cancelled());
    /// ```
    pub fn with_cancellation_token(token: &StopToken, cancel: CancellationToken) -> Self {
        let on_cancel = cancel.clone();
        let callback: Box<dyn FnOnce() + Send> = Box::new(move || on_cancel.cancel());
        CancelOnStop {
            cancel,
            _on_stop: StopCallback::new(token, callback),
        }
    }

    /// The bridged `CancellationToken`.
    ///
    /// # Examples
    ///
    /// ```
    /// let bridge = stoptoken::task::CancelOnStop::new(&stoptoken::StopToken::default());
    /// assert!(!bridge.cancellation_token().is_cancelled()); // a disengaged token never stops
    /// ```
    #[must_use]
    #[inline]
    pub fn cancellation_token(&self) -> &CancellationToken {
        &self.cancel
    }
}

impl fmt::Debug for CancelOnStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelOnStop")
            .field("cancelled", &self.cancel.is_cancelled())
            .finish_non_exhaustive()
    }
}

/// A [`StopSource`] that is stopped when a `CancellationToken` is cancelled,
/// through a small tokio task awaiting `cancelled()`.
///
/// The task ends when the token is cancelled (after stopping the source) or
/// when the `StopOnCancel` is dropped (the task is aborted; the source's
/// tokens then stay unstopped, and are no longer stoppable unless other clones
/// of the source remain). A token that is cancelled already when the bridge is
/// made needs no task: the source is stopped inside [`new`](StopOnCancel::new).
/// In async code, [`with_cancellation_token`] needs no task.
///
/// # Examples
///
/// ```
/// use stoptoken::task::StopOnCancel;
/// use tokio_util::sync::CancellationToken;
///
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// runtime.block_on(async {
///     let cancel = CancellationToken::new();
///     let bridge = StopOnCancel::new(&cancel);
///     let token = bridge.stop_token();
///     cancel.cancel();
///     token.stopped().await; // stopped by the bridge's task
/// });
/// ```
#[must_use = "keep the StopOnCancel alive: dropping it aborts its watcher task, and a cancellation no longer stops its tokens"]
pub struct StopOnCancel {
    source: StopSource,
    /// `None` when the token was cancelled already at `new`.
    watcher: Option<JoinHandle<()>>,
}

impl StopOnCancel {
    /// Starts the bridge on the current tokio runtime; if `cancel` is
    /// cancelled already, stops the source at once instead (no task, no
    /// runtime needed).
    ///
    /// # Panics
    ///
    /// Panics if called outside a tokio runtime while `cancel` is not
    /// cancelled, like `tokio::spawn`.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let _guard = runtime.enter(); // any tokio context will do
    /// let cancel = tokio_util::sync::CancellationToken::new();
    /// let bridge = stoptoken::task::StopOnCancel::new(&cancel);
    /// assert!(bridge.stop_token().stop_possible());
    /// ```
    ///
    /// A token cancelled already stops the source before `new` returns:
    ///
    /// ```
    /// let cancel = tokio_util::sync::CancellationToken::new();
    /// cancel.cancel();
    /// let bridge = stoptoken::task::StopOnCancel::new(&cancel); // no runtime needed
    /// assert!(bridge.stop_token().stop_requested());
    /// ```
    pub fn new(cancel: &CancellationToken) -> Self {
        let source = StopSource::new();
        let watcher = if cancel.is_cancelled() {
            source.request_stop();
            None
        } else {
            // A cancel that comes between the check and the spawn is seen by
            // the watcher's first poll.
            Some(tokio::spawn(stop_when_cancelled(
                cancel.clone(),
                source.clone(),
            )))
        };
        StopOnCancel { source, watcher }
    }

    /// A token of the bridged source (the name that `JThread`, `thread::Scope`
    /// and `StopHandle` use for the token of the source they own).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let _guard = runtime.enter();
    /// let bridge = stoptoken::task::StopOnCancel::new(&Default::default());
    /// assert!(!bridge.stop_token().stop_requested());
    /// ```
    #[must_use]
    #[inline]
    pub fn stop_token(&self) -> StopToken {
        self.source.token()
    }

    /// The old name of [`stop_token`](StopOnCancel::stop_token).
    ///
    /// # Examples
    ///
    /// ```
    /// # #![allow(deprecated)]
    /// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let _guard = runtime.enter();
    /// let bridge = stoptoken::task::StopOnCancel::new(&Default::default());
    /// assert_eq!(bridge.token(), bridge.stop_token());
    /// ```
    #[deprecated(
        since = "0.2.0",
        note = "renamed `stop_token`, as on `JThread`, `thread::Scope` and `StopHandle`"
    )]
    #[must_use]
    #[inline]
    pub fn token(&self) -> StopToken {
        self.stop_token()
    }

    /// Lends the bridged source: it can also be stopped directly (as
    /// [`StopGuard::source`](crate::StopGuard::source) lends a guard's).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let _guard = runtime.enter();
    /// let bridge = stoptoken::task::StopOnCancel::new(&Default::default());
    /// assert!(bridge.source().request_stop());
    /// ```
    #[must_use]
    #[inline]
    pub fn source(&self) -> &StopSource {
        &self.source
    }

    /// The old name of [`source`](StopOnCancel::source). `stop_source()`
    /// returns a new handle (a clone) everywhere else
    /// ([`JThread::stop_source`](crate::JThread::stop_source), as C++
    /// `get_stop_source`); this one lends.
    ///
    /// # Examples
    ///
    /// ```
    /// # #![allow(deprecated)]
    /// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let _guard = runtime.enter();
    /// let bridge = stoptoken::task::StopOnCancel::new(&Default::default());
    /// assert_eq!(bridge.stop_source(), bridge.source());
    /// ```
    #[deprecated(
        since = "0.2.0",
        note = "renamed `source`: it lends the source, and `stop_source()` returns a clone elsewhere"
    )]
    #[must_use]
    #[inline]
    pub fn stop_source(&self) -> &StopSource {
        self.source()
    }
}

async fn stop_when_cancelled(cancel: CancellationToken, source: StopSource) {
    cancel.cancelled().await;
    source.request_stop();
}

impl Drop for StopOnCancel {
    fn drop(&mut self) {
        if let Some(watcher) = &self.watcher {
            watcher.abort();
        }
    }
}

impl fmt::Debug for StopOnCancel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StopOnCancel")
            .field("stop_requested", &self.source.stop_requested())
            .finish_non_exhaustive()
    }
}

/// Runs `future` with a child token of the [current token](super::current_token)
/// as its current token, which is also stopped when `cancel` is cancelled.
///
/// `cancel.cancelled()` is polled beside `future` (no task is spawned). The
/// cancellation is a stop request, not an abort: `future` keeps being polled
/// and finishes in its own way.
///
/// The child token belongs to this call: when it returns (or is dropped),
/// the token is stopped, after `future` has been dropped, so that what was
/// linked below it (a task [spawned](super::spawn) inside, a
/// `StopSource::child_of(&current_token())`) is asked to stop instead of
/// losing its link to the parent (see [structured
/// lifetimes](super#structured-lifetimes)).
///
/// # Examples
///
/// ```
/// use stoptoken::task::{current_token, with_cancellation_token};
/// use tokio_util::sync::CancellationToken;
///
/// let cancel = CancellationToken::new();
/// let trigger = cancel.clone();
/// let outcome = futures::executor::block_on(with_cancellation_token(cancel, async move {
///     trigger.cancel(); // e.g. from a tokio-util based shutdown
///     current_token().stopped().await;
///     "stopped by the cancellation"
/// }));
/// assert_eq!(outcome, "stopped by the cancellation");
/// ```
pub async fn with_cancellation_token<F: Future>(cancel: CancellationToken, future: F) -> F::Output {
    // Declared before the future, so dropped (and stopped) after it.
    let scope = StopGuard::owned_by(
        StopSource::child_of(&current_token()),
        "a with_cancellation_token scope",
    );
    let mut future = pin!(with_stop_token(scope.source().token(), future));
    let mut cancelled = pin!(cancel.cancelled());
    let mut watching = true;
    poll_fn(|cx| {
        if watching && cancelled.as_mut().poll(cx).is_ready() {
            watching = false;
            scope.source().request_stop();
        }
        future.as_mut().poll(cx)
    })
    .await
}

//! Non-owning stop state (C++26 `std::inplace_stop_source` and friends).

use core::fmt;

use crate::callback::ByValue;
use std::time::Duration;

use crate::state::{wait_on, CallbackToken, StopFuture, StopState};
use crate::{StopReason, Stopped};

/// A stop source that holds its stop state inline (C++26
/// `std::inplace_stop_source`): no shared ownership, no allocation.
///
/// Its tokens borrow it, so it cannot move or be dropped while any token or
/// callback of it is alive. [`InplaceStopSource::new`] is a `const fn`, so a
/// `static` source works. Creating the source, taking tokens, requesting the stop
/// and running callbacks allocate nothing; registering through
/// [`PinnedCallback`](crate::PinnedCallback) allocates nothing either.
///
/// # Examples
///
/// ```
/// use stoptoken::{InplaceStopCallback, InplaceStopSource};
///
/// static SHUTDOWN: InplaceStopSource = InplaceStopSource::new();
///
/// let token = SHUTDOWN.token();
/// let _callback = InplaceStopCallback::new(token, || println!("shutting down"));
/// assert!(SHUTDOWN.request_stop());
/// assert!(token.stop_requested());
/// ```
pub struct InplaceStopSource {
    state: StopState,
}

// `new` stays a `const fn` whatever cfg a downstream crate builds with (CI
// builds the library with `--cfg loom` to check it).
#[cfg(not(stoptoken_loom))]
const _: InplaceStopSource = InplaceStopSource::new();

impl InplaceStopSource {
    /// A source that has not been stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// const SOURCE: stoptoken::InplaceStopSource = stoptoken::InplaceStopSource::new();
    /// ```
    #[cfg(not(stoptoken_loom))]
    pub const fn new() -> Self {
        InplaceStopSource {
            state: StopState::new(1),
        }
    }

    /// A source that has not been stopped (not `const` in the crate's own
    /// loom models, `--cfg stoptoken_loom`; a downstream crate's `--cfg loom`
    /// leaves it `const`).
    #[cfg(stoptoken_loom)]
    pub fn new() -> Self {
        InplaceStopSource {
            state: StopState::new(1),
        }
    }

    /// A token that borrows this source.
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::InplaceStopSource::new();
    /// assert_eq!(source.token(), source.token());
    /// ```
    #[must_use]
    #[inline]
    pub fn token(&self) -> InplaceStopToken<'_> {
        InplaceStopToken {
            state: Some(&self.state),
        }
    }

    /// Requests a stop; `true` only for the first request, which runs every
    /// registered callback on this thread before it returns (the rules of
    /// [`StopSource::request_stop`](crate::StopSource::request_stop)).
    ///
    /// # Panics
    /// Resumes the first panic of a callback, after all callbacks have run.
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::InplaceStopSource::new();
    /// assert!(source.request_stop());
    /// assert!(!source.request_stop());
    /// ```
    #[inline]
    pub fn request_stop(&self) -> bool {
        self.state.request_stop()
    }

    /// Requests a stop recording `reason` if it is the first request (the
    /// rules of [`StopSource::request_stop_with`](crate::StopSource::request_stop_with)).
    /// A reason other than [`StopReason::Custom`] is stored without allocating.
    ///
    /// # Panics
    /// Resumes the first panic of a callback, after all callbacks have run.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::{InplaceStopSource, StopReason};
    ///
    /// let source = InplaceStopSource::new();
    /// assert!(source.request_stop_with(StopReason::Message("done")));
    /// assert_eq!(source.token().stop_reason(), Some(&StopReason::Message("done")));
    /// ```
    #[inline]
    pub fn request_stop_with(&self, reason: StopReason) -> bool {
        self.state.request_stop_with(reason)
    }

    /// The reason of the first stop request; `None` before it.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::{InplaceStopSource, StopReason};
    ///
    /// let source = InplaceStopSource::new();
    /// assert_eq!(source.stop_reason(), None);
    /// source.request_stop();
    /// assert_eq!(source.stop_reason(), Some(&StopReason::Requested));
    /// ```
    #[must_use]
    #[inline]
    pub fn stop_reason(&self) -> Option<&StopReason> {
        self.state.stop_reason()
    }

    /// Whether a stop was requested.
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::InplaceStopSource::new();
    /// source.request_stop();
    /// assert!(source.stop_requested());
    /// ```
    #[must_use]
    #[inline]
    pub fn stop_requested(&self) -> bool {
        self.state.stop_requested()
    }

    /// Always `true`: an inplace source always has its state.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(stoptoken::InplaceStopSource::new().stop_possible());
    /// ```
    #[must_use]
    #[inline]
    pub fn stop_possible(&self) -> bool {
        true
    }
}

impl Default for InplaceStopSource {
    fn default() -> Self {
        InplaceStopSource::new()
    }
}

impl fmt::Debug for InplaceStopSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InplaceStopSource")
            .field("stop_requested", &self.stop_requested())
            .finish()
    }
}

/// A token of an [`InplaceStopSource`], borrowing it (C++26
/// `std::inplace_stop_token`). `Copy`; `Default` is disengaged; two tokens are
/// equal when they name the same source (or both none).
///
/// # Examples
///
/// ```
/// let source = stoptoken::InplaceStopSource::new();
/// let token = source.token();
/// std::thread::scope(|s| {
///     s.spawn(move || while !token.stop_requested() { std::thread::yield_now() });
///     source.request_stop();
/// });
/// ```
#[derive(Clone, Copy, Default)]
pub struct InplaceStopToken<'a> {
    state: Option<&'a StopState>,
}

impl InplaceStopToken<'_> {
    /// Whether a stop was requested on the source.
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::InplaceStopSource::new();
    /// source.request_stop();
    /// assert!(source.token().stop_requested());
    /// ```
    #[must_use]
    #[inline]
    pub fn stop_requested(&self) -> bool {
        self.state.is_some_and(StopState::stop_requested)
    }

    /// `Err(Stopped)` once the source was stopped, `Ok(())` before (see
    /// [`StopToken::check`](crate::StopToken::check)).
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::InplaceStopSource::new();
    /// assert_eq!(source.token().check(), Ok(()));
    /// source.request_stop();
    /// assert_eq!(source.token().check(), Err(stoptoken::Stopped));
    /// ```
    #[inline]
    pub fn check(&self) -> Result<(), Stopped> {
        Stopped::check(self.stop_requested())
    }

    /// Whether the token is engaged (made by a source, not by `default`).
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::{InplaceStopSource, InplaceStopToken};
    ///
    /// assert!(InplaceStopSource::new().token().stop_possible());
    /// assert!(!InplaceStopToken::default().stop_possible());
    /// ```
    #[must_use]
    #[inline]
    pub fn stop_possible(&self) -> bool {
        self.state.is_some()
    }
}

impl<'a> InplaceStopToken<'a> {
    /// The reason of the first stop request; `None` until the stop (and always
    /// for a disengaged token). It borrows from the source, not the token.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::{InplaceStopSource, StopReason};
    ///
    /// let source = InplaceStopSource::new();
    /// let token = source.token();
    /// source.request_stop_with(StopReason::Signal(2));
    /// assert_eq!(token.stop_reason(), Some(&StopReason::Signal(2)));
    /// ```
    #[must_use]
    #[inline]
    pub fn stop_reason(&self) -> Option<&'a StopReason> {
        self.state?.stop_reason()
    }

    /// Blocks until the source is stopped (`true`); returns `false` at once for
    /// a disengaged token. The source outlives the token, so a wait on an
    /// engaged token only ends with a stop. See [`StopToken::wait`](crate::StopToken::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::InplaceStopSource::new();
    /// std::thread::scope(|s| {
    ///     let token = source.token();
    ///     let waiter = s.spawn(move || token.wait());
    ///     source.request_stop();
    ///     assert!(waiter.join().unwrap());
    /// });
    /// ```
    pub fn wait(&self) -> bool {
        wait_on(self.state, None)
    }

    /// Like [`InplaceStopToken::wait`], but gives up after `timeout` (`false`).
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::InplaceStopSource::new();
    /// assert!(!source.token().wait_timeout(std::time::Duration::from_millis(1)));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        wait_on(self.state, Some(timeout))
    }

    /// A future that completes when the source is stopped (at once if it
    /// already is); see [`StopFuture`]. It allocates nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::InplaceStopSource::new();
    /// use std::future::Future;
    /// let mut future = std::pin::pin!(source.token().stopped());
    /// let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// assert!(future.as_mut().poll(&mut cx).is_pending());
    /// source.request_stop();
    /// assert!(future.as_mut().poll(&mut cx).is_ready());
    /// ```
    #[inline]
    pub fn stopped(self) -> StopFuture<InplaceStopToken<'a>> {
        StopFuture::new(self)
    }
}

// SAFETY: the borrow keeps the source, and so its state, alive and in place for
// `'a`, and a token never changes which state it names.
unsafe impl CallbackToken for InplaceStopToken<'_> {
    #[inline]
    fn stop_state(&self) -> Option<&StopState> {
        self.state
    }
}

impl PartialEq for InplaceStopToken<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self.state, other.state) {
            (Some(a), Some(b)) => core::ptr::eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

impl Eq for InplaceStopToken<'_> {}

impl fmt::Debug for InplaceStopToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.state {
            Some(state) => f
                .debug_struct("InplaceStopToken")
                .field("stop_requested", &state.stop_requested())
                .finish(),
            None => f.write_str("InplaceStopToken(no state)"),
        }
    }
}

/// Runs a callback when an [`InplaceStopSource`] is stopped (C++26
/// `std::inplace_stop_callback`), with the same registration and
/// deregistration rules as [`StopCallback`](crate::StopCallback).
///
/// The by-value form allocates its node once, when it registers; the pinned
/// [`PinnedCallback`](crate::PinnedCallback) allocates nothing.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use stoptoken::{InplaceStopCallback, InplaceStopSource};
///
/// static CALLS: AtomicUsize = AtomicUsize::new(0);
/// let source = InplaceStopSource::new();
/// let callback = InplaceStopCallback::new(source.token(), || {
///     CALLS.fetch_add(1, Ordering::Relaxed);
/// });
/// source.request_stop();
/// drop(callback);
/// assert_eq!(CALLS.load(Ordering::Relaxed), 1);
/// ```
#[must_use = "dropping an InplaceStopCallback deregisters its callback at once"]
pub struct InplaceStopCallback<'a, F: FnOnce() + Send + 'static> {
    inner: ByValue<InplaceStopToken<'a>, F>,
}

impl<'a, F: FnOnce() + Send + 'static> InplaceStopCallback<'a, F> {
    /// Registers `callback` with the token's source; a disengaged token registers
    /// nothing, a stopped one runs `callback` here, at once.
    ///
    /// # Panics
    /// A panic of `callback` run at once propagates.
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::InplaceStopSource::new();
    /// let _callback = stoptoken::InplaceStopCallback::new(source.token(), || println!("stop"));
    /// source.request_stop(); // prints "stop"
    /// ```
    pub fn new(token: InplaceStopToken<'a>, callback: F) -> Self {
        InplaceStopCallback {
            inner: ByValue::new(&token, callback),
        }
    }
}

impl<F: FnOnce() + Send + 'static> fmt::Debug for InplaceStopCallback<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InplaceStopCallback")
            .field("registered", &self.inner.is_registered())
            .finish_non_exhaustive()
    }
}

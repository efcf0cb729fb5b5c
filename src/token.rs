//! `StopToken`: the side that observes a stop (C++ `std::stop_token`).

use core::fmt;

use std::time::{Duration, Instant};

use crate::state::{same_state, wait_on, CallbackToken, SharedRef, StopFuture, StopState};
use crate::{StopReason, Stopped};

/// Observes the stop state of a [`StopSource`](crate::StopSource) (C++
/// `std::stop_token`).
///
/// A token shares ownership of the state (it keeps it alive) but cannot request
/// a stop. Cloning is one atomic increment; [`StopToken::stop_requested`] is one
/// atomic load. `StopToken::default()` is disengaged: it never reports a stop.
///
/// # Examples
///
/// ```
/// use stoptoken::StopSource;
///
/// let source = StopSource::new();
/// let token = source.token();
/// let worker = std::thread::spawn(move || {
///     let mut rounds = 0u64;
///     while !token.stop_requested() {
///         rounds += 1;
///         std::thread::yield_now();
///     }
///     rounds
/// });
/// source.request_stop();
/// worker.join().unwrap();
/// ```
#[derive(Default)]
pub struct StopToken {
    shared: Option<SharedRef>,
}

impl StopToken {
    #[inline]
    pub(crate) fn from_shared(shared: Option<SharedRef>) -> Self {
        StopToken { shared }
    }

    #[inline]
    pub(crate) fn shared(&self) -> Option<&SharedRef> {
        self.shared.as_ref()
    }

    /// Whether a stop was requested on the state. Everything the requesting
    /// thread did before its `request_stop` is visible to a caller that sees
    /// `true`.
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::StopSource::new();
    /// let token = source.token();
    /// assert!(!token.stop_requested());
    /// source.request_stop();
    /// assert!(token.stop_requested());
    /// ```
    #[must_use]
    #[inline]
    pub fn stop_requested(&self) -> bool {
        self.shared
            .as_ref()
            .is_some_and(|shared| shared.state().stop_requested())
    }

    /// `Err(Stopped)` once a stop was requested, `Ok(())` before: the
    /// [`stop_requested`](StopToken::stop_requested) check in the shape `?`
    /// wants, for loops and for rayon's `try_for_each`. One atomic load.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::{StopSource, StopToken, Stopped};
    ///
    /// fn sum(values: &[u64], token: &StopToken) -> Result<u64, Stopped> {
    ///     let mut total = 0;
    ///     for chunk in values.chunks(1024) {
    ///         token.check()?;
    ///         total += chunk.iter().sum::<u64>();
    ///     }
    ///     Ok(total)
    /// }
    ///
    /// let source = StopSource::new();
    /// assert_eq!(sum(&[1, 2, 3], &source.token()), Ok(6));
    /// source.request_stop();
    /// assert_eq!(sum(&[1, 2, 3], &source.token()), Err(Stopped));
    /// ```
    #[inline]
    pub fn check(&self) -> Result<(), Stopped> {
        Stopped::check(self.stop_requested())
    }

    /// Whether a stop can still be seen through this token: `true` if a stop
    /// was requested, or one can still come (a source of the state lives, or a
    /// link made by [`StopSource::child_of`](crate::StopSource::child_of) /
    /// [`StopSource::any_of`](crate::StopSource::any_of) whose parent can still
    /// stop, or a pending deadline); `false` if the token is disengaged or
    /// none of these remains. Once `false`, it stays `false`.
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::StopSource::new();
    /// let token = source.token();
    /// assert!(token.stop_possible());
    /// drop(source); // the last source, no stop requested
    /// assert!(!token.stop_possible());
    /// assert!(!stoptoken::StopToken::default().stop_possible());
    /// ```
    #[must_use]
    #[inline]
    pub fn stop_possible(&self) -> bool {
        self.shared
            .as_ref()
            .is_some_and(|shared| shared.state().stop_possible())
    }

    /// The reason of the first stop request; `None` until [`stop_requested`]
    /// returns `true` (and always for a disengaged token). The reason is
    /// published before the stop flag, so a thread that sees the stop always
    /// finds it; see [`StopReason`].
    ///
    /// [`stop_requested`]: StopToken::stop_requested
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::{StopReason, StopSource};
    ///
    /// let source = StopSource::new();
    /// let token = source.token();
    /// let watcher = std::thread::spawn(move || {
    ///     token.wait();
    ///     token.stop_reason().cloned()
    /// });
    /// source.request_stop_with(StopReason::Message("reload"));
    /// assert_eq!(watcher.join().unwrap(), Some(StopReason::Message("reload")));
    /// ```
    #[must_use]
    #[inline]
    pub fn stop_reason(&self) -> Option<&StopReason> {
        self.shared.as_ref()?.state().stop_reason()
    }

    /// The earliest instant at which a deadline linked into this token's state
    /// will stop it: its own ([`StopSource::with_deadline`](crate::StopSource::with_deadline),
    /// [`after`](crate::StopSource::after)), or a parent's or an any-of
    /// input's, at any depth; `None` if no deadline will (and for a
    /// disengaged token). It is fixed when the state is made, so reading it is
    /// one load; after the deadline has fired it still returns that instant
    /// (a deadline that had passed when the state was made gives `None`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use stoptoken::StopSource;
    ///
    /// let at = Instant::now() + Duration::from_secs(60);
    /// let budget = StopSource::with_deadline(at);
    /// let request = StopSource::child_of(&budget.token());
    /// assert_eq!(request.token().deadline(), Some(at)); // inherited
    /// assert_eq!(StopSource::new().token().deadline(), None);
    /// ```
    #[must_use]
    #[inline]
    pub fn deadline(&self) -> Option<Instant> {
        self.shared.as_ref()?.deadline()
    }

    /// Blocks the calling thread until a stop is requested; returns `true` then.
    ///
    /// Returns `false` instead when no stop can come: at once for a token
    /// that is disengaged or whose state is abandoned (see
    /// [`stop_possible`](StopToken::stop_possible)), and as soon as it is
    /// abandoned during the wait, say by the drop of the last source (so the
    /// wait can never hang on a state that can no longer be stopped). The thread parks (no spinning, no polling); the stop
    /// request unparks it through a stop callback, so it returns within scheduler
    /// latency. Nothing is allocated.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::StopSource;
    ///
    /// let source = StopSource::new();
    /// let token = source.token();
    /// let waiter = std::thread::spawn(move || token.wait());
    /// source.request_stop();
    /// assert!(waiter.join().unwrap());
    ///
    /// let abandoned = StopSource::new();
    /// let token = abandoned.token();
    /// let waiter = std::thread::spawn(move || token.wait());
    /// drop(abandoned); // the last source: no stop can come
    /// assert!(!waiter.join().unwrap());
    /// ```
    pub fn wait(&self) -> bool {
        let state = self.shared.as_ref().map(|shared| shared.state());
        wait_on(state, None)
    }

    /// Like [`StopToken::wait`], but gives up after `timeout`: `true` if a stop
    /// was requested, `false` if the time ran out or no stop can come.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use stoptoken::StopSource;
    ///
    /// let source = StopSource::new();
    /// assert!(!source.token().wait_timeout(Duration::from_millis(1)));
    /// source.request_stop();
    /// assert!(source.token().wait_timeout(Duration::from_secs(3600)));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let state = self.shared.as_ref().map(|shared| shared.state());
        wait_on(state, Some(timeout))
    }

    /// A future that completes when a stop is requested (at once if one already
    /// was); it borrows the token. Dropping it deregisters its waker.
    ///
    /// Polling it is runtime-agnostic: it works under tokio, smol/async-std or
    /// `futures::executor::block_on`. It never completes on a token whose stop
    /// is impossible; see [`StopFuture`].
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::StopSource::new();
    /// let token = source.token();
    /// source.request_stop();
    /// // Already stopped: completes on its first poll.
    /// use std::future::Future;
    /// let mut future = std::pin::pin!(token.stopped());
    /// let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// assert!(future.as_mut().poll(&mut cx).is_ready());
    /// ```
    #[inline]
    pub fn stopped(&self) -> StopFuture<&StopToken> {
        StopFuture::new(self)
    }

    /// Like [`StopToken::stopped`], but the future owns the token, so it is
    /// `'static` and can be moved into a spawned task.
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::StopSource::new();
    /// let future = source.token().into_stopped();
    /// fn spawnable<F: std::future::Future + Send + 'static>(_: F) {}
    /// spawnable(future);
    /// ```
    #[inline]
    pub fn into_stopped(self) -> StopFuture<StopToken> {
        StopFuture::new(self)
    }
}

// SAFETY: the handle keeps the state alive and in place while the token lives,
// and a token never changes which state it holds.
unsafe impl CallbackToken for StopToken {
    #[inline]
    fn stop_state(&self) -> Option<&StopState> {
        self.shared.as_ref().map(|shared| shared.state())
    }

    #[inline]
    fn with_stop_state<R>(&self, f: impl FnOnce(&StopState) -> R) -> Option<R> {
        // `f` inside the branch on the handle, not after a branch on
        // `stop_state`'s result (see the trait).
        self.shared.as_ref().map(|shared| f(shared.state()))
    }
}

impl Clone for StopToken {
    /// Another token of the same state: one atomic increment.
    #[inline]
    fn clone(&self) -> Self {
        // Not derived: see `SharedRef::clone_option`.
        StopToken {
            shared: SharedRef::clone_option(&self.shared),
        }
    }
}

impl PartialEq for StopToken {
    /// Same state, or both disengaged.
    fn eq(&self, other: &Self) -> bool {
        same_state(self.shared.as_ref(), other.shared.as_ref())
    }
}

impl Eq for StopToken {}

impl fmt::Debug for StopToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.shared {
            Some(shared) => f
                .debug_struct("StopToken")
                .field("stop_requested", &shared.state().stop_requested())
                .field("stop_possible", &shared.state().stop_possible())
                .finish(),
            None => f.write_str("StopToken(no state)"),
        }
    }
}

//! `StopToken`: the side that observes a stop (C++ `std::stop_token`).

use core::fmt;

use crate::state::{same_state, Shared, StateRef, StopFuture, StopState};
use crate::sync::Arc;

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
#[derive(Clone, Default)]
pub struct StopToken {
    shared: Option<Arc<Shared>>,
}

impl StopToken {
    #[inline]
    pub(crate) fn from_shared(shared: Option<Arc<Shared>>) -> Self {
        StopToken { shared }
    }

    #[inline]
    pub(crate) fn shared(&self) -> Option<&Arc<Shared>> {
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
    #[inline]
    pub fn stop_requested(&self) -> bool {
        self.shared
            .as_ref()
            .is_some_and(|shared| shared.state().stop_requested())
    }

    /// Whether a stop can still be seen through this token: `false` if it is
    /// disengaged, or if no stop was requested and no source of the state remains.
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
    #[inline]
    pub fn stop_possible(&self) -> bool {
        self.shared
            .as_ref()
            .is_some_and(|shared| shared.state().stop_possible())
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

// SAFETY: the `Arc` keeps the state alive and in place while the token lives,
// and a token never changes which state it holds.
unsafe impl StateRef for StopToken {
    #[inline]
    fn stop_state(&self) -> Option<&StopState> {
        self.shared.as_ref().map(|shared| shared.state())
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

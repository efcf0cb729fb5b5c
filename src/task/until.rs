//! `until_stopped`: run a future until it completes or a token is stopped,
//! whichever comes first.
//!
//! The race is polled stop-first: on each poll the token's [`StopFuture`]
//! (allocation-free, registered in the stop state) is polled before the inner
//! future, so once a poll sees the stop the outcome is `Err(Stopped)`, even if
//! the inner future would have completed in that same poll. The inner future
//! is dropped before the `Err` is returned, so its destructors have run when the
//! caller sees the outcome.
//!
//! [`StopFuture`]: crate::StopFuture

//! [`UntilStopped`] is a named future, so that it can be stored in a struct
//! or returned from a trait method. Its one `unsafe` is the pin projection of
//! its two pinned fields: see the invariant on the type.

use core::borrow::Borrow;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use super::current_token;
use crate::{StopFuture, StopToken, Stopped};

/// Runs `future` until it completes, or until the [current
/// token](super::current_token) is stopped: then the inner future is dropped
/// and the outcome is `Err(Stopped)`.
///
/// The current token is read at the first poll, so
/// `with_stop_token(token, until_stopped(work))` watches `token`. If it is
/// already stopped then, `future` is dropped without being polled. With no
/// current token (outside any `with_stop_token`) it simply runs `future`.
/// See [`until_stopped_with`] for the poll order and an explicit token.
///
/// # Examples
///
/// ```
/// use stoptoken::task::{until_stopped, with_stop_token};
/// use stoptoken::{StopSource, Stopped};
///
/// let source = StopSource::new();
/// let outcome = futures::executor::block_on(with_stop_token(source.token(), async {
///     source.request_stop(); // e.g. from another task or thread
///     until_stopped(std::future::pending::<()>()).await
/// }));
/// assert_eq!(outcome, Err(Stopped));
/// ```
pub fn until_stopped<F: Future>(future: F) -> UntilStopped<F> {
    UntilStopped::new(None, future)
}

/// Runs `future` until it completes, or until `token` is stopped: then the
/// inner future is dropped and the outcome is `Err(Stopped)`.
///
/// `token` may be a `StopToken` or a `&StopToken`. If it is already stopped at
/// the first poll, `future` is dropped without being polled. Each poll then
/// checks the stop first (through an allocation-free
/// [`StopFuture`](crate::StopFuture) that wakes the task on the stop) and polls
/// `future` only if no stop is seen; a stop wins a tie. A token that can never
/// be stopped just runs `future`. The current token seen inside `future` is not
/// changed: combine with [`with_stop_token`](super::with_stop_token) for that.
///
/// # Examples
///
/// ```
/// use stoptoken::task::until_stopped_with;
/// use stoptoken::{StopSource, Stopped};
///
/// let source = StopSource::new();
/// let done = futures::executor::block_on(until_stopped_with(&source.token(), async { 42 }));
/// assert_eq!(done, Ok(42));
///
/// source.request_stop();
/// let cut = futures::executor::block_on(until_stopped_with(source.token(), async { 42 }));
/// assert_eq!(cut, Err(Stopped)); // stopped before the first poll: never polled
/// ```
pub fn until_stopped_with<B, F>(token: B, future: F) -> UntilStopped<F>
where
    B: Borrow<StopToken>,
    F: Future,
{
    UntilStopped::new(Some(token.borrow().clone()), future)
}

/// The future of [`until_stopped`], [`until_stopped_with`] and
/// [`FutureExt::until_stopped`](super::FutureExt::until_stopped): `future`'s
/// output, or `Err(Stopped)` if the token is stopped first (the inner future
/// is dropped then, before the `Err` is returned).
///
/// # Panics
///
/// Polling it again after it returned `Ready` panics.
///
/// # Examples
///
/// ```
/// use stoptoken::task::{until_stopped_with, UntilStopped};
/// use stoptoken::{StopSource, Stopped};
///
/// struct Job {
///     run: UntilStopped<std::future::Ready<u32>>, // a named type: it can be a field
/// }
///
/// let source = StopSource::new();
/// let job = Job { run: until_stopped_with(source.token(), std::future::ready(7)) };
/// assert_eq!(futures::executor::block_on(job.run), Ok(7));
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct UntilStopped<F> {
    /// The token to watch; `None` for the current token, read at the first
    /// poll. Taken by the first poll.
    token: Option<StopToken>,
    /// The stop, watched from the first poll on.
    ///
    /// Invariant (structural pinning): once `self` is pinned, `stopped` and
    /// `future` are never moved out of, only replaced or dropped in place
    /// (`Pin::set`); `UntilStopped` has no `Drop` of its own, and it is
    /// `Unpin` only when both fields are.
    stopped: Option<StopFuture<StopToken>>,
    /// `None` once the outcome is known: the inner future is dropped then.
    future: Option<F>,
}

impl<F> UntilStopped<F> {
    fn new(token: Option<StopToken>, future: F) -> Self {
        UntilStopped {
            token,
            stopped: None,
            future: Some(future),
        }
    }

    /// The pinned projection of the fields.
    #[allow(clippy::type_complexity)]
    fn project(
        self: Pin<&mut Self>,
    ) -> (
        &mut Option<StopToken>,
        Pin<&mut Option<StopFuture<StopToken>>>,
        Pin<&mut Option<F>>,
    ) {
        // SAFETY: `stopped` and `future` are structurally pinned (the
        // invariant on the type): they are only handed out pinned, and nothing
        // moves out of them. `token` is not pinned, and is handed out as `&mut`.
        unsafe {
            let this = self.get_unchecked_mut();
            (
                &mut this.token,
                Pin::new_unchecked(&mut this.stopped),
                Pin::new_unchecked(&mut this.future),
            )
        }
    }
}

impl<F: Future> Future for UntilStopped<F> {
    type Output = Result<F::Output, Stopped>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (token, mut stopped, mut future) = self.project();
        if stopped.is_none() && future.is_some() {
            let token = token.take().unwrap_or_else(current_token);
            stopped.set(Some(token.into_stopped()));
        }
        // Stop first: a stop wins a tie, and an already stopped token never
        // lets the inner future be polled.
        if let Some(stop) = stopped.as_mut().as_pin_mut() {
            if stop.poll(cx).is_ready() {
                future.set(None);
                stopped.set(None);
                return Poll::Ready(Err(Stopped));
            }
        }
        let Some(running) = future.as_mut().as_pin_mut() else {
            panic!("UntilStopped polled after it completed");
        };
        let output = running.poll(cx);
        if output.is_ready() {
            future.set(None);
            stopped.set(None);
        }
        output.map(Ok)
    }
}

impl<F> fmt::Debug for UntilStopped<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UntilStopped")
            .field("finished", &self.future.is_none())
            .finish_non_exhaustive()
    }
}

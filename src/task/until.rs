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

use core::borrow::Borrow;
use core::future::{poll_fn, Future};
use core::pin::pin;
use core::task::Poll;

use super::current_token;
use crate::{StopToken, Stopped};

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
pub async fn until_stopped<F: Future>(future: F) -> Result<F::Output, Stopped> {
    until_stopped_with(current_token(), future).await
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
pub async fn until_stopped_with<B, F>(token: B, future: F) -> Result<F::Output, Stopped>
where
    B: Borrow<StopToken>,
    F: Future,
{
    let token = token.borrow();
    if token.stop_requested() {
        return Err(Stopped);
    }
    let mut stopped = pin!(token.stopped());
    let mut future = pin!(future);
    poll_fn(|cx| {
        if stopped.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(Stopped));
        }
        future.as_mut().poll(cx).map(Ok)
    })
    .await
}

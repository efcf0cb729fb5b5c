//! The current token: a thread-local slot that a [`with_stop_token`] future
//! fills for the duration of each poll of the future it wraps.
//!
//! The protocol: the wrapper owns its token (`Option<StopToken>`). For one poll
//! it *moves* the token into the thread's slot, keeping the slot's previous
//! value, polls the inner future, and then moves the token back out and the
//! previous value back in; a guard does the restoring, so an unwinding poll
//! restores too. Installation is thus two `Cell::replace`s, with no reference
//! count traffic, and nesting works as a stack: an inner wrapper shadows the
//! outer token for its own polls and gives it back when they return. Because
//! the slot is filled only inside a poll, a task that a multi-threaded runtime
//! moves between threads finds its token on whichever thread polls it.
//!
//! The wrapped future is dropped the same way, inside one more such scope: as
//! soon as it completes (in the poll that completed it), or, if the wrapper is
//! dropped first, in the wrapper's drop, whether it was polled or not. So the
//! `Drop` of anything the future owns sees the token through `current_token()`
//! too.

use core::cell::Cell;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::StopToken;

thread_local! {
    /// The token of the innermost `with_stop_token` being polled on this thread.
    static CURRENT: Cell<Option<StopToken>> = const { Cell::new(None) };
}

/// The stop token of the task being polled on this thread: the token of the
/// innermost [`with_stop_token`] around the calling code, or a disengaged
/// `StopToken::default()` outside any.
///
/// This is C++ Capy's `co_await this_coro::stop_token`. It costs a clone of the
/// token (one atomic increment, none for a disengaged token). Call it from
/// inside the future (an `async` block or `poll`), not when building it: code
/// that runs before the first poll is outside the wrapper.
///
/// # Examples
///
/// ```
/// use stoptoken::task::{current_token, with_stop_token};
/// use stoptoken::StopSource;
///
/// async fn deep() -> bool {
///     current_token().stop_requested()
/// }
///
/// let source = StopSource::new();
/// source.request_stop();
/// let seen = futures::executor::block_on(with_stop_token(source.token(), async {
///     deep().await // any depth sees the token
/// }));
/// assert!(seen);
/// assert!(!current_token().stop_possible()); // outside: disengaged
/// ```
///
/// # Spawned tasks lose it
///
/// The token is current only inside the polls of a `with_stop_token` future,
/// so a task handed to a plain `tokio::spawn` (or any executor's `spawn`) from
/// inside one runs outside it: there `current_token()` is a disengaged token
/// that is never stopped, silently. Wrap the spawned future in
/// `with_stop_token(current_token(), ..)` (taken before the spawn), or use
/// `task::spawn` (feature `tokio`), which does that with a child token. Code
/// that must not run unstoppable can tell the two cases apart with
/// [`try_current_token`].
pub fn current_token() -> StopToken {
    try_current_token().unwrap_or_default()
}

/// The current token, as [`current_token`] returns it, or `None` outside any
/// [`with_stop_token`] (for instance in a task spawned with a plain
/// `tokio::spawn` from inside one: see [`current_token`]).
///
/// A `with_stop_token(StopToken::default(), ..)` makes a disengaged token
/// current on purpose: inside it this returns `Some` of that token.
///
/// # Examples
///
/// ```
/// use stoptoken::task::{try_current_token, with_stop_token};
/// use stoptoken::StopSource;
///
/// assert_eq!(try_current_token(), None); // not inside any with_stop_token
///
/// let source = StopSource::new();
/// let inside = futures::executor::block_on(with_stop_token(source.token(), async {
///     try_current_token()
/// }));
/// assert_eq!(inside, Some(source.token()));
/// ```
pub fn try_current_token() -> Option<StopToken> {
    CURRENT
        .try_with(|slot| {
            let token = slot.take();
            let copy = token.clone();
            slot.set(token);
            copy
        })
        .ok()
        .flatten()
}

/// Runs `future` with `token` as its current token: every future awaited
/// inside it, at any depth, sees `token` through [`current_token`].
///
/// The token is installed in a thread-local for the duration of each poll of
/// `future` and the previous value restored afterwards (also when the poll
/// panics), so it follows the task across the threads of a multi-threaded
/// runtime. A nested `with_stop_token` shadows the outer token inside it. Tasks
/// spawned from inside do not inherit the token (they are polled elsewhere):
/// wrap them too, or use `task::spawn` (feature `tokio`), which does.
/// Conversely, whatever is polled *inside* the wrapper's poll sees the token:
/// wrap the tasks, not an executor's run loop (such as smol's
/// `Executor::run(..)`), or every task that loop polls inherits the token.
///
/// `future` is also dropped with `token` as the current token: in the poll
/// that completes it, or in the drop of the wrapper if that comes first (the
/// task is aborted, a `select!` drops the branch, [`until_stopped`] gives up
/// on it), also before the first poll; so the `Drop` of anything it owns sees
/// the token.
///
/// [`until_stopped`]: super::until_stopped
///
/// The returned [`WithStopToken`] holds `future` in place, with no
/// allocation.
///
/// # Examples
///
/// ```
/// use stoptoken::task::{current_token, with_stop_token};
/// use stoptoken::StopSource;
///
/// let outer = StopSource::new();
/// let inner = StopSource::new();
/// let (outer_token, inner_token) = (outer.token(), inner.token());
/// futures::executor::block_on(with_stop_token(outer.token(), async move {
///     assert_eq!(current_token(), outer_token);
///     with_stop_token(inner_token.clone(), async move {
///         assert_eq!(current_token(), inner_token); // shadowed
///     })
///     .await;
///     assert_eq!(current_token(), outer_token); // restored
/// }));
/// ```
///
/// A guard dropped with the future sees the token too:
///
/// ```
/// use std::future::Future;
/// use std::task::{Context, Waker};
/// use stoptoken::task::{current_token, with_stop_token};
/// use stoptoken::StopSource;
///
/// struct Cleanup;
/// impl Drop for Cleanup {
///     fn drop(&mut self) {
///         // e.g. cut the cleanup short when the operation was stopped
///         assert!(current_token().stop_requested());
///     }
/// }
///
/// let source = StopSource::new();
/// let mut started = Box::pin(with_stop_token(source.token(), async {
///     let _cleanup = Cleanup;
///     std::future::pending::<()>().await
/// }));
/// let mut cx = Context::from_waker(Waker::noop());
/// assert!(started.as_mut().poll(&mut cx).is_pending());
/// source.request_stop();
/// drop(started); // `Cleanup::drop` runs with the token current
/// ```
pub fn with_stop_token<F: Future>(token: StopToken, future: F) -> WithStopToken<F> {
    WithStopToken {
        token: Some(token),
        future: Some(future),
    }
}

/// The future of [`with_stop_token`] and
/// [`FutureExt::with_stop_token`](super::FutureExt::with_stop_token): `future`
/// polled, and dropped, with a token as the current token.
///
/// # Panics
///
/// Polling it again after it returned `Ready` panics.
///
/// # Examples
///
/// ```
/// use stoptoken::task::{current_token, with_stop_token, WithStopToken};
/// use stoptoken::StopSource;
///
/// fn observed(source: &StopSource) -> WithStopToken<impl std::future::Future<Output = bool>> {
///     with_stop_token(source.token(), async { current_token().stop_possible() })
/// }
///
/// let source = StopSource::new();
/// assert!(futures::executor::block_on(observed(&source)));
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct WithStopToken<F> {
    /// The token installed around each poll and around the drop of `future`;
    /// empty only while it is installed.
    token: Option<StopToken>,
    /// `None` once it has completed (it is dropped in the poll that completes
    /// it).
    ///
    /// Invariant (structural pinning): once `self` is pinned, `future` is never
    /// moved out of, only dropped in place (`Pin::set`, or an assignment in
    /// `drop`); `WithStopToken` is `Unpin` only when `F` is.
    future: Option<F>,
}

impl<F: Future> Future for WithStopToken<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned (the invariant on the type):
        // it is only used through `Pin::new_unchecked` below and dropped in
        // place; `token` is not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above, `future` is never moved while `self` is pinned.
        let mut future = unsafe { Pin::new_unchecked(&mut this.future) };
        scoped(&mut this.token, || {
            let Some(running) = future.as_mut().as_pin_mut() else {
                panic!("WithStopToken polled after it completed");
            };
            let output = running.poll(cx);
            if output.is_ready() {
                // Dropped in place (it is pinned), while the token is current.
                future.set(None);
            }
            output
        })
    }
}

impl<F> Drop for WithStopToken<F> {
    fn drop(&mut self) {
        if self.future.is_some() {
            let future = &mut self.future;
            // The assignment drops the future in place, with the token current.
            scoped(&mut self.token, || *future = None);
        }
    }
}

impl<F> fmt::Debug for WithStopToken<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithStopToken")
            .field("token", &self.token)
            .field("finished", &self.future.is_none())
            .finish()
    }
}

/// Runs `body` with the token in `*slot` as the current token, then puts it
/// back into `*slot` and restores the previous current token, also on unwind.
///
/// If the thread-local is gone (a poll during thread teardown), `body` runs
/// without installing anything.
pub(crate) fn scoped<R>(slot: &mut Option<StopToken>, body: impl FnOnce() -> R) -> R {
    /// Invariant: `slot` is empty while its token is installed in `CURRENT`.
    struct Restore<'a> {
        slot: &'a mut Option<StopToken>,
        previous: Option<StopToken>,
    }

    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            let previous = self.previous.take();
            // If the thread-local were destroyed during `body`, the token is
            // lost with it and the slot stays disengaged: nothing unsound.
            if let Ok(token) = CURRENT.try_with(|current| current.replace(previous)) {
                *self.slot = token;
            }
        }
    }

    // The closure runs only if the thread-local is alive; otherwise the token
    // stays in `slot`.
    match CURRENT.try_with(|current| current.replace(slot.take())) {
        Ok(previous) => {
            let _restore = Restore { slot, previous };
            body()
        }
        Err(_) => body(),
    }
}

//! Launching futures on tokio with a stop token (feature `tokio`).
//!
//! A launched task gets its own [`StopSource`], a child of the token it is
//! launched with, and runs under [`with_stop_token`] with that source's token;
//! the [`StopHandle`] keeps one clone of the source (for `request_stop`) and the
//! task keeps another, so the task stays linked to its parent token for as
//! long as it runs, even when the handle is dropped.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use tokio::runtime::Handle;
use tokio::task::{JoinError, JoinHandle};

use super::{current_token, with_stop_token};
use crate::guard::request_stop_in_drop;
use crate::{StopSource, StopToken};

/// A handle to a task launched by [`spawn`] or [`run_async`]: await it for the
/// task's output, or ask the task to stop.
///
/// Awaiting it gives `Ok(output)`, or the `JoinError` of a task that panicked
/// or was [aborted](StopHandle::abort). A stop is cooperative: the task sees
/// it through [`current_token`] and decides how to finish; awaiting the handle
/// then gives whatever it returned.
///
/// Dropping the handle detaches the task, like dropping a tokio `JoinHandle`:
/// it runs on and can still be stopped through its parent token. Call
/// [`stop_on_drop`](StopHandle::stop_on_drop) to request its stop on drop
/// instead.
///
/// # Examples
///
/// ```
/// use stoptoken::task::{current_token, spawn};
///
/// let runtime = tokio::runtime::Builder::new_multi_thread().build().unwrap();
/// runtime.block_on(async {
///     let handle = spawn(async {
///         current_token().stopped().await;
///         "stopped cleanly"
///     });
///     assert!(handle.request_stop());
///     assert_eq!(handle.await.unwrap(), "stopped cleanly");
/// });
/// ```
#[must_use = "dropping a StopHandle detaches its task"]
pub struct StopHandle<T> {
    join: JoinHandle<T>,
    source: StopSource,
    stop_on_drop: bool,
}

/// Spawns `future` on the current tokio runtime, with a fresh child token of
/// the [current token](super::current_token) as its current token.
///
/// A stop of the caller's current token reaches the task; the returned handle
/// can stop the task alone. See [`StopHandle`] for awaiting and dropping it,
/// and [`run_async`] to launch on a given runtime with a given token.
///
/// Spawned from inside a [`when_all`](fn@super::when_all) /
/// [`when_any`](fn@super::when_any) child, the task is linked to that
/// combinator's stop group, and the group is stopped when the combinator
/// ends (completes or is dropped): a detached task is asked to stop when the
/// combinator that spawned it ends, and until then every stop that reaches
/// the group (a stop of the combinator's own current token, such as a server
/// shutdown, a sibling's failure, a winner) reaches the task. The same holds
/// inside a `with_cancellation_token` scope (feature `tokio-util`). The task
/// is not awaited: to keep its work inside the combinator, await the handle
/// in the child; to let it outlive the combinator, launch it with
/// [`run_async`] and a token from outside (see [structured
/// lifetimes](super#structured-lifetimes)).
///
/// # Panics
///
/// Panics if called outside a tokio runtime, like `tokio::spawn`.
///
/// # Examples
///
/// ```
/// use stoptoken::task::{current_token, spawn, with_stop_token};
/// use stoptoken::StopSource;
///
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// let parent = StopSource::new();
/// runtime.block_on(with_stop_token(parent.token(), async {
///     let child = spawn(async { current_token().stopped().await });
///     parent.request_stop(); // reaches the spawned task
///     child.await.unwrap();
/// }));
/// ```
///
/// A task spawned by a `when_all` child is stopped when the `when_all` ends:
///
/// ```
/// use stoptoken::task::{current_token, spawn, when_all};
///
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// runtime.block_on(async {
///     let (detached, ()) = when_all((
///         async { Ok::<_, ()>(spawn(async { current_token().stopped().await })) },
///         async { Ok(()) },
///     ))
///     .await
///     .unwrap();
///     assert!(detached.stop_token().stop_requested());
///     detached.await.unwrap(); // it saw the stop and returned
/// });
/// ```
pub fn spawn<F>(future: F) -> StopHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let source = StopSource::child_of(&current_token());
    let join = tokio::spawn(linked(source.clone(), future));
    StopHandle::new(join, source)
}

/// Spawns `future` on the runtime behind `runtime`, with a fresh child token
/// of `token` as its current token (C++ Capy's `run_async(executor, token)`).
///
/// A stop of `token` reaches the task; the returned handle can stop the task
/// alone. It can be called from any thread, inside a runtime or not.
///
/// # Examples
///
/// ```
/// use stoptoken::task::{current_token, run_async};
/// use stoptoken::StopSource;
///
/// let runtime = tokio::runtime::Builder::new_multi_thread().build().unwrap();
/// let shutdown = StopSource::new();
/// let worker = run_async(runtime.handle(), &shutdown.token(), async {
///     current_token().stopped().await;
///     "shut down"
/// });
/// shutdown.request_stop();
/// assert_eq!(runtime.block_on(worker).unwrap(), "shut down");
/// ```
pub fn run_async<F>(runtime: &Handle, token: &StopToken, future: F) -> StopHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let source = StopSource::child_of(token);
    let join = runtime.spawn(linked(source.clone(), future));
    StopHandle::new(join, source)
}

/// The task's body: its own clone of the source keeps the link to the parent
/// token while it runs.
async fn linked<F: Future>(source: StopSource, future: F) -> F::Output {
    with_stop_token(source.token(), future).await
}

impl<T> StopHandle<T> {
    fn new(join: JoinHandle<T>, source: StopSource) -> Self {
        StopHandle {
            join,
            source,
            stop_on_drop: false,
        }
    }

    /// Asks the task to stop; `true` if this call made the first stop request
    /// on the task's token (see [`StopSource::request_stop`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// runtime.block_on(async {
    ///     let handle = stoptoken::task::spawn(std::future::ready(()));
    ///     assert!(handle.request_stop());
    ///     assert!(!handle.request_stop()); // already requested
    /// });
    /// ```
    #[inline]
    pub fn request_stop(&self) -> bool {
        self.source.request_stop()
    }

    /// The task's token: the one it sees as its current token.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// runtime.block_on(async {
    ///     let handle = stoptoken::task::spawn(async { stoptoken::task::current_token() });
    ///     let token = handle.stop_token();
    ///     assert_eq!(handle.await.unwrap(), token);
    /// });
    /// ```
    #[must_use]
    #[inline]
    pub fn stop_token(&self) -> StopToken {
        self.source.token()
    }

    /// Whether the task has finished (returned, panicked or was aborted).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// runtime.block_on(async {
    ///     let handle = stoptoken::task::spawn(std::future::pending::<()>());
    ///     assert!(!handle.is_finished());
    ///     handle.abort();
    /// });
    /// ```
    #[must_use]
    #[inline]
    pub fn is_finished(&self) -> bool {
        self.join.is_finished()
    }

    /// Aborts the task the tokio way: it is dropped at its next `.await`,
    /// without a chance to finish cleanly; awaiting the handle then gives a
    /// cancelled `JoinError`. Prefer [`request_stop`](StopHandle::request_stop).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// runtime.block_on(async {
    ///     let handle = stoptoken::task::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        self.join.abort();
    }

    /// A handle that aborts the task without owning its output (for a stop
    /// group's deadline).
    pub(crate) fn abort_handle(&self) -> tokio::task::AbortHandle {
        self.join.abort_handle()
    }

    /// Makes dropping this handle request the task's stop (it is not
    /// aborted: it still finishes on its own, detached).
    ///
    /// The stop runs the stop callbacks registered on the task's token inside
    /// the drop. If one panics, its panic propagates from the drop, as from
    /// [`request_stop`](StopHandle::request_stop); but when the handle is
    /// dropped while the thread is already unwinding from another panic, that
    /// second panic would abort the process, so it is caught instead, reported
    /// on standard error and dropped (the stop itself is still requested, and
    /// every other callback still runs).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// runtime.block_on(async {
    ///     let handle = stoptoken::task::spawn(std::future::pending::<()>()).stop_on_drop();
    ///     let token = handle.stop_token();
    ///     drop(handle);
    ///     assert!(token.stop_requested());
    /// });
    /// ```
    pub fn stop_on_drop(mut self) -> Self {
        self.stop_on_drop = true;
        self
    }
}

impl<T> Future for StopHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.join).poll(cx)
    }
}

impl<T> Drop for StopHandle<T> {
    fn drop(&mut self) {
        if self.stop_on_drop {
            request_stop_in_drop(&self.source, "a stop_on_drop StopHandle");
        }
    }
}

impl<T> fmt::Debug for StopHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StopHandle")
            .field("stop_requested", &self.source.stop_requested())
            .field("finished", &self.join.is_finished())
            .field("stop_on_drop", &self.stop_on_drop)
            .finish()
    }
}

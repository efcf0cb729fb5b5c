//! `StopGroup::spawn`: tokio tasks as units of a group (feature `tokio`).

use core::future::{poll_fn, Future};
use core::pin::pin;
use std::borrow::Cow;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use tokio::runtime::Handle;

use super::registry::{Kind, Outcome, UnitGuard};
use super::StopGroup;
use crate::task::{run_async, StopHandle};

impl StopGroup {
    /// Spawns `future` on the current tokio runtime as a unit named `name`,
    /// with a child token of the group's as its
    /// [current token](crate::task::current_token); the task is a unit until
    /// it ends (completes, panics, is aborted, or its runtime shuts down).
    ///
    /// The returned [`StopHandle`] stops this task alone; dropping it detaches
    /// the task, which stays counted. A panic of the task is recorded under
    /// `name` in the reports' [`panicked`](super::ShutdownReport::panicked) and
    /// then goes on to the handle, as usual. A [`shutdown`](StopGroup::shutdown)
    /// aborts the task if it is still running at the deadline.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, like `tokio::spawn`.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::task::current_token;
    /// use stoptoken::StopGroup;
    ///
    /// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let group = StopGroup::new();
    /// runtime.block_on(async {
    ///     let task = group.spawn("listener", async {
    ///         current_token().stopped().await;
    ///         "stopped"
    ///     });
    ///     assert_eq!(group.len(), 1);
    ///     group.request_stop();
    ///     assert_eq!(task.await.unwrap(), "stopped");
    ///     group.drained().await;
    /// });
    /// ```
    pub fn spawn<F>(&self, name: impl Into<Cow<'static, str>>, future: F) -> StopHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let unit = self
            .registry
            .insert(name.into(), Kind::Task { abort: None });
        let key = unit.key();
        let handle = run_async(&Handle::current(), &self.token(), counted(unit, future));
        let abort = handle.abort_handle();
        self.registry
            .set_abort(key, Box::new(move || abort.abort()));
        handle
    }
}

/// The task's body: ends `unit` when `future` is dropped, `Finished` if it
/// completed, `Panicked` if a poll panicked, `Cancelled` if it was dropped
/// unfinished. `future` is declared after `unit`, so it is dropped first.
async fn counted<F: Future>(mut unit: UnitGuard, future: F) -> F::Output {
    let mut future = pin!(future);
    let output = poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(payload) => {
                unit.set_outcome(Outcome::Panicked);
                resume_unwind(payload)
            }
        },
    )
    .await;
    unit.set_outcome(Outcome::Finished);
    output
}

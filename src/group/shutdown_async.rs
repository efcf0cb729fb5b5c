//! `StopGroup::shutdown_async`: the drain with a deadline, awaited (features
//! `tokio` or `timer`).

use core::future::{poll_fn, Future};
use core::pin::{pin, Pin};
use core::task::Poll;
use std::time::{Duration, Instant};

use super::{ShutdownReport, StopGroup};
use crate::task::{sleep, with_stop_token};
use crate::StopToken;

impl StopGroup {
    /// Requests the stop, waits up to `grace` for every unit to end, and
    /// reports, without blocking the thread: [`shutdown`](StopGroup::shutdown)
    /// for async code (tasks still running at the deadline are aborted).
    ///
    /// The deadline is a [`task::sleep`](crate::task::sleep) (the timer of
    /// the `tokio` or `timer` feature, see [sleeping](crate::task#sleeping)),
    /// run with a disengaged current token: the caller's current token being
    /// stopped, as it usually is during a shutdown, does not cut the grace
    /// short.
    ///
    /// # Panics
    ///
    /// If a stop callback panics in the stop request, as
    /// [`StopSource::request_stop`](crate::StopSource::request_stop) does; and
    /// as `task::sleep` does (with the `tokio` feature alone, outside a tokio
    /// runtime with time enabled).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use stoptoken::task::current_token;
    /// use stoptoken::StopGroup;
    ///
    /// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// let group = StopGroup::new();
    /// let report = runtime.block_on(async {
    ///     group.spawn("polite", async { current_token().stopped().await });
    ///     group.spawn("stuck", std::future::pending::<()>());
    ///     group.shutdown_async(Duration::from_millis(50)).await
    /// });
    /// assert_eq!(report.unfinished(), ["stuck"]); // and aborted
    /// assert_eq!(report.finished(), 1);
    /// ```
    pub async fn shutdown_async(&self, grace: Duration) -> ShutdownReport {
        let started = Instant::now();
        self.source.request_stop();
        if !grace.is_zero() {
            let mut drained = self.drained();
            if started.checked_add(grace).is_none() {
                (&mut drained).await;
            } else {
                let left = grace.saturating_sub(started.elapsed());
                let mut deadline = pin!(with_stop_token(StopToken::default(), sleep(left)));
                poll_fn(|cx| {
                    if Pin::new(&mut drained).poll(cx).is_ready() {
                        return Poll::Ready(());
                    }
                    deadline.as_mut().poll(cx).map(drop)
                })
                .await;
            }
        }
        self.registry.report(started)
    }
}

//! `Drained`: the future of a group's drain, for any executor.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::fmt;

use super::registry::Registry;

/// The future returned by [`StopGroup::drained`](super::StopGroup::drained):
/// ready once no unit of the group is running.
///
/// It needs no runtime: a pending poll stores the waker in the group's
/// registry, and the end of the last unit wakes it (from whichever thread
/// that unit ends on). Dropping it unfinished removes its waker. It does not
/// request a stop.
///
/// # Examples
///
/// ```
/// let group = stoptoken::StopGroup::new();
/// let job = group.track("job");
/// let drained = group.drained();
/// std::thread::spawn(move || drop(job));
/// futures::executor::block_on(drained);
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Drained<'a> {
    registry: &'a Registry,
    /// The id of this future's waker in the registry, once it stored one.
    waiter: Option<u64>,
}

impl<'a> Drained<'a> {
    pub(super) fn new(registry: &'a Registry) -> Self {
        Drained {
            registry,
            waiter: None,
        }
    }
}

impl Future for Drained<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        this.registry.poll_drained(&mut this.waiter, cx)
    }
}

impl Drop for Drained<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.waiter {
            self.registry.forget_waiter(id);
        }
    }
}

impl fmt::Debug for Drained<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Drained")
            .field("registered", &self.waiter.is_some())
            .finish()
    }
}

//! Stop groups: track the work a stop is sent to, and drain it within a
//! deadline (graceful shutdown).
//!
//! A [`StopGroup`] is a stop source plus a count of the *units* started under
//! it: threads from [`spawn_thread`](StopGroup::spawn_thread), tokio tasks from
//! `spawn` (feature `tokio`), and anything else (a connection, a blocking job)
//! through [`track`](StopGroup::track). Each unit gets a child token of the
//! group's token, so one [`request_stop`](StopGroup::request_stop) reaches every
//! unit at once, and the waits ([`wait`](StopGroup::wait),
//! [`wait_timeout`](StopGroup::wait_timeout), the [`drained`](StopGroup::drained)
//! future) end when the last unit does. [`shutdown`](StopGroup::shutdown) (and
//! `shutdown_async`, features `tokio` or `timer`) puts it together: stop, wait up
//! to a grace period, and say in a [`ShutdownReport`] what finished, what did not
//! and what panicked.
//!
//! ```
//! use std::time::Duration;
//! use stoptoken::StopGroup;
//!
//! let group = StopGroup::new(); // StopGroup::child_of(&signals.token()) in a service
//! for i in 0..3 {
//!     let worker = group.spawn_thread(format!("worker {i}"), |token| {
//!         while !token.stop_requested() {
//!             std::thread::yield_now(); // a unit of work
//!         }
//!     })?;
//!     worker.detach(); // still counted until its function returns
//! }
//! let job = group.track("flush"); // any other unit, counted until dropped
//! drop(job);
//! let report = group.shutdown(Duration::from_secs(5));
//! assert!(report.is_clean());
//! assert_eq!(report.finished(), 4);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Choices
//!
//! - **What a unit is.** A thread is counted from `spawn_thread` until its
//!   function returns or panics, whether its [`JThread`](crate::JThread) is joined, dropped or
//!   detached (thread-local destructors may still run after). A task is
//!   counted until its future is dropped: when it completes, panics, is
//!   aborted, or its runtime shuts down. A [`Tracked`] is counted until it is
//!   dropped.
//! - **Outcomes.** A unit that returns (a `Tracked` dropped normally) counts in
//!   [`finished`](ShutdownReport::finished); one that panics (a `Tracked`
//!   dropped while its thread unwinds) is named in
//!   [`panicked`](ShutdownReport::panicked). Both are totals over the group's
//!   whole life, not over one shutdown, so a second shutdown's report repeats
//!   the first's and reports are the same whenever the stop came. A task that
//!   was dropped before completing (aborted, or its runtime shut down) counts in
//!   neither. A report's [`unfinished`](ShutdownReport::unfinished) names the
//!   units live when it was made, in the order they started.
//! - **Late units.** A unit added after the stop starts with a stopped token
//!   and is counted like any other: a drain waits for it too.
//! - **The deadline.** `shutdown(grace)` requests the stop (reason
//!   [`StopReason::Requested`](crate::StopReason) unless one was requested
//!   already), waits until no unit runs or `grace` has passed, and reports. Tasks
//!   still running then are aborted (tokio's `abort`: dropped at their next
//!   `.await`; the report does not wait for that); threads and tracked units
//!   cannot be cut short and are left to finish on their own. A zero grace
//!   reports at once. Shutdowns may be called any number of times, also
//!   concurrently: each waits on its own and returns its own report.
//! - **Drop.** Dropping a group requests its stop (one request reaches every
//!   unit, so all wind down at once), then waits for its threads, without a
//!   deadline, as a [`JThread`](crate::JThread) does; not for tasks (a drop inside the runtime
//!   would block the threads they need) nor tracked units. A group dropped on
//!   one of its own threads (the thread held its last handle) does not wait for
//!   that thread. Call [`shutdown`](StopGroup::shutdown) first for a bound.
//! - **Waiting from inside.** A unit that waits for its own group to drain
//!   waits for itself: forever, or until the timeout.
//!
//! The count and the drain wait are one mutex-protected registry, with the
//! protocol in `src/group/registry.rs`; the waits never miss an end
//! (`tests/loom_group.rs`).

mod drained;
mod registry;
mod report;
mod thread;
mod tracked;

#[cfg(any(feature = "tokio", feature = "timer"))]
mod shutdown_async;
#[cfg(feature = "tokio")]
mod tokio;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use drained::Drained;
pub use report::ShutdownReport;
pub use tracked::Tracked;

use registry::{Kind, Registry};

use crate::guard::{request_stop_catching, resume_or_report};
use crate::{StopReason, StopSource, StopToken};

/// A stop source plus a count of the units of work started under it: stop
/// them all at once, wait for them to drain, and learn what did not.
///
/// See the [module docs](self) for the rules it follows. It is `Send + Sync`:
/// share it behind an `Arc` with the code that starts units.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use stoptoken::StopGroup;
///
/// let group = StopGroup::new();
/// let worker = group.spawn_thread("worker", |token| {
///     token.wait(); // until the group's stop
/// })?;
/// worker.detach();
/// assert_eq!(group.len(), 1);
/// let report = group.shutdown(Duration::from_secs(10));
/// assert!(report.is_clean());
/// assert!(group.is_empty());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct StopGroup {
    source: StopSource,
    registry: Arc<Registry>,
}

impl StopGroup {
    /// A group with a fresh stop source and no unit.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = stoptoken::StopGroup::new();
    /// assert!(group.is_empty());
    /// assert!(!group.stop_requested());
    /// ```
    pub fn new() -> StopGroup {
        StopGroup::with_source(StopSource::new())
    }

    /// A group stopped when `parent` is (at once if it already is), with the
    /// parent's reason: a service's group under a signal source. Its own stop
    /// does not reach the parent.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::{StopGroup, StopSource};
    ///
    /// let shutdown = StopSource::new();
    /// let group = StopGroup::child_of(&shutdown.token());
    /// shutdown.request_stop();
    /// assert!(group.stop_requested());
    /// ```
    pub fn child_of(parent: &StopToken) -> StopGroup {
        StopGroup::with_source(StopSource::child_of(parent))
    }

    fn with_source(source: StopSource) -> StopGroup {
        StopGroup {
            source,
            registry: Registry::new(),
        }
    }

    /// A token of the group's stop source (each unit gets a child of it).
    ///
    /// # Examples
    ///
    /// ```
    /// let group = stoptoken::StopGroup::new();
    /// let token = group.token();
    /// group.request_stop();
    /// assert!(token.stop_requested());
    /// ```
    #[inline]
    pub fn token(&self) -> StopToken {
        self.source.token()
    }

    /// Requests the stop of every unit; `true` for the first request (see
    /// [`StopSource::request_stop`], whose callbacks run here, and whose
    /// `# Panics` apply).
    ///
    /// # Examples
    ///
    /// ```
    /// let group = stoptoken::StopGroup::new();
    /// let job = group.track("job");
    /// assert!(group.request_stop());
    /// assert!(!group.request_stop());
    /// assert!(job.token().stop_requested());
    /// ```
    #[inline]
    pub fn request_stop(&self) -> bool {
        self.source.request_stop()
    }

    /// Requests the stop with `reason`, which every unit's token reads back
    /// if this is the first request (see [`StopSource::request_stop_with`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::{StopGroup, StopReason};
    ///
    /// let group = StopGroup::new();
    /// let job = group.track("job");
    /// group.request_stop_with(StopReason::Message("deploy"));
    /// assert_eq!(job.token().stop_reason(), Some(&StopReason::Message("deploy")));
    /// ```
    #[inline]
    pub fn request_stop_with(&self, reason: StopReason) -> bool {
        self.source.request_stop_with(reason)
    }

    /// Whether the group's stop was requested (by it or by its parent).
    ///
    /// # Examples
    ///
    /// ```
    /// let group = stoptoken::StopGroup::new();
    /// assert!(!group.stop_requested());
    /// group.request_stop();
    /// assert!(group.stop_requested());
    /// ```
    #[inline]
    pub fn stop_requested(&self) -> bool {
        self.source.stop_requested()
    }

    /// Counts a unit that is neither a thread nor a task of the group (a
    /// connection, a blocking job, work on another runtime) until the
    /// returned [`Tracked`] is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = stoptoken::StopGroup::new();
    /// let connection = group.track(format!("conn {}", 7));
    /// assert_eq!(group.len(), 1);
    /// drop(connection);
    /// assert!(group.is_empty());
    /// ```
    pub fn track(&self, name: impl Into<Cow<'static, str>>) -> Tracked {
        Tracked::new(
            self.registry.insert(name.into(), Kind::Tracked),
            self.source.token(),
        )
    }

    /// How many units are still running.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = stoptoken::StopGroup::new();
    /// let a = group.track("a");
    /// let b = group.track("b");
    /// assert_eq!(group.len(), 2);
    /// # drop((a, b));
    /// ```
    pub fn len(&self) -> usize {
        self.registry.len()
    }

    /// Whether no unit is running.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = stoptoken::StopGroup::new();
    /// assert!(group.is_empty());
    /// let job = group.track("job");
    /// assert!(!group.is_empty());
    /// # drop(job);
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Blocks until no unit is running (it does not request a stop).
    ///
    /// # Examples
    ///
    /// ```
    /// let group = stoptoken::StopGroup::new();
    /// group.spawn_thread("short", |_| ())?.detach();
    /// group.wait();
    /// assert!(group.is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn wait(&self) {
        self.registry.wait_empty(None);
    }

    /// Blocks until no unit is running or `timeout` has passed; `true` if no
    /// unit is running.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let group = stoptoken::StopGroup::new();
    /// let job = group.track("job");
    /// assert!(!group.wait_timeout(Duration::from_millis(1)));
    /// drop(job);
    /// assert!(group.wait_timeout(Duration::from_millis(1)));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.registry
            .wait_empty(Instant::now().checked_add(timeout))
    }

    /// A future that is ready once no unit is running: the async form of
    /// [`wait`](StopGroup::wait), for any executor.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = stoptoken::StopGroup::new();
    /// let job = group.track("job");
    /// std::thread::spawn(move || drop(job));
    /// futures::executor::block_on(group.drained());
    /// assert!(group.is_empty());
    /// ```
    pub fn drained(&self) -> Drained<'_> {
        Drained::new(&self.registry)
    }

    /// Requests the stop, waits up to `grace` for every unit to end, and
    /// reports; tasks still running then are aborted (see the [module
    /// docs](self#choices)).
    ///
    /// It blocks the calling thread: in async code, use `shutdown_async`
    /// (features `tokio` or `timer`), so that the tasks it waits for can run.
    ///
    /// # Panics
    ///
    /// If a stop callback panics in the stop request, as
    /// [`StopSource::request_stop`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let group = stoptoken::StopGroup::new();
    /// let stuck = group.track("stuck"); // never dropped in time
    /// let report = group.shutdown(Duration::from_millis(10));
    /// assert_eq!(report.unfinished(), ["stuck"]);
    /// assert!(!report.is_clean());
    /// # drop(stuck);
    /// ```
    pub fn shutdown(&self, grace: Duration) -> ShutdownReport {
        let started = Instant::now();
        self.source.request_stop();
        if !grace.is_zero() {
            self.registry.wait_empty(started.checked_add(grace));
        }
        self.registry.report(started)
    }
}

impl Default for StopGroup {
    /// The same as [`StopGroup::new`].
    fn default() -> Self {
        StopGroup::new()
    }
}

impl Drop for StopGroup {
    /// Requests the stop, then waits for the group's threads (see the [module
    /// docs](self#choices)). A stop callback's panic is resumed after the wait.
    fn drop(&mut self) {
        let stop = request_stop_catching(&self.source, None);
        self.registry.wait_for_threads();
        if let Err(payload) = stop {
            resume_or_report(payload, "a StopGroup");
        }
    }
}

impl fmt::Debug for StopGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StopGroup")
            .field("stop_requested", &self.stop_requested())
            .field("units", &self.len())
            .finish()
    }
}

//! `Tracked`: a unit of a group that is neither its thread nor its task.

use std::fmt;
use std::sync::OnceLock;

use super::registry::{Outcome, UnitGuard};
use crate::{StopSource, StopToken};

/// One unit of work of a [`StopGroup`](super::StopGroup), counted until it is
/// dropped: a connection, a blocking job, work on another executor.
///
/// Dropped normally, the unit counts as finished; dropped while its thread
/// unwinds from a panic, it is named in the reports'
/// [`panicked`](super::ShutdownReport::panicked).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use stoptoken::StopGroup;
///
/// let group = StopGroup::new();
/// let job = group.track("upload");
/// let worker = std::thread::spawn(move || {
///     let token = job.token();
///     while !token.stop_requested() {
///         std::thread::yield_now(); // a chunk of the upload
///     }
///     drop(job); // the unit ends here
/// });
/// let report = group.shutdown(Duration::from_secs(10));
/// assert!(report.is_clean());
/// worker.join().unwrap();
/// ```
#[must_use = "dropping a Tracked ends its unit at once"]
pub struct Tracked {
    unit: UnitGuard,
    /// The group's token, the parent of `token`.
    group: StopToken,
    /// Made at the first `token()` call: a unit that never asks costs no state.
    token: OnceLock<StopToken>,
}

impl Tracked {
    pub(super) fn new(unit: UnitGuard, group: StopToken) -> Tracked {
        Tracked {
            unit,
            group,
            token: OnceLock::new(),
        }
    }

    /// The unit's token: a child token of the group's (stopped when the group
    /// is, at once if it already is), the same one at every call.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = stoptoken::StopGroup::new();
    /// let job = group.track("job");
    /// assert_eq!(job.token(), job.token());
    /// assert_ne!(job.token(), group.token()); // a child, not the group's own
    /// group.request_stop();
    /// assert!(job.token().stop_requested());
    /// ```
    pub fn token(&self) -> StopToken {
        self.token
            .get_or_init(|| StopSource::child_of(&self.group).token())
            .clone()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let outcome = if std::thread::panicking() {
            Outcome::Panicked
        } else {
            Outcome::Finished
        };
        self.unit.set_outcome(outcome);
    }
}

impl fmt::Debug for Tracked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracked")
            .field("stop_requested", &self.group.stop_requested())
            .finish_non_exhaustive()
    }
}

//! `ShutdownReport`: what a drain found.

use std::time::Duration;

/// What a [`shutdown`](super::StopGroup::shutdown) found: how many units
/// finished, which did not finish in time, which panicked, and how long it
/// took.
///
/// `finished` and `panicked` are totals over the group's whole life (see the
/// [choices](super#choices)); `unfinished` names the units still running when
/// the report was made.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use stoptoken::StopGroup;
///
/// let group = StopGroup::new();
/// drop(group.track("done"));
/// let stuck = group.track("stuck");
/// let report = group.shutdown(Duration::ZERO);
/// assert_eq!(report.finished(), 1);
/// assert_eq!(report.unfinished(), ["stuck"]);
/// assert!(report.panicked().is_empty());
/// assert!(!report.is_clean());
/// # drop(stuck);
/// ```
#[derive(Debug, Clone)]
#[must_use = "a report says what did not finish"]
pub struct ShutdownReport {
    finished: usize,
    unfinished: Vec<String>,
    panicked: Vec<String>,
    elapsed: Duration,
}

impl ShutdownReport {
    pub(super) fn new(
        finished: usize,
        unfinished: Vec<String>,
        panicked: Vec<String>,
        elapsed: Duration,
    ) -> Self {
        ShutdownReport {
            finished,
            unfinished,
            panicked,
            elapsed,
        }
    }

    /// How many units of the group ended normally (returned, or their
    /// `Tracked` dropped), over the group's life up to this report; panicked
    /// units and tasks dropped before completing are not counted.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = stoptoken::StopGroup::new();
    /// drop(group.track("a"));
    /// drop(group.track("b"));
    /// assert_eq!(group.shutdown(std::time::Duration::ZERO).finished(), 2);
    /// ```
    #[inline]
    pub fn finished(&self) -> usize {
        self.finished
    }

    /// The names of the units still running when the report was made (at the
    /// deadline, or at once for a zero grace), in the order they started.
    /// Tasks among them were aborted.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = stoptoken::StopGroup::new();
    /// let a = group.track("a");
    /// let b = group.track("b");
    /// assert_eq!(group.shutdown(std::time::Duration::ZERO).unfinished(), ["a", "b"]);
    /// # drop((a, b));
    /// ```
    #[inline]
    pub fn unfinished(&self) -> &[String] {
        &self.unfinished
    }

    /// The names of the units of the group that panicked, over its life up to
    /// this report, in the order they ended.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = stoptoken::StopGroup::new();
    /// let crashing = group.spawn_thread("crashing", |_| panic!("boom"))?;
    /// assert!(crashing.join().is_err());
    /// let report = group.shutdown(std::time::Duration::ZERO);
    /// assert_eq!(report.panicked(), ["crashing"]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn panicked(&self) -> &[String] {
        &self.panicked
    }

    /// The time from the start of the shutdown to this report.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let group = stoptoken::StopGroup::new();
    /// let stuck = group.track("stuck");
    /// let report = group.shutdown(Duration::from_millis(20));
    /// assert!(report.elapsed() >= Duration::from_millis(20));
    /// # drop(stuck);
    /// ```
    #[inline]
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Whether nothing was left unfinished and nothing panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = stoptoken::StopGroup::new();
    /// assert!(group.shutdown(std::time::Duration::ZERO).is_clean());
    /// ```
    #[inline]
    pub fn is_clean(&self) -> bool {
        self.unfinished.is_empty() && self.panicked.is_empty()
    }
}

//! `StopSource`: the side that asks for a stop (C++ `std::stop_source`).

use core::borrow::Borrow;
use core::fmt;
use std::time::{Duration, Instant};

use crate::state::{same_state, Shared};
use crate::sync::Arc;
use crate::{deadline, StopReason, StopToken};

/// Makes stop requests on a shared stop state (C++ `std::stop_source`).
///
/// A source is *engaged* (it has a stop state) unless made by
/// [`StopSource::no_state`]. Cloning shares the state, as copying a C++
/// `stop_source` does; every clone may request the stop, and the first request
/// wins. Hand [`StopToken`]s to the code that should observe the stop.
///
/// When the last source of a state is dropped without a stop request,
/// [`StopToken::stop_possible`] turns `false` on every token of it, and no
/// callback of it ever runs.
///
/// # Examples
///
/// ```
/// use stoptoken::StopSource;
///
/// let source = StopSource::new();
/// let token = source.token();
/// assert!(!token.stop_requested());
/// assert!(source.request_stop()); // the first request
/// assert!(!source.request_stop()); // already requested
/// assert!(token.stop_requested());
/// ```
pub struct StopSource {
    shared: Option<Arc<Shared>>,
}

impl StopSource {
    /// An engaged source with a fresh state: not stopped, one heap allocation.
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::StopSource::new();
    /// assert!(source.stop_possible());
    /// assert!(!source.stop_requested());
    /// ```
    pub fn new() -> Self {
        StopSource {
            shared: Some(Arc::new(Shared::new())),
        }
    }

    /// A disengaged source, with no stop state (C++ `stop_source(nostopstate)`).
    /// It allocates nothing; its requests return `false` and its tokens can never
    /// be stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::StopSource::no_state();
    /// assert!(!source.stop_possible());
    /// assert!(!source.request_stop());
    /// assert!(!source.token().stop_possible());
    /// ```
    pub const fn no_state() -> Self {
        StopSource { shared: None }
    }

    /// A new engaged source that is stopped when `parent` is stopped (at once if
    /// it already is). Its own stop does not reach the parent.
    ///
    /// The link is one callback registered on the parent's state; it is removed
    /// (in O(1)) when the last clone of the child source is dropped, so children
    /// that are gone leave nothing behind in the parent. A disengaged parent, or
    /// one that can no longer be stopped, gives an unlinked child.
    ///
    /// Dropping the child's last source removes that link like dropping a
    /// [`StopCallback`](crate::StopCallback): if the parent's stop is running
    /// the link on another thread right now (which runs the child's callbacks),
    /// the drop waits for it, so do not drop the last child source while holding
    /// a lock that one of the child's callbacks takes. Once that drop has begun,
    /// the parent's stop no longer stops the child: `stop_possible()` of the
    /// child's tokens, once `false`, stays `false`.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::StopSource;
    ///
    /// let parent = StopSource::new();
    /// let child = StopSource::child_of(&parent.token());
    /// child.request_stop();
    /// assert!(!parent.stop_requested()); // a child's stop stays below
    ///
    /// let child = StopSource::child_of(&parent.token());
    /// parent.request_stop();
    /// assert!(child.stop_requested()); // a parent's stop reaches the child
    /// ```
    #[must_use = "dropping the source at once removes its links and deadline: its tokens would never stop"]
    pub fn child_of(parent: &StopToken) -> StopSource {
        match parent.shared() {
            Some(parent) => StopSource {
                shared: Some(Shared::new_linked([parent.clone()])),
            },
            None => StopSource::new(),
        }
    }

    /// A new engaged source that is stopped when any of `tokens` is stopped (at
    /// once if one already is), with the reason of the stop that reached it
    /// first. Its own stop reaches none of them.
    ///
    /// It holds one link per engaged token: N callbacks registered on the
    /// inputs' states, kept together in one allocation, all removed when the
    /// last clone of this source is dropped. No thread, no task. Disengaged
    /// tokens, and tokens that can no longer be stopped, add no link. The rules
    /// of [`StopSource::child_of`] (which is `any_of` with one input) apply:
    /// keep the source alive as long as its tokens are used, since its tokens
    /// alone do not keep the links.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::{StopReason, StopSource};
    ///
    /// let shutdown = StopSource::new();
    /// let client_gone = StopSource::new();
    /// let request = StopSource::any_of([shutdown.token(), client_gone.token()]);
    /// assert!(!request.stop_requested());
    /// client_gone.request_stop_with(StopReason::Message("client hung up"));
    /// assert_eq!(request.token().stop_reason(), Some(&StopReason::Message("client hung up")));
    /// assert!(!shutdown.stop_requested());
    /// ```
    #[must_use = "dropping the source at once removes its links and deadline: its tokens would never stop"]
    pub fn any_of<I>(tokens: I) -> StopSource
    where
        I: IntoIterator,
        I::Item: Borrow<StopToken>,
    {
        let parents = tokens
            .into_iter()
            .filter_map(|token| token.borrow().shared().cloned());
        StopSource {
            shared: Some(Shared::new_linked(parents)),
        }
    }

    /// A new engaged source that stops itself at `deadline`, with
    /// [`StopReason::Deadline`]; at once, before returning, if `deadline` has
    /// passed.
    ///
    /// Every deadline source of the process shares one timer thread (started by
    /// the first one, parked while nothing is due); a source costs one entry in
    /// its ordered map, and dropping the source's last clone removes the entry.
    /// The deadline's stop callbacks run on that thread, so keep them short:
    /// they delay other deadlines, and a callback that blocks until another
    /// deadline fires (say, `other.token().wait()`) deadlocks every deadline of
    /// the process. This holds for the callbacks of `child_of`/`any_of` sources
    /// fed by a deadline source too: they run on the same thread.
    ///
    /// Keep the source alive as long as the deadline matters: dropping its last
    /// clone cancels the deadline, and its tokens alone do not keep it, so
    /// `StopSource::after(d).token()` is a token that never stops (its
    /// `stop_possible()` is `false` at once). To stop at a deadline *or* on a parent's stop,
    /// see [`StopSource::child_with_deadline`].
    ///
    /// # Panics
    /// If the timer thread cannot be spawned (the first time only).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use stoptoken::{StopReason, StopSource};
    ///
    /// let source = StopSource::with_deadline(Instant::now() + Duration::from_millis(10));
    /// let token = source.token();
    /// assert!(token.wait()); // woken by the timer thread
    /// assert_eq!(token.stop_reason(), Some(&StopReason::Deadline));
    /// ```
    #[must_use = "dropping the source at once removes its links and deadline: its tokens would never stop"]
    pub fn with_deadline(deadline: Instant) -> StopSource {
        StopSource::deadline_source(None, Some(deadline))
    }

    /// [`StopSource::with_deadline`] at `timeout` from now. A timeout too long to
    /// represent as an [`Instant`] never fires.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use stoptoken::StopSource;
    ///
    /// let source = StopSource::after(Duration::from_secs(3600));
    /// assert!(!source.stop_requested());
    /// drop(source); // cancels the timer entry
    /// ```
    #[must_use = "dropping the source at once removes its links and deadline: its tokens would never stop"]
    pub fn after(timeout: Duration) -> StopSource {
        StopSource::deadline_source(None, Instant::now().checked_add(timeout))
    }

    /// A new engaged source that is stopped when `parent` is stopped (with the
    /// parent's reason) or when `deadline` passes (with
    /// [`StopReason::Deadline`]), whichever comes first: a request's time budget
    /// inside a server's shutdown. The rules of [`StopSource::child_of`] and
    /// [`StopSource::with_deadline`] apply.
    ///
    /// # Panics
    /// If the timer thread cannot be spawned (the first time only).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use stoptoken::{StopReason, StopSource};
    ///
    /// let shutdown = StopSource::new();
    /// let request =
    ///     StopSource::child_with_deadline(&shutdown.token(), Instant::now() + Duration::from_secs(60));
    /// shutdown.request_stop_with(StopReason::Message("shutdown"));
    /// assert_eq!(request.token().stop_reason(), Some(&StopReason::Message("shutdown")));
    /// ```
    #[must_use = "dropping the source at once removes its links and deadline: its tokens would never stop"]
    pub fn child_with_deadline(parent: &StopToken, deadline: Instant) -> StopSource {
        StopSource::deadline_source(parent.shared(), Some(deadline))
    }

    fn deadline_source(parent: Option<&Arc<Shared>>, deadline: Option<Instant>) -> StopSource {
        let due = deadline.is_some_and(|deadline| deadline <= Instant::now());
        let shared = Shared::new_attached(|shared| {
            let links = Shared::links(shared, parent.cloned());
            let entry = match deadline {
                Some(deadline) if !due => Some(deadline::schedule(deadline, shared.clone())),
                _ => None,
            };
            match (links, entry) {
                (links, None) => links,
                (None, Some(entry)) => Some(Box::pin(entry)),
                (Some(links), Some(entry)) => Some(Box::pin((links, entry))),
            }
        });
        let source = StopSource {
            shared: Some(shared),
        };
        if due {
            source.request_stop_with(StopReason::Deadline);
        }
        source
    }

    /// A token associated with this source's state; a disengaged token if this
    /// source is disengaged.
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::StopSource::new();
    /// assert_eq!(source.token(), source.token());
    /// ```
    #[inline]
    pub fn token(&self) -> StopToken {
        StopToken::from_shared(self.shared.clone())
    }

    /// Requests a stop. Returns `true` only for the call that made the first
    /// request on an engaged state; that call runs every registered callback on
    /// this thread before it returns. Later calls (from any thread) return
    /// `false` at once, without waiting for those callbacks.
    ///
    /// # Panics
    /// If a callback panics, the other callbacks still run, and then the first
    /// panic is resumed here. The state stays consistent: the stop counts as
    /// requested.
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::StopSource::new();
    /// let _callback = stoptoken::StopCallback::new(&source.token(), || println!("stopping"));
    /// assert!(source.request_stop()); // prints "stopping" before returning
    /// ```
    #[inline]
    pub fn request_stop(&self) -> bool {
        match &self.shared {
            Some(shared) => shared.state().request_stop(),
            None => false,
        }
    }

    /// Requests a stop, as [`StopSource::request_stop`] does, recording
    /// `reason` if this is the first request (later requests' reasons are
    /// dropped). Every token reads it back with
    /// [`StopToken::stop_reason`] once it sees the stop.
    ///
    /// # Panics
    /// As [`StopSource::request_stop`].
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::{StopReason, StopSource};
    ///
    /// let source = StopSource::new();
    /// assert!(source.request_stop_with(StopReason::Signal(15)));
    /// assert!(!source.request_stop()); // already requested: the reason stays
    /// assert_eq!(source.stop_reason(), Some(&StopReason::Signal(15)));
    /// ```
    #[inline]
    pub fn request_stop_with(&self, reason: StopReason) -> bool {
        match &self.shared {
            Some(shared) => shared.state().request_stop_with(reason),
            None => false,
        }
    }

    /// The reason of the first stop request on this source's state; `None`
    /// while no stop was requested (and always for a disengaged source).
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::{StopReason, StopSource};
    ///
    /// let source = StopSource::new();
    /// assert_eq!(source.stop_reason(), None);
    /// source.request_stop();
    /// assert_eq!(source.stop_reason(), Some(&StopReason::Requested));
    /// ```
    #[inline]
    pub fn stop_reason(&self) -> Option<&StopReason> {
        self.shared.as_ref()?.state().stop_reason()
    }

    /// Whether a stop was requested on this source's state.
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::StopSource::new();
    /// source.clone().request_stop();
    /// assert!(source.stop_requested());
    /// ```
    #[inline]
    pub fn stop_requested(&self) -> bool {
        self.shared
            .as_ref()
            .is_some_and(|shared| shared.state().stop_requested())
    }

    /// Whether this source is engaged (has a stop state).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(stoptoken::StopSource::new().stop_possible());
    /// assert!(!stoptoken::StopSource::no_state().stop_possible());
    /// ```
    #[inline]
    pub fn stop_possible(&self) -> bool {
        self.shared.is_some()
    }
}

impl Default for StopSource {
    /// The same as [`StopSource::new`]: an engaged source.
    fn default() -> Self {
        StopSource::new()
    }
}

impl Clone for StopSource {
    /// Another source of the same state (C++ copy).
    #[inline]
    fn clone(&self) -> Self {
        if let Some(shared) = &self.shared {
            shared.state().add_source();
        }
        StopSource {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for StopSource {
    #[inline]
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            shared.drop_source();
        }
    }
}

impl PartialEq for StopSource {
    /// Same state, or both disengaged.
    fn eq(&self, other: &Self) -> bool {
        same_state(self.shared.as_ref(), other.shared.as_ref())
    }
}

impl Eq for StopSource {}

impl fmt::Debug for StopSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.shared {
            Some(shared) => f
                .debug_struct("StopSource")
                .field("stop_requested", &shared.state().stop_requested())
                .finish_non_exhaustive(),
            None => f.write_str("StopSource(no state)"),
        }
    }
}

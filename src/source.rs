//! `StopSource`: the side that asks for a stop (C++ `std::stop_source`).

use core::fmt;
use std::time::Instant;

use crate::state::{same_state, Shared, SharedRef};
use crate::{StopReason, StopToken};

/// Makes stop requests on a shared stop state (C++ `std::stop_source`).
///
/// A source is *engaged* (it has a stop state) unless made by
/// [`StopSource::no_state`]. Cloning shares the state, as copying a C++
/// `stop_source` does; every clone may request the stop, and the first request
/// wins. Hand [`StopToken`]s to the code that should observe the stop.
///
/// When the last source of a state is dropped without a stop request, and
/// nothing else can stop it (no link made by [`StopSource::child_of`] or
/// [`StopSource::any_of`] whose parent can still stop, no pending deadline),
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
    shared: Option<SharedRef>,
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
            shared: Some(Shared::create()),
        }
    }

    /// A source of `shared`, a state made with one source for it.
    pub(crate) fn from_new(shared: SharedRef) -> Self {
        StopSource {
            shared: Some(shared),
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

    /// A token associated with this source's state; a disengaged token if this
    /// source is disengaged.
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::StopSource::new();
    /// assert_eq!(source.token(), source.token());
    /// ```
    #[must_use]
    #[inline]
    pub fn token(&self) -> StopToken {
        StopToken::from_shared(SharedRef::clone_option(&self.shared))
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
    #[must_use]
    #[inline]
    pub fn stop_reason(&self) -> Option<&StopReason> {
        self.shared.as_ref()?.state().stop_reason()
    }

    /// The earliest instant at which a deadline linked into this source's
    /// state will stop it; see [`StopToken::deadline`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use stoptoken::StopSource;
    ///
    /// let source = StopSource::after(Duration::from_secs(60));
    /// assert!(source.deadline().is_some());
    /// assert_eq!(StopSource::new().deadline(), None);
    /// ```
    #[must_use]
    #[inline]
    pub fn deadline(&self) -> Option<Instant> {
        self.shared.as_ref()?.deadline()
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
    #[must_use]
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
    #[must_use]
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
            shared: SharedRef::clone_option(&self.shared),
        }
    }
}

impl Drop for StopSource {
    #[inline]
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            shared.state().remove_source();
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

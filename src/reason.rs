//! `StopReason`: why a stop was requested.

use core::any::Any;
use core::fmt;
use std::sync::Arc;

/// Why a stop was requested: set by the first request, readable by every
/// token once it sees the stop.
///
/// The first request's reason wins. [`StopSource::request_stop`](crate::StopSource::request_stop)
/// (and every stop this crate makes on its own behalf, such as dropping a
/// [`JThread`](crate::JThread)) records [`StopReason::Requested`];
/// [`request_stop_with`](crate::StopSource::request_stop_with) records the
/// reason you give. A deadline source records [`StopReason::Deadline`], the
/// `signal` feature [`StopReason::Signal`], and a source made by
/// [`StopSource::child_of`](crate::StopSource::child_of) or
/// [`StopSource::any_of`](crate::StopSource::any_of) takes the reason of the
/// state that stopped it.
///
/// The reason is written before the stop flag is published, so any thread
/// that sees `stop_requested() == true` reads it with
/// [`StopToken::stop_reason`](crate::StopToken::stop_reason), without a lock.
/// Every variant but [`Custom`](StopReason::Custom) is stored without an
/// allocation; `Custom` shares one `Arc` (cloning the reason clones the `Arc`).
///
/// # Examples
///
/// ```
/// use stoptoken::{StopReason, StopSource};
///
/// let source = StopSource::new();
/// let token = source.token();
/// assert_eq!(token.stop_reason(), None);
/// source.request_stop_with(StopReason::Message("shutting down"));
/// source.request_stop_with(StopReason::Deadline); // too late: the first wins
/// assert_eq!(token.stop_reason(), Some(&StopReason::Message("shutting down")));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum StopReason {
    /// A plain [`request_stop`](crate::StopSource::request_stop), with no reason given.
    Requested,
    /// A deadline passed ([`StopSource::with_deadline`](crate::StopSource::with_deadline)).
    Deadline,
    /// The process received this signal (feature `signal`).
    Signal(i32),
    /// A static message: the cheapest way to say why (no allocation).
    Message(&'static str),
    /// Any other value, shared; make one with [`StopReason::custom`] and read it
    /// back with [`StopReason::downcast_ref`].
    Custom(Arc<dyn Any + Send + Sync>),
}

impl StopReason {
    /// A [`Custom`](StopReason::Custom) reason holding `value` (one allocation).
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::{StopReason, StopSource};
    ///
    /// #[derive(Debug, PartialEq)]
    /// struct ClientGone { id: u32 }
    ///
    /// let source = StopSource::new();
    /// source.request_stop_with(StopReason::custom(ClientGone { id: 7 }));
    /// let reason = source.token().stop_reason().cloned().unwrap();
    /// assert_eq!(reason.downcast_ref::<ClientGone>(), Some(&ClientGone { id: 7 }));
    /// ```
    pub fn custom<T: Any + Send + Sync>(value: T) -> Self {
        StopReason::Custom(Arc::new(value))
    }

    /// The value of a [`Custom`](StopReason::Custom) reason, if it is a `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::StopReason;
    ///
    /// assert_eq!(StopReason::custom(42u64).downcast_ref::<u64>(), Some(&42));
    /// assert_eq!(StopReason::custom(42u64).downcast_ref::<u32>(), None);
    /// assert_eq!(StopReason::Deadline.downcast_ref::<u64>(), None);
    /// ```
    #[must_use]
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        match self {
            StopReason::Custom(value) => value.downcast_ref(),
            _ => None,
        }
    }

    /// Whether this is [`StopReason::Deadline`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(stoptoken::StopReason::Deadline.is_deadline());
    /// assert!(!stoptoken::StopReason::Requested.is_deadline());
    /// ```
    #[must_use]
    pub fn is_deadline(&self) -> bool {
        matches!(self, StopReason::Deadline)
    }
}

impl Default for StopReason {
    /// [`StopReason::Requested`], the reason of a plain `request_stop`.
    fn default() -> Self {
        StopReason::Requested
    }
}

impl PartialEq for StopReason {
    /// Same variant and value; two `Custom` reasons are equal when they share
    /// the same `Arc` (their values need not be comparable).
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (StopReason::Requested, StopReason::Requested) => true,
            (StopReason::Deadline, StopReason::Deadline) => true,
            (StopReason::Signal(a), StopReason::Signal(b)) => a == b,
            (StopReason::Message(a), StopReason::Message(b)) => a == b,
            (StopReason::Custom(a), StopReason::Custom(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for StopReason {}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::Requested => f.write_str("stop requested"),
            StopReason::Deadline => f.write_str("deadline passed"),
            StopReason::Signal(signal) => write!(f, "signal {signal} received"),
            StopReason::Message(message) => f.write_str(message),
            StopReason::Custom(_) => f.write_str("stop requested (custom reason)"),
        }
    }
}

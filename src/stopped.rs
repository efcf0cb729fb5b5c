//! The outcome of an operation that was cut short by a stop request.

use core::fmt;

/// The operation was stopped: a stop was requested before it completed.
///
/// A stop is an outcome, not a failure; functions that can be cut short by a
/// stop return `Result<T, Stopped>`, so `?` passes the stop upwards.
///
/// # Examples
///
/// ```
/// use stoptoken::{StopSource, StopToken, Stopped};
///
/// fn step(token: &StopToken) -> Result<u32, Stopped> {
///     if token.stop_requested() {
///         return Err(Stopped);
///     }
///     Ok(1)
/// }
///
/// let source = StopSource::new();
/// assert_eq!(step(&source.token()), Ok(1));
/// source.request_stop();
/// assert_eq!(step(&source.token()), Err(Stopped));
/// assert_eq!(Stopped.to_string(), "the operation was stopped");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Stopped;

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the operation was stopped")
    }
}

impl std::error::Error for Stopped {}

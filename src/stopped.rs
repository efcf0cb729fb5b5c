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

/// A stop as an I/O error, so that `?` passes it through `io::Result` code:
/// kind [`Other`](std::io::ErrorKind::Other), the inner error a `Stopped`
/// ([`stoptoken::io::is_stopped`](crate::io::is_stopped) tells it apart).
///
/// Not [`Interrupted`](std::io::ErrorKind::Interrupted): std's `read_exact`,
/// `write_all`, `read_to_end` and `io::copy` retry that kind forever, so a
/// stop reported as `Interrupted` would never end them. Converting allocates
/// once (the error's box), on the stop path only.
///
/// # Examples
///
/// ```
/// use std::io;
/// use stoptoken::{StopSource, Stopped};
///
/// fn copy_until_stopped(token: &stoptoken::StopToken) -> io::Result<u64> {
///     token.check()?; // a `Stopped` becomes an `io::Error`
///     Ok(0)
/// }
///
/// let source = StopSource::new();
/// source.request_stop();
/// let error = copy_until_stopped(&source.token()).unwrap_err();
/// assert_eq!(error.kind(), io::ErrorKind::Other);
/// assert!(stoptoken::io::is_stopped(&error));
/// assert_eq!(error.to_string(), Stopped.to_string());
/// ```
impl From<Stopped> for std::io::Error {
    #[cold]
    fn from(stopped: Stopped) -> Self {
        std::io::Error::other(stopped)
    }
}

impl Stopped {
    /// `Err(Stopped)` if `stopped`, `Ok(())` otherwise: the body of every
    /// token's `check()`.
    #[inline]
    pub(crate) const fn check(stopped: bool) -> Result<(), Stopped> {
        if stopped {
            Err(Stopped)
        } else {
            Ok(())
        }
    }
}

//! `FutureExt`: the combinators of this module as methods on every future
//! (`fut.until_stopped(&token)`), returning the same named futures.

use core::borrow::Borrow;
use core::future::Future;

use super::{until_stopped_with, with_stop_token, UntilStopped, WithStopToken};
use crate::StopToken;

/// Stop-token methods on every [`Future`] (a blanket implementation).
///
/// # Examples
///
/// ```
/// use stoptoken::task::{current_token, FutureExt};
/// use stoptoken::{StopSource, Stopped};
///
/// let source = StopSource::new();
/// let token = source.token();
/// let work = async { current_token().stop_requested() }
///     .with_stop_token(token.clone()) // `current_token()` inside sees `token`
///     .until_stopped(&token); // and the stop cuts it short
/// assert_eq!(futures::executor::block_on(work), Ok(false));
///
/// source.request_stop();
/// let cut = futures::executor::block_on(std::future::pending::<()>().until_stopped(&token));
/// assert_eq!(cut, Err(Stopped));
/// ```
pub trait FutureExt: Future + Sized {
    /// Runs this future until it completes, or until `token` is stopped: then
    /// it is dropped and the outcome is `Err(Stopped)`; the same as
    /// [`until_stopped_with(token, self)`](until_stopped_with), whose docs give
    /// the poll order.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::task::FutureExt;
    /// use stoptoken::StopSource;
    ///
    /// let source = StopSource::new();
    /// let done = futures::executor::block_on(async { 42 }.until_stopped(source.token()));
    /// assert_eq!(done, Ok(42));
    /// ```
    fn until_stopped<B: Borrow<StopToken>>(self, token: B) -> UntilStopped<Self> {
        until_stopped_with(token, self)
    }

    /// Runs this future with `token` as its current token; the same as
    /// [`with_stop_token(token, self)`](with_stop_token()).
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::task::{current_token, FutureExt};
    /// use stoptoken::StopSource;
    ///
    /// let source = StopSource::new();
    /// let seen = futures::executor::block_on(async { current_token() }.with_stop_token(source.token()));
    /// assert_eq!(seen, source.token());
    /// ```
    fn with_stop_token(self, token: StopToken) -> WithStopToken<Self> {
        with_stop_token(token, self)
    }
}

impl<F: Future> FutureExt for F {}

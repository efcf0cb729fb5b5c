//! The token abstraction (C++ `stoppable_token` and `unstoppable_token`).

use crate::never::NeverStopCallback;
use crate::{
    InplaceStopCallback, InplaceStopToken, NeverStopToken, StopCallback, StopToken, Stopped,
};

/// What every stop token can do (C++ `std::stoppable_token`): be queried, and
/// take a callback that runs on the stop.
///
/// Write cancellable code once against this trait and call it with a
/// [`StopToken`], an [`InplaceStopToken`] or a [`NeverStopToken`]. With
/// `NeverStopToken` both queries are constant `false`, so the checks compile
/// away.
///
/// # Examples
///
/// ```
/// use stoptoken::{InplaceStopSource, NeverStopToken, StopSource, StoppableToken};
///
/// /// Sums until the token is stopped.
/// fn sum_until_stopped(token: &impl StoppableToken, values: &[u64]) -> u64 {
///     let mut total = 0;
///     for value in values {
///         if token.stop_requested() {
///             break;
///         }
///         total += value;
///     }
///     total
/// }
///
/// let shared = StopSource::new();
/// let inplace = InplaceStopSource::new();
/// assert_eq!(sum_until_stopped(&shared.token(), &[1, 2, 3]), 6);
/// inplace.request_stop();
/// assert_eq!(sum_until_stopped(&inplace.token(), &[1, 2, 3]), 0);
/// assert_eq!(sum_until_stopped(&NeverStopToken, &[1, 2, 3]), 6);
/// ```
pub trait StoppableToken: Clone + PartialEq + Send + Sync {
    /// The registration `on_stop` returns (C++ `stop_callback_for_t`); dropping
    /// it deregisters the callback.
    type Callback<F: FnOnce() + Send + 'static>;

    /// Whether a stop was requested.
    #[must_use]
    fn stop_requested(&self) -> bool;

    /// Whether a stop can still be requested or was requested.
    #[must_use]
    fn stop_possible(&self) -> bool;

    /// `Err(Stopped)` once a stop was requested, `Ok(())` before: for `?` in
    /// loops written once for every token type. Provided, from
    /// [`stop_requested`](StoppableToken::stop_requested), so it is constant
    /// `Ok(())` for [`NeverStopToken`].
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::{NeverStopToken, StopSource, StoppableToken, Stopped};
    ///
    /// fn count(token: &impl StoppableToken, rounds: u32) -> Result<u32, Stopped> {
    ///     let mut done = 0;
    ///     for _ in 0..rounds {
    ///         token.check()?;
    ///         done += 1;
    ///     }
    ///     Ok(done)
    /// }
    ///
    /// let source = StopSource::new();
    /// source.request_stop();
    /// assert_eq!(count(&source.token(), 3), Err(Stopped));
    /// assert_eq!(count(&NeverStopToken, 3), Ok(3));
    /// ```
    #[inline]
    fn check(&self) -> Result<(), Stopped> {
        Stopped::check(self.stop_requested())
    }

    /// Registers `callback` to run on the stop, with the rules of
    /// [`StopCallback::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::{StopSource, StoppableToken};
    ///
    /// let source = StopSource::new();
    /// let _callback = source.token().on_stop(|| println!("stopped"));
    /// source.request_stop();
    /// ```
    fn on_stop<F: FnOnce() + Send + 'static>(&self, callback: F) -> Self::Callback<F>;
}

/// A token that can never be stopped (C++ `std::unstoppable_token`):
/// only [`NeverStopToken`].
///
/// # Examples
///
/// ```
/// use stoptoken::{NeverStopToken, UnstoppableToken};
///
/// fn never_cancelled<T: UnstoppableToken>(token: T) -> bool {
///     !token.stop_possible()
/// }
/// assert!(never_cancelled(NeverStopToken));
/// ```
pub trait UnstoppableToken: StoppableToken {}

impl StoppableToken for StopToken {
    type Callback<F: FnOnce() + Send + 'static> = StopCallback<F>;

    #[inline]
    fn stop_requested(&self) -> bool {
        StopToken::stop_requested(self)
    }

    #[inline]
    fn stop_possible(&self) -> bool {
        StopToken::stop_possible(self)
    }

    #[inline]
    fn on_stop<F: FnOnce() + Send + 'static>(&self, callback: F) -> StopCallback<F> {
        StopCallback::new(self, callback)
    }
}

impl<'a> StoppableToken for InplaceStopToken<'a> {
    type Callback<F: FnOnce() + Send + 'static> = InplaceStopCallback<'a, F>;

    #[inline]
    fn stop_requested(&self) -> bool {
        InplaceStopToken::stop_requested(self)
    }

    #[inline]
    fn stop_possible(&self) -> bool {
        InplaceStopToken::stop_possible(self)
    }

    #[inline]
    fn on_stop<F: FnOnce() + Send + 'static>(&self, callback: F) -> InplaceStopCallback<'a, F> {
        InplaceStopCallback::new(*self, callback)
    }
}

impl StoppableToken for NeverStopToken {
    type Callback<F: FnOnce() + Send + 'static> = NeverStopCallback<F>;

    #[inline(always)]
    fn stop_requested(&self) -> bool {
        false
    }

    #[inline(always)]
    fn stop_possible(&self) -> bool {
        false
    }

    #[inline(always)]
    fn on_stop<F: FnOnce() + Send + 'static>(&self, callback: F) -> NeverStopCallback<F> {
        NeverStopCallback::new(callback)
    }
}

impl UnstoppableToken for NeverStopToken {}

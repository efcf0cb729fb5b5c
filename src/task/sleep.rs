//! `sleep`: a timer raced against the current token.
//!
//! The crate has no timer of its own; the timer comes from a feature:
//!
//! - `tokio`: `tokio::time::sleep` (needs a tokio runtime with time enabled;
//!   follows `tokio::time::pause` in tests);
//! - `timer`: `futures_timer::Delay`, which works under any executor (tokio,
//!   smol, `futures::executor::block_on`); it runs its timers on one global
//!   helper thread that it starts on first use;
//! - both: tokio's timer when polled inside a tokio runtime, `futures-timer`
//!   otherwise (chosen at the first poll).
//!
//! The race itself is [`until_stopped`](super::until_stopped): stop-first, and the timer is dropped
//! (deregistered) as soon as the stop is seen.

use core::time::Duration;

use super::{current_token, until_stopped_with};
use crate::Stopped;

/// Waits for `duration`, or until the [current token](super::current_token)
/// is stopped: `Ok(())` when the time is up, `Err(Stopped)` on a stop (at once
/// if one was already requested, without starting a timer).
///
/// Available with the `tokio` or the `timer` feature; which timer runs is
/// described in the [module docs](super#sleeping). Outside any
/// `with_stop_token` it is a plain sleep.
///
/// # Panics
///
/// With the `tokio` feature and without `timer`: panics if polled outside a
/// tokio runtime, or in one built without `enable_time`, like
/// `tokio::time::sleep`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use stoptoken::task::{sleep, with_stop_token};
/// use stoptoken::{StopSource, Stopped};
///
/// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// let source = StopSource::new();
/// let outcome = runtime.block_on(with_stop_token(source.token(), async {
///     let stopper = source.clone();
///     tokio::spawn(async move { stopper.request_stop() });
///     sleep(Duration::from_secs(3600)).await // woken early by the stop
/// }));
/// assert_eq!(outcome, Err(Stopped));
/// ```
pub async fn sleep(duration: Duration) -> Result<(), Stopped> {
    let token = current_token();
    if token.stop_requested() {
        return Err(Stopped);
    }
    #[cfg(all(feature = "tokio", feature = "timer"))]
    {
        if tokio::runtime::Handle::try_current().is_ok() {
            until_stopped_with(token, tokio::time::sleep(duration)).await
        } else {
            until_stopped_with(token, futures_timer::Delay::new(duration)).await
        }
    }
    #[cfg(all(feature = "tokio", not(feature = "timer")))]
    {
        until_stopped_with(token, tokio::time::sleep(duration)).await
    }
    #[cfg(all(feature = "timer", not(feature = "tokio")))]
    {
        until_stopped_with(token, futures_timer::Delay::new(duration)).await
    }
}

//! `sleep`: a timer raced against the current token.
//!
//! The crate has no timer of its own; the timer comes from a feature:
//!
//! - `tokio`: `tokio::time::sleep` (needs a tokio runtime with time enabled;
//!   follows `tokio::time::pause` in tests);
//! - `timer`: `futures_timer::Delay`, which works under any executor (tokio,
//!   smol, `futures::executor::block_on`); it runs its timers on one global
//!   helper thread that it starts on first use;
//! - both: tokio's timer when polled inside a tokio runtime that has one
//!   (built with `enable_time`), `futures-timer` otherwise (chosen at the
//!   first poll).
//!
//! tokio has no query for "this runtime has a timer": `tokio::time::sleep`
//! panics when it is created in a runtime without one (a documented panic).
//! So with both features the tokio timer is created inside `catch_unwind`,
//! and its panic selects `futures-timer`. The panic hook still reports that
//! caught panic (on standard error, by default) at each such `sleep`; build
//! the runtime with `enable_time` to use tokio's timer and avoid it. Under
//! `panic = "abort"` the panic cannot be caught and aborts.
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
/// `tokio::time::sleep`. With both features it uses `futures-timer` there
/// instead: it finds a runtime without a timer by catching the panic of
/// `tokio::time::sleep`, which the panic hook still reports (on standard
/// error, by default) and which aborts under `panic = "abort"`; build the
/// runtime with `enable_time` to avoid both.
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
        match tokio_timer(duration) {
            Some(timer) => until_stopped_with(token, timer).await,
            None => until_stopped_with(token, futures_timer::Delay::new(duration)).await,
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

/// tokio's timer for `duration`, or `None` outside a tokio runtime or in one
/// built without `enable_time`.
#[cfg(all(feature = "tokio", feature = "timer"))]
fn tokio_timer(duration: Duration) -> Option<tokio::time::Sleep> {
    tokio::runtime::Handle::try_current().ok()?;
    // tokio cannot be asked whether the runtime has a time driver; creating
    // the timer panics when it has none (the panic is documented, and happens
    // at creation, before any state is shared). Its payload is tokio's
    // message, whose drop cannot panic.
    std::panic::catch_unwind(|| tokio::time::sleep(duration)).ok()
}

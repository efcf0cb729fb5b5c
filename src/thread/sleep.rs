//! `sleep`: a blocking sleep that ends early on a stop request.
//!
//! The sleeping thread registers a stop callback that unparks it, then parks
//! until the deadline. A stop requested before the registration is seen by the
//! registration itself (the callback runs at once, on this thread, and leaves an
//! unpark token); one requested after it unparks the thread, whose next check of
//! `stop_requested` sees it (the stop flag is set before any callback runs). A
//! wake-up without a stop (spurious, or another `unpark` of this thread) only
//! makes the loop park again for the time that is left.

use std::pin::pin;
use std::time::{Duration, Instant};

use crate::sync::{current, park, park_timeout};
use crate::{PinnedCallback, StopToken, Stopped};

/// Sleeps for `duration`, or until a stop is requested on `token`, whichever
/// comes first.
///
/// Returns `Ok(())` when the whole duration passed without a stop, and
/// `Err(Stopped)` when a stop was requested before or during the sleep. The stop
/// wakes the thread through a stop callback that unparks it, so it returns within
/// scheduler latency, not at a polling tick. Spurious wake-ups do not shorten
/// the sleep. Nothing is allocated.
///
/// A stop that races the end of the sleep may leave the thread's park token set,
/// so one later [`std::thread::park`] of this thread may return at once (which
/// `park` allows anyway).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use stoptoken::{sleep, StopSource, Stopped};
///
/// let source = StopSource::new();
/// let token = source.token();
/// let sleeper = std::thread::spawn(move || sleep(Duration::from_secs(3600), &token));
/// source.request_stop();
/// assert_eq!(sleeper.join().unwrap(), Err(Stopped)); // long before an hour
/// assert_eq!(sleep(Duration::from_millis(1), &StopSource::new().token()), Ok(()));
/// ```
pub fn sleep(duration: Duration, token: &StopToken) -> Result<(), Stopped> {
    if token.stop_requested() {
        return Err(Stopped);
    }
    // `None` when the deadline is too far to represent: sleep until the stop.
    let deadline = Instant::now().checked_add(duration);
    let thread = current();
    let wake = pin!(PinnedCallback::new(token, move || thread.unpark()));
    wake.register();
    loop {
        if token.stop_requested() {
            return Err(Stopped);
        }
        match deadline {
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return Ok(());
                }
                park_timeout(deadline - now);
            }
            None => park(),
        }
    }
}

//! `sleep`: a blocking sleep that ends early on a stop request.
//!
//! A timed [`StopToken::wait_timeout`]: the sleeping thread registers a node
//! that unparks it on the stop, then parks until the deadline. A wake-up without
//! a stop (spurious, or another `unpark` of this thread) only makes it park
//! again for the time that is left; a token whose stop becomes impossible ends
//! the wait early, and the rest of the duration is slept without it.

use std::time::{Duration, Instant};

use crate::sync::{park, park_timeout};
use crate::{StopToken, Stopped};

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
    let start = Instant::now();
    if token.wait_timeout(duration) {
        return Err(Stopped);
    }
    // Timed out, or no stop can come any more: sleep out the rest.
    // `None` when the end is too far to represent: sleep for ever.
    let end = start.checked_add(duration);
    loop {
        match end {
            Some(end) => {
                let now = Instant::now();
                if now >= end {
                    return Ok(());
                }
                park_timeout(end - now);
            }
            None => park(),
        }
    }
}

//! Condition-variable waits over a user's `std::sync::{Mutex, Condvar}` that
//! also wake on a stop request (C++ `condition_variable_any::wait(lock, stoken,
//! pred)`), for code that already has that pair; [`Condvar`] is the form
//! without their restriction.
//!
//! The stop callback has only the user's mutex to order itself with the
//! waiter's check, so it locks that mutex before it notifies: a stop can then
//! never slip between the waiter's check and its wait. That callback is
//! registered and deregistered only while the waiter does not hold the mutex:
//! registering on a stopped token runs it at once on this thread, and
//! deregistering waits for it when it runs on another thread, where it may be
//! waiting for the mutex. A stop requested by a thread that holds the mutex
//! deadlocks (see `# Deadlocks` on the functions).
//!
//! [`Condvar`]: super::Condvar

use std::sync::LockResult;
use std::time::{Duration, Instant};

use super::condvar::{lock, outcome};
use crate::state::with_scoped_callback;
use crate::sync::{Condvar as StdCondvar, Mutex, MutexGuard};
use crate::StopToken;

/// Locks `mutex` and waits on the `std::sync::Condvar` `condvar` until `pred`
/// returns `true` or a stop is requested on `token`; returns the guard and the
/// last value of `pred` (C++ `condition_variable_any::wait(lock, stoken, pred)`).
///
/// `pred` is called with the lock held, first before any waiting; a stop
/// requested before the call returns at once. Notify the condvar after changing
/// the data, as with any condvar. Prefer [`Condvar::wait_while`], which has
/// neither the restriction under `# Deadlocks` nor the `T: Send` bound.
///
/// Deprecated since 0.2.0: one condition-variable wait, [`Condvar::wait_while`],
/// is kept.
///
/// `T` must be `Send`: the wait's stop callback locks `mutex` (so that the stop
/// cannot fall between the check and the wait), and that callback runs on the
/// thread that requests the stop, so `&Mutex<T>` is shared with that thread,
/// which needs `Mutex<T>: Sync`, that is `T: Send`.
///
/// # Deadlocks
/// Do not request the stop of `token` while holding `mutex`, on any thread: the
/// stop callback runs inside `request_stop` and locks `mutex`, so that thread
/// would lock a mutex it already holds (a deadlock, or a panic of `std`'s
/// mutex), and the waiter, which needs the mutex to return, would wait with it.
/// The same holds for a stop that reaches `token` through a parent source (a
/// `child_of` link, a `JThread`'s drop, the end of a `thread::scope`) while
/// that thread holds `mutex`. [`Condvar`] has no such restriction: its
/// callback never takes the user's mutex.
///
/// # Errors
/// Like `std`, a poisoned mutex gives `Err`, whose [`into_inner`] still holds
/// the guard and the result.
///
/// [`Condvar`]: super::Condvar
/// [`Condvar::wait_while`]: super::Condvar::wait_while
/// [`into_inner`]: std::sync::PoisonError::into_inner
///
/// # Examples
///
/// ```
/// # #![allow(deprecated)]
/// use std::sync::{Arc, Condvar, Mutex};
/// use stoptoken::{thread::wait_until, StopSource};
///
/// let queue = Arc::new((Mutex::new(Vec::<u32>::new()), Condvar::new()));
/// let source = StopSource::new();
/// let (q, token) = (queue.clone(), source.token());
/// let consumer = std::thread::spawn(move || {
///     let (mutex, condvar) = &*q;
///     let mut taken = Vec::new();
///     loop {
///         let (mut items, ready) =
///             wait_until(mutex, condvar, &token, |items| !items.is_empty()).unwrap();
///         if !ready {
///             return taken; // stopped
///         }
///         taken.append(&mut items);
///     }
/// });
/// queue.0.lock().unwrap().push(7);
/// queue.1.notify_all();
/// source.request_stop();
/// let taken = consumer.join().unwrap();
/// assert!(taken.is_empty() || taken == [7]);
/// ```
#[deprecated(
    since = "0.2.0",
    note = "use `stoptoken::thread::Condvar::wait_while` (std's polarity: the negated predicate), which a stop may reach while the mutex is held"
)]
pub fn wait_until<'a, T, P>(
    mutex: &'a Mutex<T>,
    condvar: &StdCondvar,
    token: &StopToken,
    pred: P,
) -> LockResult<(MutexGuard<'a, T>, bool)>
where
    T: Send,
    P: FnMut(&mut T) -> bool,
{
    wait_inner(mutex, condvar, token, pred, |guard| {
        match condvar.wait(guard) {
            Ok(guard) => Waited::Woken(guard),
            Err(error) => Waited::Poisoned(error.into_inner()),
        }
    })
}

/// Like [`wait_until`], but also gives up after `timeout`; returns the guard and
/// the last value of `pred` (`false` after a timeout or a stop). Prefer
/// [`Condvar::wait_timeout_while`].
///
/// `T` must be `Send`, for the reason given at [`wait_until`].
///
/// # Deadlocks
/// As for [`wait_until`]: do not request the stop of `token` while holding
/// `mutex`. [`Condvar`] has no such restriction.
///
/// # Errors
/// As for [`wait_until`].
///
/// [`Condvar`]: super::Condvar
/// [`Condvar::wait_timeout_while`]: super::Condvar::wait_timeout_while
///
/// # Examples
///
/// ```
/// # #![allow(deprecated)]
/// use std::sync::{Condvar, Mutex};
/// use std::time::Duration;
/// use stoptoken::{thread::wait_timeout_until, StopSource};
///
/// let (mutex, condvar) = (Mutex::new(false), Condvar::new());
/// let source = StopSource::new();
/// let (_guard, ready) =
///     wait_timeout_until(&mutex, &condvar, &source.token(), Duration::from_millis(5), |ready| *ready)
///         .unwrap();
/// assert!(!ready); // timed out
/// ```
#[deprecated(
    since = "0.2.0",
    note = "use `stoptoken::thread::Condvar::wait_timeout_while` (std's polarity: the negated predicate), which a stop may reach while the mutex is held"
)]
pub fn wait_timeout_until<'a, T, P>(
    mutex: &'a Mutex<T>,
    condvar: &StdCondvar,
    token: &StopToken,
    timeout: Duration,
    pred: P,
) -> LockResult<(MutexGuard<'a, T>, bool)>
where
    T: Send,
    P: FnMut(&mut T) -> bool,
{
    // `None` when the deadline is too far to represent: no timeout.
    let deadline = Instant::now().checked_add(timeout);
    wait_inner(mutex, condvar, token, pred, |guard| {
        let Some(deadline) = deadline else {
            return match condvar.wait(guard) {
                Ok(guard) => Waited::Woken(guard),
                Err(error) => Waited::Poisoned(error.into_inner()),
            };
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Waited::TimedOut(guard);
        }
        match condvar.wait_timeout(guard, left) {
            Ok((guard, _)) => Waited::Woken(guard),
            Err(error) => Waited::Poisoned(error.into_inner().0),
        }
    })
}

/// How one blocking wait ended.
enum Waited<'a, T> {
    Woken(MutexGuard<'a, T>),
    Poisoned(MutexGuard<'a, T>),
    /// The deadline had passed: no wait happened.
    TimedOut(MutexGuard<'a, T>),
}

/// The shared loop: `wait` blocks once (or reports the deadline passed).
///
/// The predicate and the stop are first checked under the lock with no
/// callback registered, so the common "already true" case costs one lock. To
/// wait, the notifying callback is registered with the mutex *released* (if the
/// stop was already requested it runs at once, on this thread, and takes the
/// mutex), then the mutex is taken for the check-and-wait loop, and released
/// again before the callback is deregistered (deregistering waits for a callback
/// running elsewhere, which may be waiting for the mutex). The next round
/// re-checks under a fresh lock, so the result is always the predicate's value
/// under the returned guard, and `false` only after a stop or a timeout, as in
/// C++.
fn wait_inner<'a, T, P, W>(
    mutex: &'a Mutex<T>,
    condvar: &StdCondvar,
    token: &StopToken,
    mut pred: P,
    mut wait: W,
) -> LockResult<(MutexGuard<'a, T>, bool)>
where
    T: Send,
    P: FnMut(&mut T) -> bool,
    W: FnMut(MutexGuard<'a, T>) -> Waited<'a, T>,
{
    let mut poisoned = false;
    let mut expired = false;
    loop {
        let (mut guard, lock_poisoned) = lock(mutex);
        poisoned |= lock_poisoned;
        let done = pred(&mut guard);
        if done || expired || token.stop_requested() {
            return outcome(guard, done, poisoned);
        }
        drop(guard);
        let notify = || {
            // Taking the mutex orders this notification after the waiter's
            // check of the stop flag, or before it, where it sees the flag.
            drop(mutex.lock());
            condvar.notify_all();
        };
        with_scoped_callback(token, notify, || {
            let (mut guard, lock_poisoned) = lock(mutex);
            poisoned |= lock_poisoned;
            loop {
                if pred(&mut guard) || token.stop_requested() {
                    // Released before the callback is deregistered (see above).
                    drop(guard);
                    return;
                }
                guard = match wait(guard) {
                    Waited::Woken(next) => next,
                    Waited::Poisoned(next) => {
                        poisoned = true;
                        next
                    }
                    Waited::TimedOut(next) => {
                        expired = true;
                        drop(next);
                        return;
                    }
                };
            }
        });
    }
}

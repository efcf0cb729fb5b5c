//! `Condvar`: a condition variable whose waits also end on a stop request (C++
//! `std::condition_variable_any` with its `stop_token` waits).
//!
//! The algorithm is libstdc++'s `condition_variable_any::wait(lock, stoken,
//! pred)`. The condvar owns an internal mutex and condvar, and the stop callback
//! of a wait takes only that internal mutex, never the user's. The waiter checks
//! the stop flag under the internal mutex, and only then releases the user's
//! mutex and sleeps (which releases the internal one). The callback takes the
//! internal mutex before it notifies, so it comes either before the check,
//! which then sees the flag (a stop sets the flag before it runs any callback),
//! or after the waiter went to sleep, which the notification then reaches.
//! `notify_one`/`notify_all` take the internal mutex the same way, so a change
//! made under the user's mutex before a notification is never missed either.
//! The internal mutex is never held while blocking on the user's mutex or while
//! running user code, so a stop or a notification may come from anywhere, also
//! from a thread that holds the user's mutex.

use std::fmt;
use std::sync::{LockResult, PoisonError};
use std::time::{Duration, Instant};

use crate::state::with_scoped_callback;
use crate::sync::{Condvar as StdCondvar, Mutex, MutexGuard};
use crate::StopToken;

/// A condition variable whose waits also end on a stop request: the Rust
/// counterpart of C++ `std::condition_variable_any` with its `stop_token`
/// waits (`wait(lock, stoken, pred)` and `wait_for(lock, stoken, rel_time,
/// pred)`).
///
/// It works with any `std::sync::Mutex<T>`: a wait locks the mutex, calls the
/// condition with the lock held, waits while it holds (std's `wait_while`
/// polarity), and returns the guard with whether the condition ended the wait. Notify with [`notify_one`](Condvar::notify_one) or
/// [`notify_all`](Condvar::notify_all) after changing the data, as with any
/// condvar.
///
/// Unlike with the deprecated free functions [`wait_until`](super::wait_until) and
/// [`wait_timeout_until`](super::wait_timeout_until), a
/// stop may be requested from any thread at any time, also by a thread that
/// holds the mutex being waited with ("lock the queue, mark it closed,
/// `request_stop`"): the stop callback of a wait takes only this condvar's own
/// internal lock, never the user's mutex. For the same reason the waits put no
/// `Send` bound on `T`.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use stoptoken::{thread::Condvar, JThread};
///
/// let queue = Arc::new((Mutex::new(Vec::<u32>::new()), Condvar::new()));
/// let q = queue.clone();
/// let consumer = JThread::spawn(move |token| {
///     let (mutex, condvar) = &*q;
///     let mut taken = Vec::new();
///     loop {
///         let (mut items, ready) =
///             condvar.wait_while(mutex, &token, |items| items.is_empty()).unwrap();
///         if !ready {
///             return taken; // stopped
///         }
///         taken.append(&mut items);
///     }
/// });
/// let (mutex, condvar) = &*queue;
/// mutex.lock().unwrap().push(7);
/// condvar.notify_all();
/// // Stopping while holding the queue's lock is fine with this condvar.
/// let closing = mutex.lock().unwrap();
/// consumer.request_stop();
/// drop(closing);
/// let taken = consumer.join().unwrap();
/// assert!(taken.is_empty() || taken == [7]);
/// ```
pub struct Condvar {
    /// Guards no data. Held from each waiter's stop check until it sleeps on
    /// `condvar`, and around each notification, so that neither a notification
    /// nor a stop falls between a waiter's check and its sleep.
    ///
    /// Invariant: never held while blocking on a user's mutex or while running
    /// user code (a predicate or a stop callback).
    lock: Mutex<()>,
    condvar: StdCondvar,
}

impl Condvar {
    /// A new condition variable with no waiters.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::thread::Condvar;
    ///
    /// static READY: Condvar = Condvar::new();
    /// READY.notify_all(); // nobody waits: nothing happens
    /// ```
    #[cfg(not(stoptoken_loom))]
    #[must_use]
    pub const fn new() -> Self {
        Condvar {
            lock: Mutex::new(()),
            condvar: StdCondvar::new(),
        }
    }

    /// A new condition variable with no waiters (not `const` under loom, whose
    /// primitives have no `const fn new`).
    #[cfg(stoptoken_loom)]
    #[must_use]
    pub fn new() -> Self {
        Condvar {
            lock: Mutex::new(()),
            condvar: StdCondvar::new(),
        }
    }

    /// Wakes one thread waiting on this condvar, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use stoptoken::{thread::Condvar, StopSource};
    ///
    /// let pair = Arc::new((Mutex::new(false), Condvar::new()));
    /// let source = StopSource::new();
    /// let (p, token) = (pair.clone(), source.token());
    /// let waiter = std::thread::spawn(move || {
    ///     let (mutex, condvar) = &*p;
    ///     let (_guard, ready) = condvar.wait_while(mutex, &token, |ready| !*ready).unwrap();
    ///     ready
    /// });
    /// *pair.0.lock().unwrap() = true;
    /// pair.1.notify_one();
    /// assert!(waiter.join().unwrap());
    /// ```
    pub fn notify_one(&self) {
        // Taking the internal lock puts this notification either before a
        // waiter's stop check and predicate, or after it went to sleep; the
        // lock is released first so the woken waiter does not wait for it.
        drop(self.lock_internal());
        self.condvar.notify_one();
    }

    /// Wakes all threads waiting on this condvar.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use stoptoken::{thread::Condvar, StopSource};
    ///
    /// let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
    /// let source = StopSource::new();
    /// let waiters: Vec<_> = (0..3)
    ///     .map(|_| {
    ///         let (p, token) = (pair.clone(), source.token());
    ///         std::thread::spawn(move || {
    ///             let (mutex, condvar) = &*p;
    ///             condvar.wait_while(mutex, &token, |n| *n == 0).unwrap().1
    ///         })
    ///     })
    ///     .collect();
    /// *pair.0.lock().unwrap() = 1;
    /// pair.1.notify_all();
    /// for waiter in waiters {
    ///     assert!(waiter.join().unwrap());
    /// }
    /// ```
    pub fn notify_all(&self) {
        // As in `notify_one`.
        drop(self.lock_internal());
        self.condvar.notify_all();
    }

    /// Locks `mutex` and waits while `condition` returns `true`, until it
    /// returns `false` or a stop is requested on `token`; returns the guard and
    /// whether the condition ended the wait (C++
    /// `condition_variable_any::wait(lock, stoken, pred)` with `pred` =
    /// `!condition`, and std's [`Condvar::wait_while`](std::sync::Condvar::wait_while)
    /// with a stop).
    ///
    /// `condition` is called with the lock held, first before any waiting, then
    /// after each wake-up. The returned `bool` is `true` when `condition`
    /// returned `false` (the wait is over: what it waited for is there), and
    /// `false` when a stop ended the wait, with `condition` still `true` under
    /// the returned guard. If the stop was already requested, `condition` is
    /// called once and not waited on. The stop may be requested from any
    /// thread, also from one that holds `mutex`, and from `condition` itself.
    ///
    /// A stop that can no longer come (every source dropped without a request)
    /// does not end the wait: it ends on a notification that makes `condition`
    /// `false` (see the waits table in the README).
    ///
    /// # Errors
    /// Like `std`, a poisoned mutex gives `Err`, whose
    /// [`into_inner`](PoisonError::into_inner) still holds the guard and the result.
    ///
    /// # Panics
    /// A panic of `condition` propagates (the wait's stop callback is
    /// deregistered on the way out). As with `std::sync::Mutex::lock`, calling
    /// this while the current thread already holds `mutex` may panic or
    /// deadlock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use stoptoken::{thread::Condvar, StopSource};
    ///
    /// struct Queue {
    ///     items: Vec<u32>,
    ///     closed: bool,
    /// }
    /// let queue = Queue { items: vec![], closed: false };
    /// let shared = Arc::new((Mutex::new(queue), Condvar::new()));
    /// let source = StopSource::new();
    /// let (s, token) = (shared.clone(), source.token());
    /// let consumer = std::thread::spawn(move || {
    ///     let (mutex, condvar) = &*s;
    ///     let (_queue, got_items) =
    ///         condvar.wait_while(mutex, &token, |queue| queue.items.is_empty()).unwrap();
    ///     got_items
    /// });
    /// // Close the queue and stop the consumer under one lock: no deadlock.
    /// let mut queue = shared.0.lock().unwrap();
    /// queue.closed = true;
    /// source.request_stop();
    /// drop(queue);
    /// assert!(!consumer.join().unwrap()); // the stop ended the wait
    /// ```
    pub fn wait_while<'a, T, C>(
        &self,
        mutex: &'a Mutex<T>,
        token: &StopToken,
        mut condition: C,
    ) -> LockResult<(MutexGuard<'a, T>, bool)>
    where
        C: FnMut(&mut T) -> bool,
    {
        self.wait_loop(mutex, token, None, |value| !condition(value))
    }

    /// Like [`wait_while`](Condvar::wait_while), but also gives up after
    /// `timeout` (C++ `condition_variable_any::wait_for(lock, stoken,
    /// rel_time, pred)`, std's
    /// [`Condvar::wait_timeout_while`](std::sync::Condvar::wait_timeout_while)
    /// with a stop).
    ///
    /// The `bool` is `false` when a stop or the timeout ended the wait. A
    /// `timeout` too long to represent as a deadline waits without one.
    ///
    /// # Errors
    /// As for [`wait_while`](Condvar::wait_while).
    ///
    /// # Panics
    /// As for [`wait_while`](Condvar::wait_while).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use std::time::Duration;
    /// use stoptoken::{thread::Condvar, StopSource};
    ///
    /// let (mutex, condvar) = (Mutex::new(false), Condvar::new());
    /// let source = StopSource::new();
    /// let five_ms = Duration::from_millis(5);
    /// let (_guard, ready) =
    ///     condvar.wait_timeout_while(&mutex, &source.token(), five_ms, |ready| !*ready).unwrap();
    /// assert!(!ready); // timed out
    /// ```
    pub fn wait_timeout_while<'a, T, C>(
        &self,
        mutex: &'a Mutex<T>,
        token: &StopToken,
        timeout: Duration,
        mut condition: C,
    ) -> LockResult<(MutexGuard<'a, T>, bool)>
    where
        C: FnMut(&mut T) -> bool,
    {
        // `None` when the deadline is too far to represent: no timeout.
        let deadline = Instant::now().checked_add(timeout);
        self.wait_loop(mutex, token, deadline, |value| !condition(value))
    }

    /// Like [`wait_while`](Condvar::wait_while), but also gives up at the
    /// instant `deadline` (C++ `condition_variable_any::wait_until(lock,
    /// stoken, abs_time, pred)`).
    ///
    /// The `bool` is `false` when a stop or the deadline ended the wait; a
    /// deadline already past still calls `condition` once.
    ///
    /// # Errors
    /// As for [`wait_while`](Condvar::wait_while).
    ///
    /// # Panics
    /// As for [`wait_while`](Condvar::wait_while).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use std::time::{Duration, Instant};
    /// use stoptoken::{thread::Condvar, StopSource};
    ///
    /// let (mutex, condvar) = (Mutex::new(0u32), Condvar::new());
    /// let source = StopSource::new();
    /// let deadline = Instant::now() + Duration::from_millis(5);
    /// let (_guard, ready) =
    ///     condvar.wait_deadline_while(&mutex, &source.token(), deadline, |n| *n == 0).unwrap();
    /// assert!(!ready); // the deadline passed
    /// ```
    pub fn wait_deadline_while<'a, T, C>(
        &self,
        mutex: &'a Mutex<T>,
        token: &StopToken,
        deadline: Instant,
        mut condition: C,
    ) -> LockResult<(MutexGuard<'a, T>, bool)>
    where
        C: FnMut(&mut T) -> bool,
    {
        self.wait_loop(mutex, token, Some(deadline), |value| !condition(value))
    }

    /// Waits until `pred` returns `true` or a stop is requested: the old name
    /// of [`wait_while`](Condvar::wait_while) with the predicate's polarity
    /// reversed (`wait_until(m, t, pred)` is `wait_while(m, t, |v| !pred(v))`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #![allow(deprecated)]
    /// use std::sync::Mutex;
    /// use stoptoken::{thread::Condvar, StopSource};
    ///
    /// let (mutex, condvar) = (Mutex::new(true), Condvar::new());
    /// let (_guard, ready) = condvar.wait_until(&mutex, &StopSource::new().token(), |r| *r).unwrap();
    /// assert!(ready);
    /// ```
    #[deprecated(
        since = "0.2.0",
        note = "reads like C++'s absolute-time `wait_until`; use `wait_while` (std's polarity: wait while the condition holds) with the negated predicate"
    )]
    pub fn wait_until<'a, T, P>(
        &self,
        mutex: &'a Mutex<T>,
        token: &StopToken,
        pred: P,
    ) -> LockResult<(MutexGuard<'a, T>, bool)>
    where
        P: FnMut(&mut T) -> bool,
    {
        self.wait_loop(mutex, token, None, pred)
    }

    /// Like the deprecated [`wait_until`](Condvar::wait_until), with a timeout:
    /// the old name of [`wait_timeout_while`](Condvar::wait_timeout_while) with
    /// the predicate's polarity reversed.
    ///
    /// # Examples
    ///
    /// ```
    /// # #![allow(deprecated)]
    /// use std::sync::Mutex;
    /// use std::time::Duration;
    /// use stoptoken::{thread::Condvar, StopSource};
    ///
    /// let (mutex, condvar) = (Mutex::new(false), Condvar::new());
    /// let five_ms = Duration::from_millis(5);
    /// let token = StopSource::new().token();
    /// let (_guard, ready) = condvar.wait_timeout_until(&mutex, &token, five_ms, |r| *r).unwrap();
    /// assert!(!ready);
    /// ```
    #[deprecated(
        since = "0.2.0",
        note = "use `wait_timeout_while` (std's polarity: wait while the condition holds) with the negated predicate"
    )]
    pub fn wait_timeout_until<'a, T, P>(
        &self,
        mutex: &'a Mutex<T>,
        token: &StopToken,
        timeout: Duration,
        pred: P,
    ) -> LockResult<(MutexGuard<'a, T>, bool)>
    where
        P: FnMut(&mut T) -> bool,
    {
        let deadline = Instant::now().checked_add(timeout);
        self.wait_loop(mutex, token, deadline, pred)
    }

    /// libstdc++'s `condition_variable_any::wait(lock, stoken, pred)`, with an
    /// optional deadline:
    ///
    /// ```text
    /// lock user; if stopped: return pred()
    /// register a stop callback that calls notify_all()
    /// while !pred():
    ///     if the deadline passed: return false
    ///     lock internal
    ///     if stopped: unlock internal; return false      (user lock kept)
    ///     unlock user; sleep on internal; unlock internal; lock user
    /// return true
    /// ```
    ///
    /// The first `pred` runs before the registration, so a wait that need not
    /// block registers nothing. The callback is registered and deregistered with
    /// the user's lock held, which is fine: the callback takes only the internal
    /// lock, which this thread does not hold then, and deregistering waits for
    /// this callback alone, never for another one (which might want the user's
    /// lock).
    fn wait_loop<'a, T, P>(
        &self,
        mutex: &'a Mutex<T>,
        token: &StopToken,
        deadline: Option<Instant>,
        mut pred: P,
    ) -> LockResult<(MutexGuard<'a, T>, bool)>
    where
        P: FnMut(&mut T) -> bool,
    {
        let (mut guard, mut poisoned) = lock(mutex);
        if token.stop_requested() {
            let done = pred(&mut guard);
            return outcome(guard, done, poisoned);
        }
        if pred(&mut guard) {
            return outcome(guard, true, poisoned);
        }
        let (guard, done) = with_scoped_callback(
            token,
            || self.notify_all(),
            || {
                // Here `pred` is false under `guard`.
                loop {
                    let timeout = match deadline {
                        None => None,
                        Some(deadline) => {
                            let left = deadline.saturating_duration_since(Instant::now());
                            if left.is_zero() {
                                return (guard, false);
                            }
                            Some(left)
                        }
                    };
                    let internal = self.lock_internal();
                    // Checked under the internal lock: a stop callback that has not
                    // taken it yet notifies after we sleep (see the module doc).
                    if token.stop_requested() {
                        drop(internal);
                        return (guard, false);
                    }
                    // Released only now, so a notifier that changes the data under
                    // the user's lock then calls `notify_*` finds us asleep.
                    drop(guard);
                    let internal = match timeout {
                        None => self
                            .condvar
                            .wait(internal)
                            .unwrap_or_else(PoisonError::into_inner),
                        Some(timeout) => {
                            self.condvar
                                .wait_timeout(internal, timeout)
                                .unwrap_or_else(PoisonError::into_inner)
                                .0
                        }
                    };
                    // Never block on the user's lock with the internal one held: a
                    // thread holding the user's lock may be requesting the stop.
                    drop(internal);
                    let (next, lock_poisoned) = lock(mutex);
                    poisoned |= lock_poisoned;
                    guard = next;
                    if pred(&mut guard) {
                        return (guard, true);
                    }
                }
            },
        );
        outcome(guard, done, poisoned)
    }

    /// Takes the internal lock; it guards no data, so poisoning is ignored.
    fn lock_internal(&self) -> MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for Condvar {
    /// Same as [`Condvar::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// let condvar = stoptoken::thread::Condvar::default();
    /// condvar.notify_one();
    /// ```
    fn default() -> Self {
        Condvar::new()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}

/// Locks, recovering the guard from a poisoned mutex; says whether it was.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> (MutexGuard<'_, T>, bool) {
    match mutex.lock() {
        Ok(guard) => (guard, false),
        Err(error) => (error.into_inner(), true),
    }
}

/// The result of a wait: `Err` when the mutex was poisoned at any lock.
pub(super) fn outcome<G>(guard: G, done: bool, poisoned: bool) -> LockResult<(G, bool)> {
    if poisoned {
        Err(PoisonError::new((guard, done)))
    } else {
        Ok((guard, done))
    }
}

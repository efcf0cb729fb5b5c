//! The deadline thread: one thread per process, started by the first deadline
//! source, that stops each deadline source's state when its instant passes.
//!
//! It is not a timer wheel: the pending deadlines sit in one ordered map, and the
//! thread waits on a condition variable with `std`'s `wait_timeout` until the
//! earliest one (or until an earlier one is added). Adding and cancelling an
//! entry take one mutex round trip, O(log n); firing takes the due entries out of
//! the map and requests their stops with the mutex released, so the stop
//! callbacks that run on this thread may create or drop deadline sources.
//!
//! An entry holds a weak reference to the state: the timer keeps neither the
//! state nor its links alive. The deadline belongs to the state (it counts as
//! one of its stoppers, so `stop_possible()` stays `true` until it fires), and
//! when the state's last handle goes, its teardown removes the entry at once.
//! Firing upgrades the weak reference under the mutex (a state whose last
//! handle is gone is skipped: its teardown is removing the entry) and stops
//! the state with the mutex released.
//!
//! Concurrency: the map is only read and written under the one mutex, and the
//! thread re-checks the earliest entry under it after every wake-up, so an
//! insertion cannot be missed (the textbook mutex + condvar pattern; `std`'s
//! primitives, not the loom shim, since the thread is process-wide). The one
//! lock-free interaction, an upgrade racing the last handle's drop, is the
//! compare-exchange of `SharedWeak::upgrade` against the handle count, which
//! the loom model `loom_link::token_only_child_vs_parent_stop_vs_last_drop`
//! explores through the same upgrade from a link.
//!
//! Why not the async runtime's timer when one is running: a tokio timer only
//! fires while its runtime is alive and driven, so a deadline source handed to a
//! plain thread would silently never fire after the runtime shut down (or while
//! a current-thread runtime is blocked). One parked thread is cheap and always
//! fires; async code that wants a timer on its runtime has `task::sleep`.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::state::{drop_payload, Shared, SharedRef, SharedWeak, TimerHook};
use crate::{StopReason, StopSource, StopToken};

impl StopSource {
    /// A new engaged source that stops itself at `deadline`, with
    /// [`StopReason::Deadline`]; at once, before returning, if `deadline` has
    /// passed.
    ///
    /// Every deadline source of the process shares one timer thread (started by
    /// the first one, parked while nothing is due); a state costs one entry in
    /// its ordered map, and when the state's last handle (source or token)
    /// goes, the entry is removed at once.
    /// The deadline's stop callbacks run on that thread, so keep them short:
    /// they delay other deadlines, and a callback that blocks until another
    /// deadline fires (say, `other.token().wait()`) deadlocks every deadline of
    /// the process. This holds for the callbacks of `child_of`/`any_of` sources
    /// fed by a deadline source too: they run on the same thread.
    ///
    /// The deadline belongs to the state, not to this source: a token keeps it,
    /// so `StopSource::after(d).token()` is a token that stops after `d` (its
    /// `stop_possible()` stays `true` until then). To stop at a deadline *or*
    /// on a parent's stop, see [`StopSource::child_with_deadline`].
    ///
    /// # Panics
    /// If the timer thread cannot be spawned (the first time only).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use stoptoken::{StopReason, StopSource};
    ///
    /// let source = StopSource::with_deadline(Instant::now() + Duration::from_millis(10));
    /// let token = source.token();
    /// assert!(token.wait()); // woken by the timer thread
    /// assert_eq!(token.stop_reason(), Some(&StopReason::Deadline));
    /// ```
    #[must_use = "a source that is dropped at once cannot request a stop; keep it, or keep only `.token()` to observe the deadline"]
    pub fn with_deadline(deadline: Instant) -> StopSource {
        deadline_source(None, Some(deadline))
    }

    /// [`StopSource::with_deadline`] at `timeout` from now. A timeout too long to
    /// represent as an [`Instant`] never fires.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use stoptoken::StopSource;
    ///
    /// let source = StopSource::after(Duration::from_secs(3600));
    /// assert!(!source.stop_requested());
    /// drop(source); // cancels the timer entry
    /// ```
    #[must_use = "a source that is dropped at once cannot request a stop; keep it, or keep only `.token()` to observe the deadline"]
    pub fn after(timeout: Duration) -> StopSource {
        deadline_source(None, Instant::now().checked_add(timeout))
    }

    /// A new engaged source that is stopped when `parent` is stopped (with the
    /// parent's reason) or when `deadline` passes (with
    /// [`StopReason::Deadline`]), whichever comes first: a request's time budget
    /// inside a server's shutdown. The rules of [`StopSource::child_of`] and
    /// [`StopSource::with_deadline`] apply.
    ///
    /// # Panics
    /// If the timer thread cannot be spawned (the first time only).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use stoptoken::{StopReason, StopSource};
    ///
    /// let shutdown = StopSource::new();
    /// let request =
    ///     StopSource::child_with_deadline(&shutdown.token(), Instant::now() + Duration::from_secs(60));
    /// shutdown.request_stop_with(StopReason::Message("shutdown"));
    /// assert_eq!(request.token().stop_reason(), Some(&StopReason::Message("shutdown")));
    /// ```
    #[must_use = "a source that is dropped at once cannot request a stop; keep it, or keep only `.token()` to observe the deadline"]
    pub fn child_with_deadline(parent: &StopToken, deadline: Instant) -> StopSource {
        deadline_source(parent.shared(), Some(deadline))
    }
}

/// A state with one source, linked to `parent` (if any), stopped at `deadline`
/// (if any; at once if it has passed).
fn deadline_source(parent: Option<&SharedRef>, deadline: Option<Instant>) -> StopSource {
    let due = deadline
        .filter(|&deadline| deadline <= Instant::now())
        .is_some();
    let timer = deadline
        .filter(|_| !due)
        .map(|at| (at, schedule as fn(_, _) -> _));
    let source = StopSource::from_new(Shared::new_linked(parent.cloned(), timer));
    if due {
        source.request_stop_with(StopReason::Deadline);
    }
    source
}

/// Orders entries by instant, then by insertion (ids are never reused).
type Key = (Instant, u64);

struct Timer {
    queue: Mutex<Queue>,
    /// Notified when an entry becomes the earliest one.
    changed: Condvar,
}

#[derive(Default)]
struct Queue {
    entries: BTreeMap<Key, SharedWeak>,
    next_id: u64,
    /// When the timer thread wakes next on its own (`None`: not before it
    /// is notified). An entry due before that notifies it; a later one, or a
    /// removal, does not (the thread finds out when it wakes, and sleeps on).
    wakes_at: Option<Instant>,
}

/// Removes the entry `(at, id)`, if it has not fired: the state's teardown
/// calls it through the [`TimerHook`].
fn cancel(at: Instant, id: u64) {
    let removed = timer().lock().entries.remove(&(at, id));
    // Dropped with the mutex released (a weak reference's drop may free memory).
    drop(removed);
}

/// Schedules a stop of the state behind `weak` with [`StopReason::Deadline`]
/// at `at`.
///
/// # Panics
/// If the deadline thread cannot be started (the first time only).
fn schedule(at: Instant, weak: SharedWeak) -> TimerHook {
    let timer = timer();
    let mut queue = timer.lock();
    let id = queue.next_id;
    queue.next_id += 1;
    queue.entries.insert((at, id), weak);
    // The thread must wake earlier than it planned to: tell it, once (it
    // sets `wakes_at` again when it goes back to sleep).
    let sooner = queue.wakes_at.is_none_or(|wakes_at| at < wakes_at);
    if sooner {
        queue.wakes_at = Some(at);
    }
    drop(queue);
    if sooner {
        timer.changed.notify_one();
    }
    TimerHook { at, id, cancel }
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<Timer> = OnceLock::new();
    static THREAD: OnceLock<()> = OnceLock::new();
    let timer = TIMER.get_or_init(|| Timer {
        queue: Mutex::new(Queue::default()),
        changed: Condvar::new(),
    });
    THREAD.get_or_init(|| {
        std::thread::Builder::new()
            .name("stoptoken-deadline".into())
            .spawn(move || timer.run())
            .expect("stoptoken: cannot start the deadline thread");
    });
    timer
}

impl Timer {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // The queue is never left half-updated (no user code runs under the
        // mutex), so a poisoned lock is still consistent.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn run(&self) -> ! {
        let mut queue = self.lock();
        loop {
            let now = Instant::now();
            let Some((&(at, _), _)) = queue.entries.first_key_value() else {
                queue.wakes_at = None;
                queue = self
                    .changed
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            };
            if at > now {
                queue.wakes_at = Some(at);
                queue = self
                    .changed
                    .wait_timeout(queue, at - now)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
                continue;
            }
            let later = queue.entries.split_off(&(now, u64::MAX));
            let entries = std::mem::replace(&mut queue.entries, later);
            // Upgraded under the mutex: a state whose last handle is gone is
            // skipped (its teardown waits for the mutex to remove the entry,
            // and finds it gone).
            let due: Vec<SharedRef> = entries.values().filter_map(SharedWeak::upgrade).collect();
            drop(queue);
            // The weak references go with the mutex released (the last one
            // frees its state's memory), before the states are fired.
            drop(entries);
            for shared in due {
                // Drops the handle inside the closure, with the mutex released
                // (it may be the last one, whose teardown takes the mutex).
                let fire = move || {
                    shared
                        .state()
                        .request_stop_if_possible(StopReason::Deadline)
                };
                // A panicking stop callback is reported by the panic hook; it
                // must not end this thread, which serves every deadline.
                if let Err(payload) = catch_unwind(AssertUnwindSafe(fire)) {
                    drop_payload(payload);
                }
            }
            queue = self.lock();
        }
    }
}

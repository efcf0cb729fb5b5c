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
//! An entry holds an `Arc` of the state (not a source): the timer never keeps a
//! stop possible by itself. It stops the state with
//! `request_stop_if_possible`, so a deadline that fires while the last source
//! is being dropped leaves the state unstopped, as if it had been cancelled.
//!
//! Concurrency: the map is only read and written under the one mutex, and the
//! thread re-checks the earliest entry under it after every wake-up, so an
//! insertion cannot be missed (the textbook mutex + condvar pattern; `std`'s
//! primitives, not the loom shim, since the thread is process-wide). The one
//! lock-free interaction, a firing racing the last source's drop, is
//! `request_stop_if_possible` against `remove_source`, which the loom model
//! `loom_core::child_drop_then_parent_stop_keeps_stop_possible_monotonic`
//! explores through the same call from a `child_of` link.
//!
//! Why not the async runtime's timer when one is running: a tokio timer only
//! fires while its runtime is alive and driven, so a deadline source handed to a
//! plain thread would silently never fire after the runtime shut down (or while
//! a current-thread runtime is blocked). One parked thread is cheap and always
//! fires; async code that wants a timer on its runtime has `task::sleep`.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;

use crate::state::{drop_payload, Shared};
use crate::sync::Arc;
use crate::StopReason;

/// Orders entries by instant, then by insertion (ids are never reused).
type Key = (Instant, u64);

struct Timer {
    queue: Mutex<Queue>,
    /// Notified when an entry becomes the earliest one.
    changed: Condvar,
}

#[derive(Default)]
struct Queue {
    entries: BTreeMap<Key, Arc<Shared>>,
    next_id: u64,
}

/// A scheduled deadline; dropping it cancels the entry (it is the attachment of
/// the deadline source's state, dropped with the last source).
pub(crate) struct DeadlineEntry {
    key: Key,
}

impl Drop for DeadlineEntry {
    fn drop(&mut self) {
        let removed = timer().lock().entries.remove(&self.key);
        // Dropped with the mutex released: it may be the state's last `Arc`.
        drop(removed);
    }
}

/// Schedules a stop of `shared` with [`StopReason::Deadline`] at `at`.
///
/// # Panics
/// If the deadline thread cannot be started (the first time only).
pub(crate) fn schedule(at: Instant, shared: Arc<Shared>) -> DeadlineEntry {
    let timer = timer();
    let mut queue = timer.lock();
    let key = (at, queue.next_id);
    queue.next_id += 1;
    queue.entries.insert(key, shared);
    let earliest = queue.entries.keys().next() == Some(&key);
    drop(queue);
    if earliest {
        timer.changed.notify_one();
    }
    DeadlineEntry { key }
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
                queue = self
                    .changed
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            };
            if at > now {
                queue = self
                    .changed
                    .wait_timeout(queue, at - now)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
                continue;
            }
            let later = queue.entries.split_off(&(now, u64::MAX));
            let due = std::mem::replace(&mut queue.entries, later);
            drop(queue);
            for shared in due.into_values() {
                // Drops the state's `Arc` inside the closure, with the mutex
                // released (it may be the last one).
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

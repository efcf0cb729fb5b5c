//! loom models of the blocking waits that wake on a stop: a stop racing the
//! condvar wait's predicate check and wait, or `sleep`'s registration and park,
//! is never missed (a missed one deadlocks, which loom reports). For
//! `thread::Condvar`, a notification racing the wait is never missed either, and
//! a stop requested while holding the user's mutex neither deadlocks nor is
//! missed.
//!
//! loom has no clock: under loom, `sleep`'s timed park is an untimed park and
//! `Condvar::wait_timeout` never times out, so these models cover the stop
//! races only; the timeouts are tested with real time in `tests/wait.rs`.
//!
//! Run with:
//! `RUSTFLAGS="--cfg stoptoken_loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release --test loom_wait`

// The deprecated waits (the free functions, `Condvar::wait_until`) keep their
// tests until they are removed; the new names are thin wrappers of the same loop.
#![allow(deprecated)]
#![cfg(stoptoken_loom)]

#[path = "common/loom.rs"]
mod common;

use std::time::Duration;

use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;
use stoptoken::thread::{wait_timeout_until, wait_until, Condvar as StopCondvar};
use stoptoken::{sleep, StopSource, Stopped};

const HOUR: Duration = Duration::from_secs(3600);

/// The predicate never becomes true: only the stop can end the wait.
#[test]
fn stop_racing_the_condvar_wait_is_never_missed() {
    common::model_bounded(2, || {
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let source = StopSource::new();
        let (p, token) = (pair.clone(), source.token());
        let waiter = thread::spawn(move || {
            let (mutex, condvar) = &*p;
            let (_guard, ready) = wait_until(mutex, condvar, &token, |ready| *ready).unwrap();
            ready
        });
        source.request_stop();
        assert!(!waiter.join().unwrap());
    });
}

/// A notification and a stop race: the wait ends either way, and reports the
/// predicate as it is under the returned guard.
#[test]
fn notify_and_stop_race() {
    common::model_bounded(2, || {
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let source = StopSource::new();
        let (p, token) = (pair.clone(), source.token());
        let waiter = thread::spawn(move || {
            let (mutex, condvar) = &*p;
            let (guard, ready) = wait_until(mutex, condvar, &token, |ready| *ready).unwrap();
            assert_eq!(ready, *guard);
        });
        *pair.0.lock().unwrap() = true;
        pair.1.notify_all();
        source.request_stop();
        waiter.join().unwrap();
    });
}

/// The timed form with a timeout that never comes: only the stop ends it.
#[test]
fn stop_racing_the_timed_condvar_wait_is_never_missed() {
    common::model_bounded(2, || {
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let source = StopSource::new();
        let (p, token) = (pair.clone(), source.token());
        let waiter = thread::spawn(move || {
            let (mutex, condvar) = &*p;
            let (_guard, ready) =
                wait_timeout_until(mutex, condvar, &token, HOUR, |ready| *ready).unwrap();
            ready
        });
        source.request_stop();
        assert!(!waiter.join().unwrap());
    });
}

/// A stop racing `sleep` (before its check, between its registration and its
/// park, or while it is parked) always wakes it with `Err(Stopped)`.
#[test]
fn stop_racing_sleep_is_never_missed() {
    common::model_bounded(2, || {
        let source = StopSource::new();
        let token = source.token();
        let sleeper = thread::spawn(move || sleep(HOUR, &token));
        source.request_stop();
        assert_eq!(sleeper.join().unwrap(), Err(Stopped));
    });
}

/// The same with a duration too long for a deadline (the untimed park path).
#[test]
fn stop_racing_an_endless_sleep_is_never_missed() {
    common::model_bounded(2, || {
        let source = StopSource::new();
        let token = source.token();
        let sleeper = thread::spawn(move || sleep(Duration::MAX, &token));
        source.request_stop();
        assert_eq!(sleeper.join().unwrap(), Err(Stopped));
    });
}

/// `thread::Condvar`, whose predicate never becomes true: only the stop can
/// end the wait, whether it comes before the first check, between the stop
/// check and the sleep, or during the sleep.
#[test]
fn stop_racing_the_stop_condvar_wait_is_never_missed() {
    common::model(|| {
        let pair = Arc::new((Mutex::new(false), StopCondvar::new()));
        let source = StopSource::new();
        let (p, token) = (pair.clone(), source.token());
        let waiter = thread::spawn(move || {
            let (mutex, condvar) = &*p;
            let (_guard, ready) = condvar.wait_until(mutex, &token, |ready| *ready).unwrap();
            ready
        });
        source.request_stop();
        assert!(!waiter.join().unwrap());
    });
}

/// `thread::Condvar` with no stop: the data changes under the lock, then one
/// `notify_one`; the waiter, registered for a stop that never comes, must see
/// the change whatever the interleaving.
#[test]
fn notify_racing_the_stop_condvar_wait_is_never_missed() {
    common::model(|| {
        let pair = Arc::new((Mutex::new(false), StopCondvar::new()));
        let source = StopSource::new();
        let (p, token) = (pair.clone(), source.token());
        let waiter = thread::spawn(move || {
            let (mutex, condvar) = &*p;
            let (_guard, ready) = condvar.wait_until(mutex, &token, |ready| *ready).unwrap();
            ready
        });
        *pair.0.lock().unwrap() = true;
        pair.1.notify_one();
        assert!(waiter.join().unwrap());
        assert!(!source.stop_requested());
    });
}

/// The review's scenario: "lock the queue, mark it closed, notify, request
/// the stop", all under the queue's lock. The notification and the stop
/// callback run on this thread, which holds the user's mutex: neither may need
/// it, and a waiter woken by the notification must not hold the condvar's
/// internal lock while it waits for the user's mutex (the stop callback needs
/// that lock next). The waiter must still be woken, and returns with the lock
/// after the requester released it, so it sees `closed`.
#[test]
fn stop_requested_while_holding_the_users_mutex_neither_deadlocks_nor_is_missed() {
    common::model(|| {
        // (items ready, closed)
        let pair = Arc::new((Mutex::new((false, false)), StopCondvar::new()));
        let source = StopSource::new();
        let (p, token) = (pair.clone(), source.token());
        let waiter = thread::spawn(move || {
            let (mutex, condvar) = &*p;
            let (guard, ready) = condvar
                .wait_until(mutex, &token, |(items, _)| *items)
                .unwrap();
            (ready, guard.1)
        });
        let mut queue = pair.0.lock().unwrap();
        queue.1 = true;
        pair.1.notify_all();
        assert!(source.request_stop());
        drop(queue);
        assert_eq!(waiter.join().unwrap(), (false, true));
    });
}

/// A notification and a stop race on `thread::Condvar`: the wait ends either
/// way and reports the predicate as it is under the returned guard.
#[test]
fn notify_and_stop_race_on_the_stop_condvar() {
    common::model_bounded(2, || {
        let pair = Arc::new((Mutex::new(false), StopCondvar::new()));
        let source = StopSource::new();
        let (p, token) = (pair.clone(), source.token());
        let waiter = thread::spawn(move || {
            let (mutex, condvar) = &*p;
            let (guard, ready) = condvar.wait_until(mutex, &token, |ready| *ready).unwrap();
            assert_eq!(ready, *guard);
        });
        *pair.0.lock().unwrap() = true;
        pair.1.notify_all();
        source.request_stop();
        waiter.join().unwrap();
    });
}

/// The timed form of `thread::Condvar` with a timeout that never comes (loom
/// has no clock): only the stop ends it.
#[test]
fn stop_racing_the_timed_stop_condvar_wait_is_never_missed() {
    common::model(|| {
        let pair = Arc::new((Mutex::new(false), StopCondvar::new()));
        let source = StopSource::new();
        let (p, token) = (pair.clone(), source.token());
        let waiter = thread::spawn(move || {
            let (mutex, condvar) = &*p;
            let (_guard, ready) = condvar
                .wait_timeout_until(mutex, &token, HOUR, |ready| *ready)
                .unwrap();
            ready
        });
        source.request_stop();
        assert!(!waiter.join().unwrap());
    });
}

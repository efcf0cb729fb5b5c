//! loom model of the condvar wait that wakes on a stop: a stop racing the
//! predicate check and the wait is never missed (a missed one deadlocks, which
//! loom reports). `sleep` uses `park_timeout`, which loom does not model; its
//! wake-up is the same stop-callback-unparks-the-thread protocol that
//! `tests/loom_future.rs` and `tests/loom_core.rs` cover.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" cargo test --release --test loom_wait`
#![cfg(loom)]

use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;
use stoptoken::thread::wait_until;
use stoptoken::StopSource;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(2);
    }
    builder.check(f);
}

/// The predicate never becomes true: only the stop can end the wait.
#[test]
fn stop_racing_the_condvar_wait_is_never_missed() {
    model(|| {
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
    model(|| {
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

//! loom models of a stop group's count against its drain waits: a unit that
//! ends while a waiter checks the count and parks (a blocking `wait`, a
//! `shutdown`, a `drained()` future) always wakes it, and a unit added
//! during the drain keeps it waiting. A missed end deadlocks, which loom
//! reports (checked once against a registry whose waiter registered after
//! releasing the lock).
//!
//! loom has no clock: a `shutdown`'s timed wait is an untimed one here, so
//! these models cover the races of the count; the deadline is tested with
//! real time in `tests/group.rs`.
//!
//! Run with:
//! `RUSTFLAGS="--cfg stoptoken_loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release --test loom_group`
#![cfg(stoptoken_loom)]

#[path = "common/loom.rs"]
mod common;

use std::time::Duration;

use common::{block_on, model};
use loom::sync::Arc;
use loom::thread;
use stoptoken::StopGroup;

const HOUR: Duration = Duration::from_secs(3600);

/// The end of the only unit races the waiter's check and park.
#[test]
fn a_unit_ending_while_the_waiter_parks_wakes_it() {
    model(|| {
        let group = StopGroup::new();
        let job = group.track("job");
        let ender = thread::spawn(move || drop(job));
        group.wait();
        assert!(group.is_empty());
        ender.join().unwrap();
    });
}

/// Two units end on two threads: only the last end may (and must) wake.
#[test]
fn two_units_ending_on_two_threads_wake_the_waiter_once_both_are_gone() {
    model(|| {
        let group = StopGroup::new();
        let enders: Vec<_> = ["a", "b"]
            .map(|name| {
                let job = group.track(name);
                thread::spawn(move || drop(job))
            })
            .into_iter()
            .collect();
        group.wait();
        assert!(group.is_empty());
        for ender in enders {
            ender.join().unwrap();
        }
    });
}

/// The `drained()` future: a pending poll stores its waker, and the end on
/// another thread wakes it (`block_on` parks between polls).
#[test]
fn a_drained_future_is_woken_by_a_unit_ending_on_another_thread() {
    model(|| {
        let group = StopGroup::new();
        let job = group.track("job");
        let ender = thread::spawn(move || drop(job));
        block_on(group.drained());
        assert!(group.is_empty());
        ender.join().unwrap();
    });
}

/// A unit added while the drain waits, before the first one ends: the count
/// never reaches zero in between, so the waiter returns only after both.
#[test]
fn a_unit_added_during_the_drain_keeps_it_waiting() {
    model(|| {
        let group = Arc::new(StopGroup::new());
        let first = group.track("first");
        let adder = {
            let group = group.clone();
            thread::spawn(move || {
                let late = group.track("late");
                drop(first);
                drop(late);
            })
        };
        let report = group.shutdown(HOUR);
        assert!(group.is_empty());
        assert!(report.is_clean());
        assert_eq!(report.finished(), 2);
        adder.join().unwrap();
    });
}

/// Two shutdowns wait at once; one end wakes both, and both report it.
#[test]
fn concurrent_shutdowns_are_both_woken_by_the_end() {
    model(|| {
        let group = Arc::new(StopGroup::new());
        let job = group.track("job");
        let other = {
            let group = group.clone();
            thread::spawn(move || group.shutdown(HOUR))
        };
        let ender = thread::spawn(move || drop(job));
        let mine = group.shutdown(HOUR);
        let theirs = other.join().unwrap();
        for report in [mine, theirs] {
            assert!(report.is_clean());
            assert_eq!(report.finished(), 1);
        }
        ender.join().unwrap();
    });
}

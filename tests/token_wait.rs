//! `StopToken::wait` / `wait_timeout`: block until the stop, never past the
//! point where no stop can come.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use stoptoken::{InplaceStopSource, InplaceStopToken, StopSource, StopToken};

#[test]
fn wait_returns_true_once_stopped() {
    for _ in 0..100 {
        let source = StopSource::new();
        let token = source.token();
        let waiter = thread::spawn(move || token.wait());
        source.request_stop();
        assert!(waiter.join().unwrap());
    }
}

#[test]
fn wait_returns_at_once_when_already_stopped_or_impossible() {
    let source = StopSource::new();
    source.request_stop();
    assert!(source.token().wait());
    assert!(!StopToken::default().wait());
    let gone = StopSource::new();
    let token = gone.token();
    drop(gone);
    assert!(!token.wait());
    assert!(!InplaceStopToken::default().wait());
}

#[test]
fn dropping_the_last_source_wakes_the_waiters() {
    for _ in 0..100 {
        let source = StopSource::new();
        let barrier = Arc::new(Barrier::new(3));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let (token, barrier) = (source.token(), barrier.clone());
                thread::spawn(move || {
                    barrier.wait();
                    // Bounded, so that a missing wake-up fails (after the
                    // bound) instead of hanging.
                    let start = Instant::now();
                    let stopped = token.wait_timeout(Duration::from_secs(30));
                    assert!(
                        start.elapsed() < Duration::from_secs(25),
                        "the last source's drop did not wake the waiter"
                    );
                    stopped
                })
            })
            .collect();
        barrier.wait();
        drop(source);
        for waiter in waiters {
            assert!(!waiter.join().unwrap());
        }
    }
}

#[test]
fn a_clone_of_the_source_keeps_the_wait_going() {
    let source = StopSource::new();
    let clone = source.clone();
    let token = source.token();
    drop(source);
    assert!(!token.wait_timeout(Duration::from_millis(5)));
    clone.request_stop();
    assert!(token.wait());
}

#[test]
fn wait_timeout_times_out_without_a_stop() {
    let source = StopSource::new();
    let start = Instant::now();
    assert!(!source.token().wait_timeout(Duration::from_millis(10)));
    assert!(start.elapsed() >= Duration::from_millis(10));
    assert!(source.stop_possible(), "a timeout is not a stop");
}

#[test]
fn wait_timeout_returns_true_on_a_stop_long_before_the_timeout() {
    let source = StopSource::new();
    let token = source.token();
    let waiter = thread::spawn(move || token.wait_timeout(Duration::from_secs(3600)));
    source.request_stop();
    assert!(waiter.join().unwrap());
}

#[test]
fn unrelated_unparks_do_not_end_the_wait() {
    let source = StopSource::new();
    let token = source.token();
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = thread::spawn(move || {
        tx.send(()).unwrap();
        token.wait()
    });
    rx.recv().unwrap();
    for _ in 0..100 {
        waiter.thread().unpark(); // spurious as far as the wait is concerned
    }
    assert!(!waiter.is_finished() || source.stop_requested());
    source.request_stop();
    assert!(waiter.join().unwrap());
}

#[test]
fn inplace_tokens_wait_too() {
    let source = InplaceStopSource::new();
    thread::scope(|s| {
        let token = source.token();
        let waiter = s.spawn(move || token.wait());
        assert!(!source.token().wait_timeout(Duration::from_millis(1)));
        source.request_stop();
        assert!(waiter.join().unwrap());
    });
}

#[test]
fn a_waiter_on_a_child_wakes_with_the_parent() {
    let parent = StopSource::new();
    let child = StopSource::child_of(&parent.token());
    let token = child.token();
    let waiter = thread::spawn(move || token.wait());
    parent.request_stop();
    assert!(waiter.join().unwrap());
}

//! `thread::scope`: scoped threads that get the scope's stop token, and are all
//! stopped, then joined, when the scope ends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Barrier;

use stoptoken::thread::scope;
use stoptoken::{StopCallback, StopSource, StopToken};

/// Spins until stopped, then reports how it ended.
fn until_stopped(token: StopToken) -> &'static str {
    while !token.stop_requested() {
        std::thread::yield_now();
    }
    "stopped"
}

#[test]
fn the_end_of_the_scope_stops_then_joins_every_thread() {
    let finished = AtomicUsize::new(0);
    let started = Barrier::new(4);
    let token = scope(|s| {
        for _ in 0..3 {
            s.spawn(|token| {
                started.wait();
                until_stopped(token);
                finished.fetch_add(1, Ordering::SeqCst);
            });
        }
        started.wait();
        assert!(!s.stop_token().stop_requested());
        s.stop_token()
    });
    // Without the stop the threads would spin for ever; without the join the
    // count could still be short.
    assert_eq!(finished.load(Ordering::SeqCst), 3);
    assert!(token.stop_requested());
}

#[test]
fn threads_may_borrow_from_the_enclosing_frame() {
    let mut left = vec![1, 2, 3];
    let mut right = vec![4, 5, 6];
    let total = AtomicUsize::new(0);
    let answer = scope(|s| {
        s.spawn(|_| left.push(10));
        s.spawn(|_| right.clear());
        s.spawn(|_| total.fetch_add(7, Ordering::SeqCst));
        42
    });
    assert_eq!(answer, 42);
    assert_eq!(left, [1, 2, 3, 10]);
    assert!(right.is_empty());
    assert_eq!(total.into_inner(), 7);
}

#[test]
fn one_stop_source_serves_the_whole_scope() {
    scope(|s| {
        let a = s.spawn(|token| token);
        let b = s.spawn(|token| token);
        let (a, b) = (a.join().unwrap(), b.join().unwrap());
        assert_eq!(a, b);
        assert_eq!(a, s.stop_token());
        assert!(s.request_stop());
        assert!(!s.request_stop());
        assert!(a.stop_requested() && b.stop_requested());
    });
}

#[test]
fn a_thread_spawned_after_request_stop_starts_stopped() {
    scope(|s| {
        s.request_stop();
        assert!(s.spawn(|token| token.stop_requested()).join().unwrap());
    });
}

#[test]
fn joining_a_handle_does_not_request_a_stop() {
    scope(|s| {
        let token = s.spawn(|token| token).join().unwrap();
        assert!(!token.stop_requested());
    });
}

#[test]
fn request_stop_before_the_end_and_nested_spawns() {
    let result = scope(|s| {
        let nested = s.clone();
        let outer = s.spawn(move |_| nested.spawn(until_stopped));
        let inner = outer.join().unwrap();
        assert!(s.request_stop());
        inner.join().unwrap()
    });
    assert_eq!(result, "stopped");
}

#[test]
fn a_child_source_stops_one_thread_alone() {
    scope(|s| {
        let own = StopSource::child_of(&s.stop_token());
        let alone = own.token();
        let other = s.spawn(until_stopped);
        let single = s.spawn(move |_| until_stopped(alone));
        own.request_stop();
        assert_eq!(single.join().unwrap(), "stopped");
        // `other` only ends on the scope's stop, which has not come.
        assert!(!s.stop_token().stop_requested());
        assert!(!other.is_finished());
    });
}

#[test]
fn a_thread_panic_propagates_after_the_others_are_stopped() {
    let result = std::panic::catch_unwind(|| {
        scope(|s| {
            s.spawn(until_stopped);
            s.spawn(|_| panic!("scoped boom"));
        })
    });
    // `std` reports a scoped thread's panic with its own message.
    assert!(result.is_err());
}

#[test]
fn the_body_panic_propagates_after_the_threads_are_stopped_and_joined() {
    let finished = AtomicUsize::new(0);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        scope(|s| {
            s.spawn(|token| {
                until_stopped(token);
                finished.fetch_add(1, Ordering::SeqCst);
            });
            panic!("body boom");
        })
    }));
    let payload = result.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"body boom"));
    assert_eq!(finished.load(Ordering::SeqCst), 1);
}

#[test]
fn a_stop_callback_panic_while_the_body_unwinds_does_not_abort() {
    // A second panic out of the scope's final stop would abort the test binary.
    let mut keep = None;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        scope(|s| {
            // Kept outside the scope, so that it is still registered at its end.
            keep = Some(StopCallback::new(&s.stop_token(), || {
                panic!("callback boom")
            }));
            s.spawn(until_stopped);
            panic!("body boom");
        })
    }));
    let payload = result.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"body boom"));
    drop(keep);
}

#[test]
fn a_stop_callback_panic_at_the_end_propagates_after_the_join() {
    let finished = AtomicUsize::new(0);
    let mut keep = None;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        scope(|s| {
            keep = Some(StopCallback::new(&s.stop_token(), || {
                panic!("callback boom")
            }));
            s.spawn(|token| {
                until_stopped(token);
                finished.fetch_add(1, Ordering::SeqCst);
            });
        })
    }));
    let payload = result.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"callback boom"));
    assert_eq!(finished.load(Ordering::SeqCst), 1);
    drop(keep);
}

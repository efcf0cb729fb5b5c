//! loom models of stop reasons and `any_of` links.
//!
//! Run with:
//! `RUSTFLAGS="--cfg stoptoken_loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release --test loom_reason`
#![cfg(stoptoken_loom)]

#[path = "common/loom.rs"]
mod common;

use common::{counting, model};

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use stoptoken::{StopCallback, StopReason, StopSource};

/// A thread that sees the stop reads the reason, and it is the winner's: the
/// reason is written before the stop flag is published (loom's cell checks
/// flag the read as a race otherwise).
#[test]
fn a_thread_that_sees_the_stop_reads_the_winning_reason() {
    model(|| {
        let source = StopSource::new();
        let other = source.clone();
        let token = source.token();
        let reader = thread::spawn(move || {
            if token.stop_requested() {
                Some(
                    token
                        .stop_reason()
                        .cloned()
                        .expect("stop seen without its reason"),
                )
            } else {
                None
            }
        });
        let requester = thread::spawn(move || other.request_stop_with(StopReason::Signal(2)));
        let won_here = source.request_stop_with(StopReason::Signal(1));
        let won_there = requester.join().unwrap();
        assert!(won_here != won_there, "exactly one request wins");
        let winner = if won_here {
            StopReason::Signal(1)
        } else {
            StopReason::Signal(2)
        };
        assert_eq!(source.stop_reason(), Some(&winner));
        if let Some(seen) = reader.join().unwrap() {
            assert_eq!(seen, winner);
        }
    });
}

/// Two inputs of an `any_of` stop at once while its source is dropped: the
/// output stops at most once, with one of the inputs' reasons, its callback
/// runs at most once and only if the stop is seen, and nothing leaks (loom
/// checks that every `Arc` is freed).
#[test]
fn any_of_two_inputs_stopping_while_it_is_dropped() {
    model(|| {
        let (a, b) = (StopSource::new(), StopSource::new());
        let any = StopSource::any_of([a.token(), b.token()]);
        let token = any.token();
        let count = Arc::new(AtomicUsize::new(0));
        let callback = StopCallback::new(&token, counting(&count));
        let stop_b = thread::spawn(move || {
            b.request_stop_with(StopReason::Message("b"));
        });
        let observed = token.clone();
        let dropper = thread::spawn(move || {
            drop(any);
            // Once the last source is gone without a stop, none may come later.
            !observed.stop_possible()
        });
        a.request_stop_with(StopReason::Message("a"));
        stop_b.join().unwrap();
        let saw_impossible = dropper.join().unwrap();
        let ran = count.load(Ordering::SeqCst);
        assert!(ran <= 1);
        if saw_impossible {
            assert!(!token.stop_requested(), "stop_possible went false -> true");
        }
        assert_eq!(ran == 1, token.stop_requested());
        match token.stop_reason() {
            None => assert!(!token.stop_possible()),
            Some(reason) => assert!(
                *reason == StopReason::Message("a") || *reason == StopReason::Message("b"),
                "{reason:?}"
            ),
        }
        drop(callback);
    });
}

/// Both inputs stop concurrently and the output stays alive: it is stopped,
/// exactly once, with the reason of one of them.
#[test]
fn any_of_stops_exactly_once_when_both_inputs_stop() {
    model(|| {
        let (a, b) = (StopSource::new(), StopSource::new());
        let any = StopSource::any_of([a.token(), b.token()]);
        let count = Arc::new(AtomicUsize::new(0));
        let _callback = StopCallback::new(&any.token(), counting(&count));
        let stop_b = thread::spawn(move || b.request_stop_with(StopReason::Signal(2)));
        a.request_stop_with(StopReason::Signal(1));
        stop_b.join().unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 1);
        let reason = any.stop_reason().cloned().unwrap();
        assert!(reason == StopReason::Signal(1) || reason == StopReason::Signal(2));
    });
}

/// A registration racing a request with a reason (which claims the stop,
/// lock-free, before it writes the reason): the callback runs exactly once,
/// and wherever it runs it sees the stop and its reason.
#[test]
fn registration_vs_claim_with_a_reason() {
    model(|| {
        let source = StopSource::new();
        let token = source.token();
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        let seen = token.clone();
        let registrant = thread::spawn(move || {
            StopCallback::new(&token, move || {
                assert_eq!(seen.stop_reason(), Some(&StopReason::Message("why")));
                c.fetch_add(1, Ordering::SeqCst);
            })
        });
        assert!(source.request_stop_with(StopReason::Message("why")));
        let callback = registrant.join().unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 1);
        drop(callback);
    });
}

/// A plain request (one compare-exchange, no reason written) racing one with
/// a reason: exactly one wins, its reason is the one read, and the loser
/// returns only once the stop is visible.
#[test]
fn plain_request_vs_claim_with_a_reason() {
    model(|| {
        let source = StopSource::new();
        let other = source.clone();
        let plain = thread::spawn(move || {
            let won = other.request_stop();
            assert!(
                other.stop_requested(),
                "a request returned before the stop was visible"
            );
            won
        });
        let won = source.request_stop_with(StopReason::Message("why"));
        assert!(
            source.stop_requested(),
            "a request returned before the stop was visible"
        );
        let plain_won = plain.join().unwrap();
        assert!(won ^ plain_won, "exactly one request wins");
        let expected = if won {
            StopReason::Message("why")
        } else {
            StopReason::Requested
        };
        assert_eq!(source.stop_reason(), Some(&expected));
    });
}

//! Stop reasons: the first request's reason wins, a plain request records
//! `Requested`, and any thread that sees the stop can read the reason.

use std::sync::{Arc, Barrier};
use std::thread;

use stoptoken::{InplaceStopSource, StopReason, StopSource, StopToken};

#[test]
fn no_reason_before_the_stop() {
    let source = StopSource::new();
    assert_eq!(source.stop_reason(), None);
    assert_eq!(source.token().stop_reason(), None);
    assert_eq!(StopToken::default().stop_reason(), None);
    assert_eq!(StopSource::no_state().stop_reason(), None);
    assert!(!StopSource::no_state().request_stop_with(StopReason::Deadline));
}

#[test]
fn a_plain_request_records_requested() {
    let source = StopSource::new();
    assert!(source.request_stop());
    assert_eq!(source.token().stop_reason(), Some(&StopReason::Requested));
    assert_eq!(StopReason::default(), StopReason::Requested);
}

#[test]
fn the_first_reason_wins_and_later_ones_are_dropped() {
    let source = StopSource::new();
    let dropped = Arc::new(());
    assert!(source.request_stop_with(StopReason::Message("first")));
    assert!(!source.request_stop_with(StopReason::Custom(dropped.clone())));
    assert_eq!(Arc::strong_count(&dropped), 1, "the losing reason was kept");
    assert!(!source.request_stop());
    assert_eq!(source.stop_reason(), Some(&StopReason::Message("first")));
}

#[test]
fn a_custom_reason_downcasts_and_lives_as_long_as_the_state() {
    #[derive(Debug, PartialEq)]
    struct Overloaded(u32);
    let source = StopSource::new();
    let token = source.token();
    source.request_stop_with(StopReason::custom(Overloaded(3)));
    drop(source);
    let reason = token.stop_reason().unwrap();
    assert_eq!(reason.downcast_ref::<Overloaded>(), Some(&Overloaded(3)));
    assert_eq!(reason.downcast_ref::<u32>(), None);
    assert_eq!(reason.to_string(), "stop requested (custom reason)");
    let shared = reason.clone();
    assert_eq!(&shared, reason, "a clone shares the same Arc");
    assert_ne!(
        StopReason::custom(Overloaded(3)),
        shared,
        "different Arcs differ"
    );
}

#[test]
fn a_callback_sees_the_reason_of_the_request_that_runs_it() {
    let source = StopSource::new();
    let token = source.token();
    let (tx, rx) = std::sync::mpsc::channel();
    let seen = token.clone();
    let _callback = stoptoken::StopCallback::new(&token, move || {
        tx.send(seen.stop_reason().cloned()).unwrap();
    });
    source.request_stop_with(StopReason::Signal(1));
    assert_eq!(rx.recv().unwrap(), Some(StopReason::Signal(1)));
}

#[test]
fn concurrent_requests_agree_on_one_reason() {
    for _ in 0..200 {
        let source = StopSource::new();
        let barrier = Arc::new(Barrier::new(3));
        let requesters: Vec<_> = (0..3)
            .map(|i| {
                let (source, barrier) = (source.clone(), barrier.clone());
                thread::spawn(move || {
                    barrier.wait();
                    let won = source.request_stop_with(StopReason::Signal(i));
                    // Whoever returns sees the stop, and so a reason.
                    let seen = source.stop_reason().cloned().unwrap();
                    (won, i, seen)
                })
            })
            .collect();
        let results: Vec<_> = requesters.into_iter().map(|t| t.join().unwrap()).collect();
        let winners: Vec<_> = results.iter().filter(|r| r.0).collect();
        assert_eq!(winners.len(), 1);
        let winner_reason = StopReason::Signal(winners[0].1);
        for (_, _, seen) in &results {
            assert_eq!(seen, &winner_reason);
        }
    }
}

#[test]
fn a_child_takes_its_parents_reason_and_keeps_its_own() {
    let parent = StopSource::new();
    let child = StopSource::child_of(&parent.token());
    let grandchild = StopSource::child_of(&child.token());
    parent.request_stop_with(StopReason::Message("parent"));
    assert_eq!(child.stop_reason(), Some(&StopReason::Message("parent")));
    assert_eq!(
        grandchild.stop_reason(),
        Some(&StopReason::Message("parent"))
    );

    let parent = StopSource::new();
    let child = StopSource::child_of(&parent.token());
    child.request_stop_with(StopReason::Deadline);
    parent.request_stop();
    assert_eq!(child.stop_reason(), Some(&StopReason::Deadline));
    assert_eq!(parent.stop_reason(), Some(&StopReason::Requested));
}

#[test]
fn a_child_of_a_stopped_parent_starts_stopped_with_its_reason() {
    let parent = StopSource::new();
    parent.request_stop_with(StopReason::Signal(15));
    let child = StopSource::child_of(&parent.token());
    assert_eq!(child.stop_reason(), Some(&StopReason::Signal(15)));
}

#[test]
fn inplace_sources_record_reasons_too() {
    let source = InplaceStopSource::new();
    let token = source.token();
    assert_eq!(token.stop_reason(), None);
    assert!(source.request_stop_with(StopReason::Message("inplace")));
    assert!(!source.request_stop_with(StopReason::Deadline));
    assert_eq!(token.stop_reason(), Some(&StopReason::Message("inplace")));
    assert_eq!(source.stop_reason(), Some(&StopReason::Message("inplace")));
}

#[test]
fn a_jthread_drop_records_requested() {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = stoptoken::JThread::spawn(move |token: StopToken| {
        token.wait();
        tx.send(token.stop_reason().cloned()).unwrap();
    });
    drop(thread);
    assert_eq!(rx.recv().unwrap(), Some(StopReason::Requested));
}

#[test]
fn display_says_why() {
    assert_eq!(StopReason::Requested.to_string(), "stop requested");
    assert_eq!(StopReason::Deadline.to_string(), "deadline passed");
    assert_eq!(StopReason::Signal(2).to_string(), "signal 2 received");
    assert_eq!(StopReason::Message("bye").to_string(), "bye");
}

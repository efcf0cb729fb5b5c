//! Bridges with `tokio_util::sync::CancellationToken` (feature `tokio-util`).
#![cfg(feature = "tokio-util")]

use stoptoken::task::{
    current_token, with_cancellation_token, with_stop_token, CancelOnStop, StopOnCancel,
};
use stoptoken::StopSource;
use tokio_util::sync::CancellationToken;

#[test]
fn a_stop_cancels_the_bridged_cancellation_token_inside_request_stop() {
    let source = StopSource::new();
    let bridge = CancelOnStop::new(&source.token());
    let cancel = bridge.cancellation_token().clone();
    let child = cancel.child_token();
    assert!(!cancel.is_cancelled());
    source.request_stop();
    assert!(cancel.is_cancelled());
    assert!(child.is_cancelled());
}

#[test]
fn a_dropped_cancel_on_stop_no_longer_cancels() {
    let source = StopSource::new();
    let cancel = CancellationToken::new();
    drop(CancelOnStop::with_cancellation_token(
        &source.token(),
        cancel.clone(),
    ));
    source.request_stop();
    assert!(!cancel.is_cancelled());
}

#[test]
fn a_cancellation_stops_the_bridged_source() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    runtime.block_on(async {
        let cancel = CancellationToken::new();
        let bridge = StopOnCancel::new(&cancel);
        let token = bridge.stop_token();
        assert!(!token.stop_requested());
        cancel.cancel();
        token.stopped().await;
        assert!(bridge.source().stop_requested());
    });
}

#[test]
fn a_dropped_stop_on_cancel_ends_its_task() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let cancel = CancellationToken::new();
        let bridge = StopOnCancel::new(&cancel);
        let token = bridge.stop_token();
        drop(bridge); // aborts the watcher; the source goes with it
        tokio::task::yield_now().await; // let the abort run
        cancel.cancel();
        tokio::task::yield_now().await;
        assert!(!token.stop_requested());
        assert!(!token.stop_possible());
    });
}

#[test]
fn with_cancellation_token_stops_the_current_token_without_a_task() {
    let parent = StopSource::new();
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let outcome = futures::executor::block_on(with_stop_token(parent.token(), async {
        let inner = with_cancellation_token(cancel, async move {
            let token = current_token();
            trigger.cancel();
            token.stopped().await;
            "stopped"
        })
        .await;
        (inner, current_token().stop_requested())
    }));
    assert_eq!(outcome, ("stopped", false)); // the parent is not stopped
}

#[test]
fn with_cancellation_token_also_follows_the_parent_stop() {
    let parent = StopSource::new();
    parent.request_stop();
    let outcome = futures::executor::block_on(with_stop_token(
        parent.token(),
        with_cancellation_token(CancellationToken::new(), async {
            current_token().stop_requested()
        }),
    ));
    assert!(outcome);
}

#[test]
fn with_cancellation_token_stops_what_is_linked_below_when_it_returns() {
    let parent = StopSource::new();
    let below = futures::executor::block_on(with_stop_token(
        parent.token(),
        with_cancellation_token(CancellationToken::new(), async {
            StopSource::child_of(&current_token()) // e.g. a task spawned inside
        }),
    ));
    assert!(below.stop_requested());
    assert!(!parent.stop_requested());
}

#[test]
fn stop_on_cancel_of_a_cancelled_token_stops_at_once_without_a_runtime() {
    let cancel = CancellationToken::new();
    cancel.cancel();
    let bridge = StopOnCancel::new(&cancel); // outside any runtime: no task needed
    assert!(bridge.stop_token().stop_requested());

    // Inside a runtime too, before any task could run.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _context = runtime.enter();
    assert!(StopOnCancel::new(&cancel).stop_token().stop_requested());
}

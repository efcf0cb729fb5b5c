//! loom models of `StopToken::wait`: woken by the stop, and woken when the last
//! source goes without one (a wait never hangs on an abandoned state).
//!
//! Run with:
//! `RUSTFLAGS="--cfg stoptoken_loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release --test loom_token_wait`
#![cfg(stoptoken_loom)]

#[path = "common/loom.rs"]
mod common;

use common::model;

use loom::thread;
use stoptoken::{InplaceStopSource, StopSource};

/// A wait racing the request always returns `true` (loom reports a deadlock
/// if the waiter could park with nobody left to wake it).
#[test]
fn wait_vs_request() {
    model(|| {
        let source = StopSource::new();
        let token = source.token();
        let waiter = thread::spawn(move || token.wait());
        source.request_stop();
        assert!(waiter.join().unwrap());
    });
}

/// A wait racing the drop of the last source returns `false`: either it sees
/// the count at zero, or the drop sees the waiter and wakes it.
#[test]
fn wait_vs_last_source_drop() {
    model(|| {
        let source = StopSource::new();
        let token = source.token();
        let waiter = thread::spawn(move || token.wait());
        drop(source);
        assert!(!waiter.join().unwrap());
    });
}

/// A wait racing both a request and the drop of another (not the last) clone:
/// the drop must not wake the waiter into a wrong answer; it returns `true`.
#[test]
fn wait_vs_request_vs_other_clone_drop() {
    model(|| {
        let source = StopSource::new();
        let clone = source.clone();
        let token = source.token();
        let waiter = thread::spawn(move || token.wait());
        let dropper = thread::spawn(move || drop(clone));
        source.request_stop();
        dropper.join().unwrap();
        assert!(waiter.join().unwrap());
    });
}

/// The inplace form: a wait racing the request.
#[test]
fn inplace_wait_vs_request() {
    model(|| {
        let source = Box::leak(Box::new(InplaceStopSource::new()));
        let token = source.token();
        let waiter = thread::spawn(move || token.wait());
        source.request_stop();
        assert!(waiter.join().unwrap());
    });
}

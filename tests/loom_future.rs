//! loom models of the `stopped()` future's waker registration.
//!
//! Run with:
//! `RUSTFLAGS="--cfg stoptoken_loom" cargo test --release --test loom_future`
#![cfg(stoptoken_loom)]

#[path = "common/loom.rs"]
mod common;

use common::{block_on, flag_waker, model, wait_for};

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Wake, Waker};

use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;
use stoptoken::StopSource;

/// The first poll's waker registration racing the stop: never a lost wake-up.
#[test]
fn waker_registration_vs_stop_never_loses_the_wakeup() {
    model(|| {
        let source = StopSource::new();
        let token = source.token();
        let waiter = thread::spawn(move || block_on(token.stopped()));
        source.request_stop();
        waiter.join().unwrap();
    });
}

/// A re-poll with a new waker racing the stop: the new waker is woken, or the
/// re-poll sees the stop.
#[test]
fn waker_update_vs_stop_wakes_the_new_waker() {
    model(|| {
        let source = StopSource::new();
        let token = source.token();
        let waiter = thread::spawn(move || {
            let mut future = pin!(token.stopped());
            let (_first, first_waker) = flag_waker();
            let pending = future.as_mut().poll(&mut Context::from_waker(&first_waker));
            if pending.is_ready() {
                return;
            }
            // Re-poll with a different waker (as when a task moves), then wait
            // on that one only.
            let (second, second_waker) = flag_waker();
            let mut cx = Context::from_waker(&second_waker);
            loop {
                if future.as_mut().poll(&mut cx).is_ready() {
                    return;
                }
                wait_for(&second);
            }
        });
        source.request_stop();
        waiter.join().unwrap();
    });
}

/// Dropping a registered future racing the stop: no access to a freed node
/// (loom checks the cells), and the drop returns.
#[test]
fn future_drop_vs_stop() {
    model(|| {
        let source = StopSource::new();
        let token = source.token();
        let waiter = thread::spawn(move || {
            let (_flag, waker) = flag_waker();
            let mut future = Box::pin(token.into_stopped());
            let _ = future.as_mut().poll(&mut Context::from_waker(&waker));
            drop(future);
        });
        source.request_stop();
        waiter.join().unwrap();
    });
}

/// Dropping a `stopped()` future while the stop is inside its waker's `wake()`
/// on another thread returns without waiting for `wake()`: here `wake()` waits
/// for the drop to have returned, so a drop that waited would deadlock (which
/// loom reports).
#[test]
fn future_drop_does_not_wait_for_a_running_wake() {
    struct WaitsForDrop(std::sync::Arc<AtomicBool>);
    impl Wake for WaitsForDrop {
        fn wake(self: std::sync::Arc<Self>) {
            while !self.0.load(Ordering::SeqCst) {
                thread::yield_now();
            }
        }
    }
    model(|| {
        let source = StopSource::new();
        let token = source.token();
        let dropped = std::sync::Arc::new(AtomicBool::new(false));
        let waker = Waker::from(std::sync::Arc::new(WaitsForDrop(dropped.clone())));
        let mut future = Box::pin(token.into_stopped());
        assert!(future
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        drop(waker);
        let requester = thread::spawn(move || source.request_stop());
        drop(future);
        dropped.store(true, Ordering::SeqCst);
        assert!(requester.join().unwrap());
    });
}

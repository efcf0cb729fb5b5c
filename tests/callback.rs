//! The C++20 behaviours of `std::stop_callback`, restated.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;

use stoptoken::{StopCallback, StopSource, StopToken};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn stop_callback_is_send_and_sync_for_send_closures() {
    // A closure that is Send but not Sync (it owns a Cell).
    let cell = std::cell::Cell::new(1);
    let callback = StopCallback::new(&StopToken::default(), move || cell.set(2));
    fn check<T: Send + Sync>(_: &T) {}
    check(&callback);
    assert_send_sync::<StopCallback<fn()>>();
}

#[test]
fn callback_runs_on_the_requesting_thread_before_request_returns() {
    let source = StopSource::new();
    let (tx, rx) = mpsc::channel();
    let _callback = StopCallback::new(&source.token(), move || {
        tx.send(thread::current().name().map(str::to_owned))
            .unwrap();
    });
    let requester = source.clone();
    let handle = thread::Builder::new()
        .name("requester".into())
        .spawn(move || {
            let won = requester.request_stop();
            // The callback already ran: its message is in the channel.
            (won, rx.try_recv().unwrap())
        })
        .unwrap();
    let (won, name) = handle.join().unwrap();
    assert!(won);
    assert_eq!(name.as_deref(), Some("requester"));
}

#[test]
fn callback_registered_after_stop_runs_at_once_inside_new() {
    let source = StopSource::new();
    source.request_stop();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let callback = StopCallback::new(&source.token(), move || {
        r.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    drop(callback);
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[test]
fn callback_on_disengaged_token_never_runs_and_is_dropped_with_registration() {
    let guard = Arc::new(());
    let held = guard.clone();
    let callback = StopCallback::new(&StopToken::default(), move || {
        drop(held);
        unreachable!("never runs");
    });
    assert_eq!(Arc::strong_count(&guard), 2);
    drop(callback);
    assert_eq!(Arc::strong_count(&guard), 1);
}

#[test]
fn callbacks_of_a_state_whose_sources_died_never_run() {
    let source = StopSource::new();
    let token = source.token();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let registered_before = StopCallback::new(&token, move || {
        r.fetch_add(1, Ordering::SeqCst);
    });
    drop(source);
    let r = ran.clone();
    let registered_after = StopCallback::new(&token, move || {
        r.fetch_add(1, Ordering::SeqCst);
    });
    drop(registered_before);
    drop(registered_after);
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn dropped_callback_never_runs() {
    let source = StopSource::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let callback = StopCallback::new(&source.token(), move || {
        r.fetch_add(1, Ordering::SeqCst);
    });
    drop(callback);
    source.request_stop();
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn concurrent_request_returns_false_without_waiting_for_callbacks() {
    let source = StopSource::new();
    let (entered_tx, entered_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let _slow = StopCallback::new(&source.token(), move || {
        entered_tx.send(()).unwrap();
        release_rx.recv().unwrap();
    });
    let first = source.clone();
    let winner = thread::spawn(move || first.request_stop());
    entered_rx.recv().unwrap(); // the callback is running, and blocked
                                // If this waited for the callback, the test would hang here.
    assert!(!source.request_stop());
    assert!(source.stop_requested());
    release_tx.send(()).unwrap();
    assert!(winner.join().unwrap());
}

#[test]
fn callbacks_may_use_sources_and_tokens_of_the_same_state() {
    let source = StopSource::new();
    let inner_source = source.clone();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let _callback = StopCallback::new(&source.token(), move || {
        let token = inner_source.token();
        log.lock().unwrap().push((
            inner_source.request_stop(),
            token.stop_requested(),
            token.stop_possible(),
        ));
        drop(inner_source); // drops a source inside the callback
    });
    assert!(source.request_stop());
    assert_eq!(*seen.lock().unwrap(), vec![(false, true, true)]);
}

#[test]
fn a_panicking_callback_does_not_lose_the_others() {
    let source = StopSource::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let callbacks: Vec<_> = (0..6)
        .map(|i| {
            let r = ran.clone();
            StopCallback::new(&source.token(), move || {
                r.fetch_add(1, Ordering::SeqCst);
                if i % 2 == 0 {
                    panic!("callback {i}");
                }
            })
        })
        .collect();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| source.request_stop()));
    assert!(result.is_err());
    assert_eq!(ran.load(Ordering::SeqCst), 6);
    drop(callbacks);
    assert!(source.stop_requested());
}

#[test]
fn callback_panic_in_new_after_stop_propagates_to_the_registering_thread() {
    let source = StopSource::new();
    source.request_stop();
    let token = source.token();
    let result = std::panic::catch_unwind(move || {
        let _callback = StopCallback::new(&token, || panic!("inline"));
    });
    assert!(result.is_err());
    assert!(source.stop_requested());
}

#[test]
fn many_threads_register_and_drop_while_one_requests() {
    let source = StopSource::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(std::sync::Barrier::new(5));
    let registrants: Vec<_> = (0..4)
        .map(|_| {
            let token = source.token();
            let ran = ran.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                let mut kept = Vec::new();
                for i in 0..200 {
                    let r = ran.clone();
                    let callback = StopCallback::new(&token, move || {
                        r.fetch_add(1, Ordering::SeqCst);
                    });
                    if i % 2 == 0 {
                        kept.push(callback);
                    }
                }
                kept
            })
        })
        .collect();
    barrier.wait();
    source.request_stop();
    let kept: Vec<_> = registrants.into_iter().map(|h| h.join().unwrap()).collect();
    // Every kept callback ran exactly once (before or inside its `new`); the
    // dropped ones ran at most once each.
    let kept_count: usize = kept.iter().map(Vec::len).sum();
    let total = ran.load(Ordering::SeqCst);
    assert_eq!(kept_count, 400);
    assert!(total >= kept_count && total <= 800, "{total}");
    drop(kept);
    assert_eq!(ran.load(Ordering::SeqCst), total);
}

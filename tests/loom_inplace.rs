//! loom models of the inplace (non-owning) stop state's races. The inplace
//! source shares the core machinery with the shared one; these models check it
//! through the inplace types and the pinned, allocation-free registration.
//!
//! Run with:
//! `RUSTFLAGS="--cfg stoptoken_loom" cargo test --release --test loom_inplace`
#![cfg(stoptoken_loom)]

#[path = "common/loom.rs"]
mod common;

use common::{counting, model};

use std::pin::pin;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use stoptoken::{InplaceStopCallback, InplaceStopSource, PinnedCallback};

/// A pinned registration racing the request runs exactly once.
#[test]
fn pinned_register_vs_request_runs_exactly_once() {
    model(|| {
        let source = Arc::new(InplaceStopSource::new());
        let count = Arc::new(AtomicUsize::new(0));
        let returned = Arc::new(AtomicUsize::new(0));
        let (s, c, r) = (source.clone(), count.clone(), returned.clone());
        let registrant = thread::spawn(move || {
            let callback = pin!(PinnedCallback::new(s.token(), counting(&c)));
            callback.register();
            // Keep it registered until `request_stop` has returned (a drop
            // before that could legitimately unlink it unrun).
            while r.load(Ordering::SeqCst) == 0 {
                thread::yield_now();
            }
        });
        assert!(source.request_stop());
        returned.store(1, Ordering::SeqCst);
        registrant.join().unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 1);
    });
}

/// Dropping a registration racing the request: once drop returned, the
/// callback has run completely or never will.
#[test]
fn deregister_vs_request_never_runs_after_drop() {
    model(|| {
        let source = Arc::new(InplaceStopSource::new());
        let started = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let (s, st, fi) = (source.clone(), started.clone(), finished.clone());
        let dropper = thread::spawn(move || {
            let (a, b) = (st.clone(), fi.clone());
            let callback = InplaceStopCallback::new(s.token(), move || {
                a.fetch_add(1, Ordering::SeqCst);
                b.fetch_add(1, Ordering::SeqCst);
            });
            drop(callback);
            let seen = (st.load(Ordering::SeqCst), fi.load(Ordering::SeqCst));
            assert_eq!(
                seen.0, seen.1,
                "drop returned while the callback was running"
            );
            seen.1
        });
        source.request_stop();
        let ran = dropper.join().unwrap();
        assert_eq!(finished.load(Ordering::SeqCst), ran);
    });
}

/// Two concurrent requests on an inplace source: exactly one wins.
#[test]
fn concurrent_requests_exactly_one_wins() {
    model(|| {
        let source = Arc::new(InplaceStopSource::new());
        let count = Arc::new(AtomicUsize::new(0));
        let callback = InplaceStopCallback::new(source.token(), counting(&count));
        let other = source.clone();
        let rival = thread::spawn(move || other.request_stop());
        let mine = source.request_stop();
        assert!(mine ^ rival.join().unwrap());
        assert_eq!(count.load(Ordering::SeqCst), 1);
        drop(callback);
    });
}

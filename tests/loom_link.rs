//! loom models of links that belong to the state (contract part 7): a
//! token-only child against its parent's stop, its own last handle's drop, and
//! its parents' abandonment.
//!
//! Run with:
//! `RUSTFLAGS="--cfg stoptoken_loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release --test loom_link`
#![cfg(stoptoken_loom)]

#[path = "common/loom.rs"]
mod common;

use common::{counting, model};

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use stoptoken::{StopCallback, StopReason, StopSource};

/// The parent's stop races the drop of the token-only child's last handle
/// (with a callback on it): no use after free, no deadlock, and the callback
/// runs at most once, never after its drop returned.
#[test]
fn token_only_child_vs_parent_stop_vs_last_drop() {
    model(|| {
        let parent = StopSource::new();
        let child = StopSource::child_of(&parent.token()).token();
        let count = Arc::new(AtomicUsize::new(0));
        let callback = StopCallback::new(&child, counting(&count));
        let c = count.clone();
        let dropper = thread::spawn(move || {
            drop(callback);
            let ran = c.load(Ordering::SeqCst);
            drop(child); // the last handle: the link leaves the parent's list
            ran
        });
        assert!(parent.request_stop());
        let ran_before_drop = dropper.join().unwrap();
        assert!(ran_before_drop <= 1);
        assert_eq!(count.load(Ordering::SeqCst), ran_before_drop);
    });
}

/// A token-only child is stopped by its parent from another thread, with the
/// parent's reason; a callback registered meanwhile runs exactly once, like one
/// registered before.
#[test]
fn token_only_child_stops_with_its_parent() {
    model(|| {
        let parent = StopSource::new();
        let child = StopSource::child_of(&parent.token()).token();
        let count = Arc::new(AtomicUsize::new(0));
        let early = StopCallback::new(&child, counting(&count));
        let requester =
            thread::spawn(move || parent.request_stop_with(StopReason::Message("parent")));
        let late = StopCallback::new(&child, counting(&count));
        assert!(requester.join().unwrap());
        assert_eq!(count.load(Ordering::SeqCst), 2);
        assert_eq!(child.stop_reason(), Some(&StopReason::Message("parent")));
        drop((early, late));
    });
}

/// A thread waiting on a token-only child while the parent's last source goes
/// without a stop is woken with `false`: the abandonment reaches the child.
#[test]
fn waiter_on_token_only_child_vs_parent_abandonment() {
    model(|| {
        let parent = StopSource::new();
        let child = StopSource::child_of(&parent.token()).token();
        let observer = child.clone();
        let waiter = thread::spawn(move || child.wait());
        drop(parent);
        assert!(!waiter.join().unwrap());
        assert!(!observer.stop_possible());
    });
}

/// One input of a token-only `any_of` stops while the other is abandoned: the
/// state is stopped exactly once and `stop_possible()` never turns back.
#[test]
fn any_of_stop_vs_other_input_abandonment() {
    model(|| {
        let stopping = StopSource::new();
        let abandoned = StopSource::new();
        let any = StopSource::any_of([stopping.token(), abandoned.token()]).token();
        let count = Arc::new(AtomicUsize::new(0));
        let callback = StopCallback::new(&any, counting(&count));
        let observer = any.clone();
        let dropper = thread::spawn(move || drop(abandoned));
        let watcher = thread::spawn(move || {
            // Once true, always true: the stop is still to come.
            for _ in 0..2 {
                assert!(observer.stop_possible());
                thread::yield_now();
            }
        });
        assert!(stopping.request_stop());
        dropper.join().unwrap();
        watcher.join().unwrap();
        assert!(any.stop_requested());
        assert_eq!(count.load(Ordering::SeqCst), 1);
        drop(callback);
    });
}

/// A grandchild chain: the root's stop reaches the token-only grandchild
/// while the middle state's last handle of its own goes on another thread.
#[test]
fn grandchild_stop_vs_middle_handle_drop() {
    model(|| {
        let root = StopSource::new();
        let middle = StopSource::child_of(&root.token()).token();
        let leaf = StopSource::child_of(&middle).token();
        let count = Arc::new(AtomicUsize::new(0));
        let callback = StopCallback::new(&leaf, counting(&count));
        let dropper = thread::spawn(move || drop(middle));
        assert!(root.request_stop());
        dropper.join().unwrap();
        assert!(leaf.stop_requested());
        assert_eq!(count.load(Ordering::SeqCst), 1);
        drop(callback);
    });
}

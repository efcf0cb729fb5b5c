//! loom models of the shared stop state's concurrent protocols.
//!
//! Run with:
//! `RUSTFLAGS="--cfg stoptoken_loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release --test loom_core`
#![cfg(stoptoken_loom)]

#[path = "common/loom.rs"]
mod common;

use common::{counting, model};

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;
use stoptoken::{StopCallback, StopSource};

/// A registration racing a request runs its callback exactly once: inline if
/// it saw the stop, on the requester otherwise.
#[test]
fn register_vs_request_runs_exactly_once() {
    model(|| {
        let source = StopSource::new();
        let token = source.token();
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        let registrant = thread::spawn(move || StopCallback::new(&token, counting(&c)));
        assert!(source.request_stop());
        let callback = registrant.join().unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 1);
        drop(callback);
        assert_eq!(count.load(Ordering::SeqCst), 1);
    });
}

/// A deregistration racing a request: once `drop` has returned, the callback has
/// either run completely or will never run.
#[test]
fn deregister_vs_request_never_runs_after_drop() {
    model(|| {
        let source = StopSource::new();
        let started = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let (s, f) = (started.clone(), finished.clone());
        let callback = StopCallback::new(&source.token(), move || {
            s.fetch_add(1, Ordering::SeqCst);
            f.fetch_add(1, Ordering::SeqCst);
        });
        let (s, f) = (started.clone(), finished.clone());
        let dropper = thread::spawn(move || {
            drop(callback);
            let seen = (s.load(Ordering::SeqCst), f.load(Ordering::SeqCst));
            assert_eq!(
                seen.0, seen.1,
                "drop returned while the callback was running"
            );
            seen.1
        });
        source.request_stop();
        let ran_before_drop_returned = dropper.join().unwrap();
        assert_eq!(finished.load(Ordering::SeqCst), ran_before_drop_returned);
        assert!(ran_before_drop_returned <= 1);
    });
}

/// Dropping a registration whose callback runs on another thread blocks until
/// the callback returns (the waiter parks and is woken).
#[test]
fn drop_while_callback_runs_elsewhere_waits_for_it() {
    model(|| {
        let source = StopSource::new();
        let started = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let (s, f) = (started.clone(), finished.clone());
        let callback = StopCallback::new(&source.token(), move || {
            s.store(1, Ordering::SeqCst);
            thread::yield_now();
            f.store(1, Ordering::SeqCst);
        });
        let requester = thread::spawn(move || source.request_stop());
        // Wait until the callback is running, then drop it from here.
        while started.load(Ordering::SeqCst) == 0 {
            thread::yield_now();
        }
        drop(callback);
        assert_eq!(finished.load(Ordering::SeqCst), 1);
        assert!(requester.join().unwrap());
    });
}

type Slot = Arc<Mutex<Option<StopCallback<Box<dyn FnOnce() + Send>>>>>;

/// A callback that drops its own registration neither deadlocks nor makes the
/// requester touch the freed node, while another thread registers meanwhile.
#[test]
fn callback_dropping_its_own_registration_does_not_deadlock() {
    model(|| {
        let source = StopSource::new();
        let slot: Slot = Arc::new(Mutex::new(None));
        let count = Arc::new(AtomicUsize::new(0));
        let own = slot.clone();
        let bump = counting(&count);
        let callback = StopCallback::new(
            &source.token(),
            Box::new(move || {
                drop(own.lock().unwrap().take());
                bump();
            }) as Box<dyn FnOnce() + Send>,
        );
        *slot.lock().unwrap() = Some(callback);
        let token = source.token();
        let c = count.clone();
        let other = thread::spawn(move || drop(StopCallback::new(&token, counting(&c))));
        source.request_stop();
        other.join().unwrap();
        assert!(slot.lock().unwrap().is_none());
        let total = count.load(Ordering::SeqCst);
        assert!((1..=2).contains(&total));
    });
}

/// A callback drops another pending one while a third thread may be dropping
/// it too: it runs at most once, and never after its drop returned.
#[test]
fn callback_dropping_another_pending_callback() {
    model(|| {
        let source = StopSource::new();
        let count = Arc::new(AtomicUsize::new(0));
        let victim: Slot = Arc::new(Mutex::new(Some(StopCallback::new(
            &source.token(),
            Box::new(counting(&count)) as Box<dyn FnOnce() + Send>,
        ))));
        let v = victim.clone();
        // Registered after the victim, so it is run first.
        let _killer = StopCallback::new(&source.token(), move || drop(v.lock().unwrap().take()));
        let v = victim.clone();
        let c = count.clone();
        let rival = thread::spawn(move || {
            let taken = v.lock().unwrap().take();
            let took = taken.is_some();
            drop(taken);
            (took, c.load(Ordering::SeqCst))
        });
        source.request_stop();
        let (rival_took_it, seen_after_rival_drop) = rival.join().unwrap();
        let total = count.load(Ordering::SeqCst);
        if rival_took_it {
            // Nothing may run after the rival's drop returned.
            assert_eq!(total, seen_after_rival_drop);
            assert!(total <= 1);
        } else {
            // The killer ran first and unlinked the victim before it could run.
            assert_eq!(total, 0);
        }
    });
}

/// Two concurrent requests: exactly one returns `true`, callbacks run once.
#[test]
fn concurrent_requests_exactly_one_wins() {
    model(|| {
        let source = StopSource::new();
        let count = Arc::new(AtomicUsize::new(0));
        let _callback = StopCallback::new(&source.token(), counting(&count));
        let other = source.clone();
        let rival = thread::spawn(move || other.request_stop());
        let mine = source.request_stop();
        let theirs = rival.join().unwrap();
        assert!(mine ^ theirs, "exactly one request wins");
        assert_eq!(count.load(Ordering::SeqCst), 1);
    });
}

/// The last source dropped while a callback registers: afterwards no stop is
/// possible and the callback never ran.
#[test]
fn last_source_drop_vs_registration() {
    model(|| {
        let source = StopSource::new();
        let token = source.token();
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        let t = token.clone();
        let registrant = thread::spawn(move || StopCallback::new(&t, counting(&c)));
        drop(source);
        let callback = registrant.join().unwrap();
        assert!(!token.stop_possible());
        assert!(!token.stop_requested());
        drop(callback);
        assert_eq!(count.load(Ordering::SeqCst), 0);
    });
}

/// A parent's stop races the drop of its child source: the child's callback
/// runs at most once, only if the child was stopped, and nothing is left behind.
#[test]
fn child_of_vs_parent_stop_vs_child_drop() {
    model(|| {
        let parent = StopSource::new();
        let child = StopSource::child_of(&parent.token());
        let child_token = child.token();
        let count = Arc::new(AtomicUsize::new(0));
        let callback = StopCallback::new(&child_token, counting(&count));
        let dropper = thread::spawn(move || drop(child));
        assert!(parent.request_stop());
        dropper.join().unwrap();
        let ran = count.load(Ordering::SeqCst);
        assert!(ran <= 1);
        assert_eq!(ran == 1, child_token.stop_requested());
        drop(callback);
        drop(parent);
    });
}

/// Once a token saw `stop_possible() == false` (the child's last source gone
/// without a stop), no stop may ever be seen and no callback may run, even if
/// the parent's link callback was already running when the source went.
#[test]
fn child_drop_then_parent_stop_keeps_stop_possible_monotonic() {
    model(|| {
        let parent = StopSource::new();
        let child = StopSource::child_of(&parent.token());
        let token = child.token();
        let count = Arc::new(AtomicUsize::new(0));
        let _callback = StopCallback::new(&token, counting(&count));
        let observed = token.clone();
        let observer = thread::spawn(move || !observed.stop_possible());
        let dropper = thread::spawn(move || drop(child));
        parent.request_stop();
        let saw_impossible = observer.join().unwrap();
        dropper.join().unwrap();
        if saw_impossible {
            assert!(!token.stop_requested(), "stop_possible went false -> true");
            assert_eq!(
                count.load(Ordering::SeqCst),
                0,
                "ran after the last source went"
            );
        }
    });
}

/// Plain (non-atomic) data, so loom checks that every access is ordered by
/// the protocol's happens-before edges.
struct Data(UnsafeCell<usize>);

// SAFETY: only used in the models below, where loom reports any unordered
// access to the cell as a data race.
unsafe impl Sync for Data {}

impl Data {
    fn new() -> Arc<Self> {
        Arc::new(Data(UnsafeCell::new(0)))
    }
    fn set(&self) {
        // SAFETY: loom checks this access against every other one.
        self.0.with_mut(|p| unsafe { *p = 1 });
    }
    fn get(&self) -> usize {
        // SAFETY: as in `set`.
        self.0.with(|p| unsafe { *p })
    }
}

/// Everything the requester did before `request_stop` happens-before a call
/// that sees `stop_requested() == true`.
#[test]
fn stop_requested_publishes_the_requesters_writes() {
    model(|| {
        let source = StopSource::new();
        let token = source.token();
        let data = Data::new();
        let d = data.clone();
        let observer = thread::spawn(move || {
            if token.stop_requested() {
                assert_eq!(d.get(), 1);
            }
        });
        data.set();
        source.request_stop();
        observer.join().unwrap();
    });
}

/// A callback registered concurrently with the stop sees the requester's
/// writes, whether it runs inline or on the requester.
#[test]
fn callback_sees_the_requesters_writes() {
    model(|| {
        let source = StopSource::new();
        let token = source.token();
        let data = Data::new();
        let d = data.clone();
        let registrant = thread::spawn(move || {
            drop(StopCallback::new(&token, move || assert_eq!(d.get(), 1)));
        });
        data.set();
        source.request_stop();
        registrant.join().unwrap();
    });
}

/// Everything a callback did happens-before a `drop` that waited for it.
#[test]
fn waited_drop_sees_the_callbacks_writes() {
    model(|| {
        let source = StopSource::new();
        let data = Data::new();
        let started = Arc::new(AtomicUsize::new(0));
        let (d, s) = (data.clone(), started.clone());
        let callback = StopCallback::new(&source.token(), move || {
            s.store(1, Ordering::Relaxed);
            d.set();
        });
        let requester = thread::spawn(move || source.request_stop());
        while started.load(Ordering::Relaxed) == 0 {
            thread::yield_now();
        }
        drop(callback);
        assert_eq!(data.get(), 1);
        requester.join().unwrap();
    });
}

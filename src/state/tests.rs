//! Unit tests of the unsafe core, through the safe types built on it. Kept here
//! so that `cargo +nightly miri test --lib` checks every unsafe path. Tests named
//! `leak_*` leak on purpose and run under miri with `-Zmiri-ignore-leaks`.

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::thread;

use super::CallbackToken;
use crate::{
    InplaceStopCallback, InplaceStopSource, PinnedCallback, StopCallback, StopSource, StopToken,
};

fn counter() -> (Arc<AtomicUsize>, impl Fn() -> Box<dyn FnOnce() + Send>) {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    (count, move || {
        let c = c.clone();
        Box::new(move || {
            c.fetch_add(1, Ordering::SeqCst);
        })
    })
}

type Slot = Arc<Mutex<Option<StopCallback<Box<dyn FnOnce() + Send>>>>>;

fn linked(token: &StopToken) -> usize {
    token.stop_state().map_or(0, |state| state.linked_len())
}

#[test]
fn registered_callbacks_run_once_each_on_request() {
    let source = StopSource::new();
    let (count, make) = counter();
    let callbacks: Vec<_> = (0..5)
        .map(|_| StopCallback::new(&source.token(), make()))
        .collect();
    assert_eq!(linked(&source.token()), 5);
    assert!(source.request_stop());
    assert_eq!(count.load(Ordering::SeqCst), 5);
    assert!(!source.request_stop());
    drop(callbacks);
    assert_eq!(count.load(Ordering::SeqCst), 5);
    assert_eq!(linked(&source.token()), 0);
}

#[test]
fn dropped_callback_is_unlinked_and_never_runs() {
    let source = StopSource::new();
    let (count, make) = counter();
    let first = StopCallback::new(&source.token(), make());
    let second = StopCallback::new(&source.token(), make());
    let third = StopCallback::new(&source.token(), make());
    drop(second); // the middle of the list
    assert_eq!(linked(&source.token()), 2);
    drop(third); // the head
    drop(first); // the tail, now alone
    assert_eq!(linked(&source.token()), 0);
    source.request_stop();
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

#[test]
fn callback_after_stop_runs_inline_on_registering_thread() {
    let source = StopSource::new();
    source.request_stop();
    let (tx, rx) = mpsc::channel();
    let _callback = StopCallback::new(&source.token(), move || {
        tx.send(thread::current().id()).unwrap();
    });
    assert_eq!(rx.try_recv().unwrap(), thread::current().id());
    assert_eq!(linked(&source.token()), 0);
}

#[test]
fn callback_without_sources_is_kept_unregistered_and_dropped_with_it() {
    let source = StopSource::new();
    let token = source.token();
    drop(source);
    let (count, make) = counter();
    let guard = Arc::new(());
    let held = guard.clone();
    let callback = StopCallback::new(&token, move || {
        drop(held);
        make()();
    });
    assert_eq!(linked(&token), 0);
    assert_eq!(
        Arc::strong_count(&guard),
        2,
        "the callback is kept until drop"
    );
    drop(callback);
    assert_eq!(Arc::strong_count(&guard), 1);
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

#[test]
fn callback_drops_its_own_registration_without_deadlock() {
    let source = StopSource::new();
    let slot: Slot = Arc::new(Mutex::new(None));
    let (count, make) = counter();
    let inner = make();
    let own = slot.clone();
    let callback = StopCallback::new(
        &source.token(),
        Box::new(move || {
            let registration = own.lock().unwrap().take();
            drop(registration); // our own, running on this thread
            inner();
        }) as Box<dyn FnOnce() + Send>,
    );
    *slot.lock().unwrap() = Some(callback);
    // Another callback after it must still run: the requester must not touch
    // the freed node.
    let _after = StopCallback::new(&source.token(), make());
    assert!(source.request_stop());
    assert_eq!(count.load(Ordering::SeqCst), 2);
    assert!(slot.lock().unwrap().is_none());
}

#[test]
fn callback_dropping_its_registration_through_its_captures_does_not_deadlock() {
    // The closure owns the only handle to its own registration: dropping the
    // closure (after it ran) drops the registration, on the requesting thread.
    let source = StopSource::new();
    let slot: Slot = Arc::new(Mutex::new(None));
    let captured = slot.clone();
    let (count, make) = counter();
    let bump = make();
    let callback = StopCallback::new(
        &source.token(),
        Box::new(move || {
            let registration = captured.lock().unwrap().take();
            bump();
            // `registration` drops at the end of the closure body.
            drop(registration);
        }) as Box<dyn FnOnce() + Send>,
    );
    *slot.lock().unwrap() = Some(callback);
    source.request_stop();
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn callback_drops_another_pending_callback_which_never_runs() {
    let source = StopSource::new();
    let (count, make) = counter();
    let victim = Arc::new(Mutex::new(Some(StopCallback::new(&source.token(), make()))));
    let v = victim.clone();
    // Registered last, so it is at the head and runs first.
    let _killer = StopCallback::new(&source.token(), move || {
        drop(v.lock().unwrap().take());
    });
    source.request_stop();
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

#[test]
fn callback_registering_another_runs_it_inline() {
    let source = StopSource::new();
    let token = source.token();
    let (count, make) = counter();
    let inner = make();
    let nested = Arc::new(Mutex::new(Vec::new()));
    let keep = nested.clone();
    let _outer = StopCallback::new(&source.token(), move || {
        keep.lock().unwrap().push(StopCallback::new(&token, inner));
    });
    source.request_stop();
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(nested.lock().unwrap().len(), 1);
}

#[test]
fn drop_blocks_while_callback_runs_on_another_thread() {
    let source = StopSource::new();
    let state_token = source.token();
    let (started_tx, started_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let returned = Arc::new(AtomicUsize::new(0));
    let r = returned.clone();
    let callback = StopCallback::new(&source.token(), move || {
        started_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        r.store(1, Ordering::SeqCst);
    });
    let requester = thread::spawn(move || source.request_stop());
    started_rx.recv().unwrap();
    let r = returned.clone();
    let dropper = thread::spawn(move || {
        drop(callback);
        // The drop returned: the callback must have finished.
        r.load(Ordering::SeqCst)
    });
    // Release the callback only once the dropper is parked waiting for it.
    let state = state_token.stop_state().unwrap();
    while !state.has_waiter() {
        thread::yield_now();
    }
    go_tx.send(()).unwrap();
    assert_eq!(dropper.join().unwrap(), 1);
    assert!(requester.join().unwrap());
}

#[test]
fn drop_of_finished_callback_on_another_thread_returns() {
    let source = StopSource::new();
    let (count, make) = counter();
    let callback = StopCallback::new(&source.token(), make());
    thread::spawn(move || source.request_stop()).join().unwrap();
    drop(callback);
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn panicking_callback_lets_others_run_and_resumes_first_panic() {
    let source = StopSource::new();
    let (count, make) = counter();
    let _a = StopCallback::new(&source.token(), make());
    let _p1 = StopCallback::new(&source.token(), || panic!("first"));
    let _b = StopCallback::new(&source.token(), make());
    let _p2 = StopCallback::new(&source.token(), || panic!("second"));
    let _c = StopCallback::new(&source.token(), make());
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| source.request_stop()));
    let payload = result.unwrap_err();
    // The list runs newest first, so "second" is the first panic.
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"second"));
    assert_eq!(count.load(Ordering::SeqCst), 3);
    assert!(source.stop_requested());
    assert!(!source.request_stop());
    // The state stays usable: a new callback runs inline.
    let _d = StopCallback::new(&source.token(), make());
    assert_eq!(count.load(Ordering::SeqCst), 4);
}

#[test]
fn concurrent_requests_exactly_one_true() {
    let source = StopSource::new();
    let (count, make) = counter();
    let _callbacks: Vec<_> = (0..4)
        .map(|_| StopCallback::new(&source.token(), make()))
        .collect();
    let barrier = Arc::new(Barrier::new(3));
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let source = source.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                source.request_stop()
            })
        })
        .collect();
    let wins = handles
        .into_iter()
        .filter_map(|h| h.join().ok())
        .filter(|won| *won)
        .count();
    // Joining only ends after each thread's request_stop returned; the winner's
    // returned after all callbacks ran.
    assert_eq!(wins, 1);
    assert_eq!(count.load(Ordering::SeqCst), 4);
}

#[test]
fn child_is_stopped_by_parent_and_unlinks_when_dropped() {
    let parent = StopSource::new();
    let child = StopSource::child_of(&parent.token());
    let grandchild = StopSource::child_of(&child.token());
    assert_eq!(linked(&parent.token()), 1);
    let gone = StopSource::child_of(&parent.token());
    let gone_clone = gone.clone();
    assert_eq!(linked(&parent.token()), 2);
    drop(gone);
    assert_eq!(linked(&parent.token()), 2, "a clone of the child remains");
    drop(gone_clone);
    assert_eq!(linked(&parent.token()), 1);
    child.request_stop();
    assert!(!parent.stop_requested());
    assert!(grandchild.stop_requested());
    let other = StopSource::child_of(&parent.token());
    let other_token = other.token();
    drop(other);
    assert_eq!(
        linked(&parent.token()),
        2,
        "a token of the child keeps its link"
    );
    assert!(other_token.stop_possible());
    drop(other_token);
    assert_eq!(
        linked(&parent.token()),
        1,
        "the child's last handle removed it"
    );
    let last = StopSource::child_of(&parent.token());
    parent.request_stop();
    assert!(last.stop_requested());
}

#[test]
fn child_of_stopped_parent_is_stopped_at_once() {
    let parent = StopSource::new();
    parent.request_stop();
    let child = StopSource::child_of(&parent.token());
    assert!(child.stop_requested());
    let orphan = StopSource::child_of(&StopToken::default());
    assert!(!orphan.stop_requested());
    assert!(orphan.request_stop());
}

#[test]
fn inplace_and_pinned_registrations() {
    let source = InplaceStopSource::new();
    let (count, make) = counter();
    let by_value = InplaceStopCallback::new(source.token(), make());
    let pinned = pin!(PinnedCallback::new(source.token(), make()));
    pinned.register();
    let mut unregistered = Box::pin(PinnedCallback::new(source.token(), make()));
    {
        let dropped = pin!(PinnedCallback::new(source.token(), make()));
        dropped.register();
    }
    assert!(source.request_stop());
    assert_eq!(count.load(Ordering::SeqCst), 2);
    unregistered.as_mut().register(); // after the stop: runs at once
    assert_eq!(count.load(Ordering::SeqCst), 3);
    drop(by_value);
}

#[test]
fn pinned_shared_registration_blocks_drop_like_by_value() {
    let source = StopSource::new();
    let (count, make) = counter();
    let mut callback = pin!(PinnedCallback::new(source.token(), make()));
    callback.as_mut().register();
    callback.as_mut().register(); // a second call does nothing
    thread::scope(|s| {
        s.spawn(|| source.request_stop());
    });
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn leak_forgotten_callback_then_source_dropped_is_sound() {
    let source = StopSource::new();
    let (count, make) = counter();
    std::mem::forget(StopCallback::new(&source.token(), make()));
    let token = source.token();
    drop(source);
    assert!(!token.stop_possible());
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

#[test]
fn leak_forgotten_callback_then_stop_runs_it() {
    let source = StopSource::new();
    let (count, make) = counter();
    std::mem::forget(StopCallback::new(&source.token(), make()));
    let _after = StopCallback::new(&source.token(), make());
    source.request_stop();
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn leak_forgotten_inplace_callback_then_source_moved_and_stopped() {
    let (count, make) = counter();
    let source = InplaceStopSource::new();
    std::mem::forget(InplaceStopCallback::new(source.token(), make()));
    let mut leaked = Box::pin(PinnedCallback::new(source.token(), make()));
    leaked.as_mut().register();
    std::mem::forget(leaked);
    let moved = source; // the borrows ended; the state moves with its list
    assert!(moved.request_stop());
    assert_eq!(count.load(Ordering::SeqCst), 2);
    {
        let other = InplaceStopSource::new();
        std::mem::forget(InplaceStopCallback::new(other.token(), make()));
        // `other` goes out of scope with a leaked node linked: nothing touches it.
    }
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

mod future {
    use std::future::Future;
    use std::pin::pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    use std::thread;

    use super::CallbackToken;
    use crate::{InplaceStopSource, StopSource};

    struct CountingWaker {
        wakes: AtomicUsize,
        thread: thread::Thread,
    }

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.wakes.fetch_add(1, Ordering::SeqCst);
            self.thread.unpark();
        }
    }

    fn waker() -> (Arc<CountingWaker>, Waker) {
        let inner = Arc::new(CountingWaker {
            wakes: AtomicUsize::new(0),
            thread: thread::current(),
        });
        (inner.clone(), Waker::from(inner))
    }

    #[test]
    fn stopped_future_is_woken_once_by_the_stop() {
        let source = StopSource::new();
        let token = source.token();
        let (count, waker) = waker();
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(token.stopped());
        assert!(future.as_mut().poll(&mut cx).is_pending());
        assert!(future.as_mut().poll(&mut cx).is_pending()); // same waker: kept
        assert_eq!(token.stop_state().unwrap().linked_len(), 1);
        source.request_stop();
        assert_eq!(count.wakes.load(Ordering::SeqCst), 1);
        assert!(future.as_mut().poll(&mut cx).is_ready());
    }

    #[test]
    fn repoll_with_a_new_waker_replaces_the_old_one() {
        let source = StopSource::new();
        let (first, waker1) = waker();
        let (second, waker2) = waker();
        let mut future = pin!(source.token().into_stopped());
        assert!(future
            .as_mut()
            .poll(&mut Context::from_waker(&waker1))
            .is_pending());
        assert!(future
            .as_mut()
            .poll(&mut Context::from_waker(&waker2))
            .is_pending());
        source.request_stop();
        assert_eq!(first.wakes.load(Ordering::SeqCst), 0);
        assert_eq!(second.wakes.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn dropped_future_deregisters_and_is_never_woken() {
        let source = StopSource::new();
        let (count, waker) = waker();
        {
            let mut future = pin!(source.token().into_stopped());
            assert!(future
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending());
        }
        assert_eq!(source.token().stop_state().unwrap().linked_len(), 0);
        source.request_stop();
        assert_eq!(count.wakes.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn stopped_future_wakes_a_task_blocked_on_another_thread() {
        let source = StopSource::new();
        let token = source.token();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let waiter = thread::spawn(move || {
            let (_count, waker) = waker();
            let mut cx = Context::from_waker(&waker);
            let mut future = pin!(token.stopped());
            let mut announced = false;
            loop {
                if let Poll::Ready(()) = future.as_mut().poll(&mut cx) {
                    return;
                }
                if !announced {
                    ready_tx.send(()).unwrap();
                    announced = true;
                }
                thread::park();
            }
        });
        ready_rx.recv().unwrap();
        source.request_stop();
        waiter.join().unwrap();
    }

    #[test]
    fn inplace_stopped_future_and_unengaged_tokens() {
        let source = InplaceStopSource::new();
        let (count, waker) = waker();
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(source.token().stopped());
        assert!(future.as_mut().poll(&mut cx).is_pending());
        source.request_stop();
        assert_eq!(count.wakes.load(Ordering::SeqCst), 1);
        assert!(future.as_mut().poll(&mut cx).is_ready());
        let mut never = pin!(crate::StopToken::default().into_stopped());
        assert!(never.as_mut().poll(&mut cx).is_pending());
        let gone = StopSource::new();
        let orphan = gone.token();
        drop(gone);
        let mut orphaned = pin!(orphan.stopped());
        assert!(orphaned.as_mut().poll(&mut cx).is_pending());
    }
}

/// A payload whose own `drop` panics (a second panic, so it is dropped by the
/// requester) must not make the requester abandon the list.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("the payload's drop panics");
    }
}

#[test]
fn leak_panicking_payload_drop_loses_no_callback_and_leaves_no_running_node() {
    let source = StopSource::new();
    let (count, make) = counter();
    // Newest first: the counter runs last, after both panics.
    let last = StopCallback::new(&source.token(), make());
    let bomb = StopCallback::new(&source.token(), || std::panic::panic_any(Bomb));
    let first = StopCallback::new(&source.token(), || panic!("first"));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| source.request_stop()));
    assert_eq!(result.unwrap_err().downcast_ref::<&str>(), Some(&"first"));
    assert_eq!(count.load(Ordering::SeqCst), 1);
    // Had a node been left `Running`, this drop on another thread would wait
    // for ever.
    thread::spawn(move || drop((first, bomb, last)))
        .join()
        .unwrap();
}

mod reentrant_waker {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, RawWaker, RawWakerVTable, Waker};

    use crate::{StopCallback, StopSource, StopToken};

    /// A waker whose `clone` and `drop` register and drop a stop callback on
    /// the very token the future waits on.
    struct Reentrant {
        token: StopToken,
    }

    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, drop_waker);

    unsafe fn clone(data: *const ()) -> RawWaker {
        // SAFETY: `data` points to the test's `Reentrant`, which outlives every
        // waker made from it (all are dropped before the test returns).
        let reentrant = unsafe { &*(data as *const Reentrant) };
        drop(StopCallback::new(&reentrant.token, || {}));
        RawWaker::new(data, &VTABLE)
    }

    unsafe fn noop(_: *const ()) {}

    unsafe fn drop_waker(data: *const ()) {
        // SAFETY: as in `clone`.
        let reentrant = unsafe { &*(data as *const Reentrant) };
        drop(StopCallback::new(&reentrant.token, || {}));
    }

    #[test]
    fn waker_clone_and_drop_may_use_the_same_state_during_poll() {
        let source = StopSource::new();
        let reentrant = Reentrant {
            token: source.token(),
        };
        let raw = RawWaker::new(&reentrant as *const Reentrant as *const (), &VTABLE);
        // SAFETY: the vtable's functions uphold the `RawWaker` contract (they
        // only read the `Reentrant`, which outlives the waker).
        let waker = unsafe { Waker::from_raw(raw) };
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(source.token().into_stopped());
        assert!(future.as_mut().poll(&mut cx).is_pending());
        assert!(future.as_mut().poll(&mut cx).is_pending()); // same waker again
        source.request_stop();
        assert!(future.as_mut().poll(&mut cx).is_ready());
    }
}

#[test]
fn spare_boxes_of_different_layouts_and_threads_are_freed_once() {
    use super::SpareBox;
    let small = SpareBox::pin(7u64);
    let big = SpareBox::pin([3u8; 48]);
    assert_eq!(*small, 7);
    drop(small); // becomes the spare
    let reused = SpareBox::pin(8u64); // takes it
    let other = SpareBox::pin(String::from("drops its own heap data"));
    drop(big); // the spare again
    let moved = thread::spawn(move || {
        let on_thread = SpareBox::pin(9u64);
        assert_eq!(*reused + *on_thread, 17);
        drop(reused); // a block from another thread, kept by this one
        drop(other);
    });
    moved.join().unwrap();
    let fits_not = SpareBox::pin(1u32); // the spare ([u8; 48]) does not fit
    assert_eq!(*fits_not, 1);
}

#[test]
fn state_blocks_are_reused_across_kinds_and_threads_and_freed_once() {
    // A plain state's block becomes the spare, a child and a deadline-free
    // any-of take and give it back in turn; states made here are freed on
    // another thread, whose spare keeps one block and frees the rest; every
    // thread frees its spare when it exits (miri checks none leaks or is
    // freed twice).
    let parent = StopSource::new();
    drop(StopSource::new()); // becomes this thread's spare
    let child = StopSource::child_of(&parent.token()); // takes it
    let other = StopSource::new();
    let any = StopSource::any_of([parent.token(), other.token()]);
    let token = child.token();
    drop(child);
    assert!(token.stop_possible(), "the link stays with the token");
    let moved = thread::spawn(move || {
        let local = StopSource::new();
        assert!(!local.stop_requested());
        drop(local); // this thread's spare
        drop(token); // freed: the spare is taken
        drop(any); // its block and its links are freed
        drop(other);
    });
    moved.join().unwrap();
    parent.request_stop();
    let again = StopSource::child_of(&parent.token());
    assert!(
        again.stop_requested(),
        "a reused block starts as a new state"
    );
}

/// A custom reason whose drop makes, links and drops states on this thread
/// (so the spare is taken and given back inside a teardown), drops a state
/// it was handed, and panics.
struct Reentrant {
    held: Mutex<Option<(StopSource, StopToken)>>,
    panic: bool,
}

impl Drop for Reentrant {
    fn drop(&mut self) {
        let a = StopSource::new();
        let child = StopSource::child_of(&a.token());
        let grandchild = StopSource::child_of(&child.token()).token();
        let other = StopSource::new();
        let any = StopSource::any_of([grandchild.clone(), other.token()]);
        drop(child);
        drop(a);
        drop(self.held.lock().unwrap().take());
        drop(any);
        drop(other);
        drop(grandchild);
        if self.panic {
            panic!("reason drop");
        }
    }
}

#[test]
fn a_custom_reasons_drop_may_make_and_drop_states_inside_a_teardown() {
    for panic in [false, true] {
        let root = StopSource::new();
        let mut chain = vec![StopSource::child_of(&root.token())];
        for _ in 0..8 {
            let next = StopSource::child_of(&chain.last().unwrap().token());
            chain.push(next);
        }
        let held_parent = StopSource::new();
        let held_child = StopSource::child_of(&held_parent.token());
        let held = (held_child, held_parent.token());
        drop(held_parent);
        root.request_stop_with(crate::StopReason::custom(Reentrant {
            held: Mutex::new(Some(held)),
            panic,
        }));
        let leaf = chain.pop().unwrap().token();
        drop(chain);
        drop(root);
        // The last Arc of the reason is dropped by the last teardown.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(leaf)));
        assert_eq!(result.is_err(), panic);
        drop(StopSource::child_of(&StopSource::new().token()));
    }
}

#[test]
fn states_made_on_one_thread_are_freed_on_another() {
    let (tx, rx) = mpsc::channel::<Vec<StopToken>>();
    let maker = thread::spawn(move || {
        for round in 0..4 {
            drop(StopSource::new()); // fill the spare
            let root = StopSource::new();
            let mut tokens = vec![root.token()];
            for i in 0..6 {
                let s = if i % 2 == 0 {
                    StopSource::child_of(tokens.last().unwrap())
                } else {
                    StopSource::any_of([tokens.last().unwrap().clone(), root.token()])
                };
                tokens.push(s.token());
            }
            if round % 2 == 0 {
                root.request_stop();
            }
            tx.send(tokens).unwrap();
        }
    });
    let freer = thread::spawn(move || {
        for tokens in rx {
            drop(StopSource::new());
            drop(tokens);
            let again = StopSource::child_of(&StopSource::new().token());
            assert!(!again.stop_requested());
        }
    });
    maker.join().unwrap();
    freer.join().unwrap();
}

/// Holds tokens until the thread's thread-locals are destroyed, then drops
/// them and makes and drops states, before or after the spare slot is gone.
struct DropInTls(std::cell::RefCell<Vec<StopToken>>);

impl Drop for DropInTls {
    fn drop(&mut self) {
        let tokens = std::mem::take(&mut *self.0.borrow_mut());
        drop(tokens);
        // Allocate and free during TLS destruction too.
        let a = StopSource::new();
        let c = StopSource::child_of(&a.token());
        drop(a);
        drop(c);
    }
}

thread_local! {
    static TLS_HOLD: DropInTls = const { DropInTls(std::cell::RefCell::new(Vec::new())) };
}

#[test]
fn states_are_freed_and_made_during_thread_local_destruction() {
    for spare_first in [false, true] {
        thread::spawn(move || {
            if spare_first {
                drop(StopSource::new());
            }
            let root = StopSource::new();
            let child = StopSource::child_of(&root.token());
            let grand = StopSource::child_of(&child.token());
            TLS_HOLD.with(|h| h.0.borrow_mut().extend([grand.token(), child.token()]));
            drop((root, child, grand));
            if !spare_first {
                drop(StopSource::new());
            }
        })
        .join()
        .unwrap();
    }
}

//! Blocking waits that wake on a stop: `sleep` and the condvar waits.

use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use stoptoken::thread::{wait_timeout_until, wait_until};
use stoptoken::{sleep, JThread, StopCallback, StopSource, Stopped};

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn sleep_returns_stopped_when_stopped_during_a_long_sleep() {
    let source = StopSource::new();
    let token = source.token();
    let (entered_tx, entered_rx) = mpsc::channel();
    let sleeper = std::thread::spawn(move || {
        // Announce from a callback-free point right before sleeping; the stop
        // may come before or during the sleep: both must give Err.
        entered_tx.send(()).unwrap();
        sleep(HOUR, &token)
    });
    entered_rx.recv().unwrap();
    source.request_stop();
    assert_eq!(sleeper.join().unwrap(), Err(Stopped));
}

#[test]
fn sleep_is_woken_by_a_stop_from_a_jthread_drop_many_times() {
    // Whatever the interleaving (stop before the sleep starts, or while it is
    // parked), an hour-long sleep ends with Err(Stopped) and the drop returns.
    for _ in 0..50 {
        let thread = JThread::spawn(|token| sleep(HOUR, &token));
        thread.request_stop();
        // A lost wake-up would hang here for an hour.
        assert_eq!(thread.join().unwrap(), Err(Stopped));
    }
}

#[test]
fn sleep_of_a_stopped_token_returns_at_once() {
    let source = StopSource::new();
    source.request_stop();
    assert_eq!(sleep(HOUR, &source.token()), Err(Stopped));
}

#[test]
fn sleep_without_stop_lasts_the_duration() {
    let source = StopSource::new();
    let start = Instant::now();
    assert_eq!(sleep(Duration::from_millis(20), &source.token()), Ok(()));
    assert!(start.elapsed() >= Duration::from_millis(20));
    // A token that can never be stopped sleeps the full duration too.
    assert_eq!(sleep(Duration::from_millis(1), &Default::default()), Ok(()));
}

type Shared = Arc<(Mutex<Vec<u32>>, Condvar)>;

fn shared() -> Shared {
    Arc::new((Mutex::new(Vec::new()), Condvar::new()))
}

#[test]
fn condvar_wait_returns_true_when_the_predicate_becomes_true() {
    let queue = shared();
    let source = StopSource::new();
    let (q, token) = (queue.clone(), source.token());
    let (waiting_tx, waiting_rx) = mpsc::channel();
    let consumer = std::thread::spawn(move || {
        let (mutex, condvar) = &*q;
        let mut first = true;
        let (guard, ready) = wait_until(mutex, condvar, &token, |items| {
            if first {
                first = false;
                waiting_tx.send(()).unwrap();
            }
            !items.is_empty()
        })
        .unwrap();
        (guard.clone(), ready)
    });
    waiting_rx.recv().unwrap();
    queue.0.lock().unwrap().push(5);
    queue.1.notify_all();
    assert_eq!(consumer.join().unwrap(), (vec![5], true));
    assert!(!source.stop_requested());
}

#[test]
fn condvar_wait_returns_false_when_stopped() {
    let queue = shared();
    let source = StopSource::new();
    let (q, token) = (queue.clone(), source.token());
    // Request the stop once the consumer has evaluated its predicate (it sends
    // on the channel): the stop comes before or during the wait, never after.
    let (checked_tx, checked_rx) = mpsc::channel();
    let consumer = std::thread::spawn(move || {
        let (mutex, condvar) = &*q;
        let (_guard, ready) = wait_until(mutex, condvar, &token, |items| {
            let _ = checked_tx.send(());
            !items.is_empty()
        })
        .unwrap();
        ready
    });
    checked_rx.recv().unwrap();
    source.request_stop();
    assert!(!consumer.join().unwrap());
}

#[test]
fn condvar_wait_returns_at_once_when_already_stopped_or_ready() {
    let (mutex, condvar) = (Mutex::new(0u32), Condvar::new());
    let source = StopSource::new();
    let (_guard, ready) = wait_until(&mutex, &condvar, &source.token(), |n| *n == 0).unwrap();
    assert!(ready);
    drop(_guard);
    source.request_stop();
    let (_guard, ready) = wait_until(&mutex, &condvar, &source.token(), |n| *n == 1).unwrap();
    assert!(!ready);
}

#[test]
fn condvar_timed_wait_times_out_and_can_still_succeed() {
    let (mutex, condvar) = (Mutex::new(false), Condvar::new());
    let source = StopSource::new();
    let token = source.token();
    let (_guard, ready) =
        wait_timeout_until(&mutex, &condvar, &token, Duration::from_millis(10), |r| *r).unwrap();
    assert!(!ready);
    drop(_guard);
    *mutex.lock().unwrap() = true;
    let (_guard, ready) = wait_timeout_until(&mutex, &condvar, &token, HOUR, |r| *r).unwrap();
    assert!(ready);
}

#[test]
fn condvar_wait_reports_poisoning_but_still_works() {
    let pair = Arc::new((Mutex::new(1u32), Condvar::new()));
    let p = pair.clone();
    let _ = std::thread::spawn(move || {
        let _guard = p.0.lock().unwrap();
        panic!("poison");
    })
    .join();
    let source = StopSource::new();
    let error = wait_until(&pair.0, &pair.1, &source.token(), |n| *n == 1).unwrap_err();
    let (guard, ready) = error.into_inner();
    assert!(ready);
    assert_eq!(*guard, 1);
}

#[test]
fn a_callback_that_takes_the_same_mutex_does_not_deadlock_the_wait() {
    // Another registration on the same token also locks the mutex: the wait
    // must not hold the mutex while deregistering its own callback.
    let pair = shared();
    let source = StopSource::new();
    let p = pair.clone();
    let _other = StopCallback::new(&source.token(), move || p.0.lock().unwrap().push(9));
    let (p, token) = (pair.clone(), source.token());
    let (checked_tx, checked_rx) = mpsc::channel();
    let consumer = std::thread::spawn(move || {
        let (mutex, condvar) = &*p;
        let (guard, ready) = wait_until(mutex, condvar, &token, |items| {
            let _ = checked_tx.send(());
            items.contains(&100)
        })
        .unwrap();
        (guard.clone(), ready)
    });
    checked_rx.recv().unwrap();
    source.request_stop();
    let (_items, ready) = consumer.join().unwrap();
    assert!(!ready);
    // `request_stop` returned, so the other callback ran too.
    assert_eq!(*pair.0.lock().unwrap(), vec![9]);
}

#[test]
fn sleep_is_not_shortened_by_spurious_wake_ups() {
    const NAP: Duration = Duration::from_millis(30);
    let source = StopSource::new();
    let token = source.token();
    let sleeper = std::thread::spawn(move || {
        let start = Instant::now();
        let result = sleep(NAP, &token);
        (result, start.elapsed())
    });
    // Unpark the sleeper again and again, as a spurious wake-up would.
    while !sleeper.is_finished() {
        sleeper.thread().unpark();
        std::thread::yield_now();
    }
    let (result, slept) = sleeper.join().unwrap();
    assert_eq!(result, Ok(()));
    assert!(slept >= NAP, "woke after {slept:?}");
}

#[test]
fn condvar_wait_keeps_waiting_through_notifications_while_the_predicate_is_false() {
    let queue = shared();
    let source = StopSource::new();
    let (q, token) = (queue.clone(), source.token());
    let (checked_tx, checked_rx) = mpsc::channel();
    let consumer = std::thread::spawn(move || {
        let (mutex, condvar) = &*q;
        let (guard, ready) = wait_until(mutex, condvar, &token, |items| {
            checked_tx.send(()).unwrap();
            !items.is_empty()
        })
        .unwrap();
        (guard.clone(), ready)
    });
    // The predicate runs with the lock held, so after each check the lock is
    // free again only once the consumer waits (or has returned): notify without
    // changing anything a few times, then for real.
    for round in 0..5 {
        checked_rx
            .recv()
            .expect("the wait returned on a notification alone");
        let mut items = queue.0.lock().unwrap();
        if round == 4 {
            items.push(5);
        }
        queue.1.notify_all();
    }
    assert_eq!(consumer.join().unwrap(), (vec![5], true));
}

#[test]
fn condvar_timed_wait_returns_false_when_stopped_during_a_long_wait() {
    let queue = shared();
    let source = StopSource::new();
    let (q, token) = (queue.clone(), source.token());
    let (checked_tx, checked_rx) = mpsc::channel();
    let consumer = std::thread::spawn(move || {
        let (mutex, condvar) = &*q;
        let (_guard, ready) = wait_timeout_until(mutex, condvar, &token, HOUR, |items| {
            let _ = checked_tx.send(());
            !items.is_empty()
        })
        .unwrap();
        ready
    });
    checked_rx.recv().unwrap();
    source.request_stop();
    // A missed stop would keep the consumer waiting for an hour.
    assert!(!consumer.join().unwrap());
}

#[test]
fn condvar_wait_on_a_token_that_can_never_stop_still_waits_for_the_predicate() {
    let queue = shared();
    let q = queue.clone();
    let (checked_tx, checked_rx) = mpsc::channel();
    let consumer = std::thread::spawn(move || {
        let (mutex, condvar) = &*q;
        let token = stoptoken::StopToken::default();
        let (guard, ready) = wait_until(mutex, condvar, &token, |items| {
            let _ = checked_tx.send(());
            !items.is_empty()
        })
        .unwrap();
        (guard.clone(), ready)
    });
    checked_rx.recv().unwrap();
    queue.0.lock().unwrap().push(3);
    queue.1.notify_all();
    assert_eq!(consumer.join().unwrap(), (vec![3], true));
}

// `stoptoken::thread::Condvar`: the C++ `condition_variable_any` algorithm,
// whose stop callback never takes the user's mutex.

use std::sync::atomic::{AtomicUsize, Ordering};
use stoptoken::thread::Condvar as StopCondvar;

type Queue = Arc<(Mutex<Vec<u32>>, StopCondvar)>;

fn queue() -> Queue {
    Arc::new((Mutex::new(Vec::new()), StopCondvar::new()))
}

/// A failure bound, not a pacing sleep: a deadlock or a lost wake-up makes the
/// test fail after this long instead of hanging the test run.
const BOUND: Duration = Duration::from_secs(30);

/// Receives what a thread under test sends, or fails the test after [`BOUND`].
fn recv_or_fail<T>(rx: &mpsc::Receiver<T>, what: &str) -> T {
    match rx.recv_timeout(BOUND) {
        Ok(value) => value,
        Err(error) => panic!("{what}: nothing after {BOUND:?} ({error}): deadlock or lost wake-up"),
    }
}

#[test]
fn condvar_type_request_stop_while_holding_the_mutex_wakes_the_waiter_without_deadlock() {
    // The review's scenario: "lock the queue, mark it closed, notify,
    // request_stop", all under the queue's lock.
    // With the free `wait_until` the stop callback would lock the queue's mutex
    // on the requesting thread, which holds it: a deadlock.
    struct Shared {
        items: Vec<u32>,
        closed: bool,
    }
    let shared = Arc::new((
        Mutex::new(Shared {
            items: Vec::new(),
            closed: false,
        }),
        StopCondvar::new(),
    ));
    let source = StopSource::new();

    let (checked_tx, checked_rx) = mpsc::channel();
    let (waiter_tx, waiter_rx) = mpsc::channel();
    let (s, token) = (shared.clone(), source.token());
    let _waiter = std::thread::spawn(move || {
        let (mutex, condvar) = &*s;
        let mut calls = 0;
        let (guard, ready) = condvar
            .wait_until(mutex, &token, |shared| {
                calls += 1;
                if calls == 1 {
                    checked_tx.send(()).unwrap();
                }
                !shared.items.is_empty()
            })
            .unwrap();
        waiter_tx.send((ready, guard.closed, calls)).unwrap();
    });

    let (requester_tx, requester_rx) = mpsc::channel();
    let s = shared.clone();
    let _requester = std::thread::spawn(move || {
        // The waiter holds the mutex from its first predicate call until it has
        // checked the stop flag and is about to sleep (or sleeps), so once we
        // hold the mutex here the waiter is committed to waiting: only the stop
        // callback can wake it.
        checked_rx.recv().unwrap();
        let mut locked = s.0.lock().unwrap();
        locked.closed = true;
        s.1.notify_all(); // wakes the waiter, who must then wait for our lock
        let first = source.request_stop();
        drop(locked);
        requester_tx.send(first).unwrap();
    });

    assert!(recv_or_fail(&requester_rx, "request_stop under the mutex"));
    let (ready, closed, calls) = recv_or_fail(&waiter_rx, "the waiter");
    assert!(!ready, "the wait must end because of the stop");
    assert!(
        closed,
        "the waiter returned with the lock, after the requester"
    );
    assert!(
        calls >= 2,
        "the waiter slept and re-checked ({calls} calls)"
    );
}

#[test]
fn condvar_type_returns_true_when_notified_after_the_predicate_became_true() {
    for notify_all in [false, true] {
        let q = queue();
        let source = StopSource::new();
        let (checked_tx, checked_rx) = mpsc::channel();
        let (p, token) = (q.clone(), source.token());
        let consumer = std::thread::spawn(move || {
            let (mutex, condvar) = &*p;
            let (guard, ready) = condvar
                .wait_until(mutex, &token, |items| {
                    let _ = checked_tx.send(());
                    !items.is_empty()
                })
                .unwrap();
            (guard.clone(), ready)
        });
        checked_rx.recv().unwrap();
        q.0.lock().unwrap().push(5);
        if notify_all {
            q.1.notify_all();
        } else {
            q.1.notify_one();
        }
        assert_eq!(consumer.join().unwrap(), (vec![5], true));
        assert!(!source.stop_requested());
    }
}

#[test]
fn condvar_type_keeps_waiting_through_notifications_while_the_predicate_is_false() {
    let q = queue();
    let source = StopSource::new();
    let (checked_tx, checked_rx) = mpsc::channel();
    let (p, token) = (q.clone(), source.token());
    let consumer = std::thread::spawn(move || {
        let (mutex, condvar) = &*p;
        let (guard, ready) = condvar
            .wait_until(mutex, &token, |items| {
                checked_tx.send(()).unwrap();
                !items.is_empty()
            })
            .unwrap();
        (guard.clone(), ready)
    });
    // Each predicate call is made with the lock held; once we hold the lock
    // after it, the consumer is committed to sleeping, so each notification
    // wakes it for one more (false) check, until the last round adds an item.
    for round in 0..5 {
        checked_rx
            .recv()
            .expect("the wait returned on a notification alone");
        let mut items = q.0.lock().unwrap();
        if round == 4 {
            items.push(5);
        }
        drop(items);
        q.1.notify_one();
    }
    assert_eq!(consumer.join().unwrap(), (vec![5], true));
}

#[test]
fn condvar_type_returns_false_when_stopped_during_the_wait() {
    let q = queue();
    let source = StopSource::new();
    let (checked_tx, checked_rx) = mpsc::channel();
    let (p, token) = (q.clone(), source.token());
    let consumer = std::thread::spawn(move || {
        let (mutex, condvar) = &*p;
        let (_guard, ready) = condvar
            .wait_until(mutex, &token, |items| {
                let _ = checked_tx.send(());
                !items.is_empty()
            })
            .unwrap();
        ready
    });
    checked_rx.recv().unwrap();
    source.request_stop();
    assert!(!consumer.join().unwrap());
}

#[test]
fn condvar_type_stop_wakes_every_waiter() {
    let q = queue();
    let source = StopSource::new();
    let (checked_tx, checked_rx) = mpsc::channel();
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let (p, token, tx) = (q.clone(), source.token(), checked_tx.clone());
            std::thread::spawn(move || {
                let (mutex, condvar) = &*p;
                let (_guard, ready) = condvar
                    .wait_until(mutex, &token, |items| {
                        let _ = tx.send(());
                        !items.is_empty()
                    })
                    .unwrap();
                ready
            })
        })
        .collect();
    for _ in 0..3 {
        checked_rx.recv().unwrap();
    }
    // Usually all three are committed to sleeping by now (a spurious wake-up
    // may have sent twice for one); wherever they are, the stop must end all.
    let held = q.0.lock().unwrap();
    source.request_stop();
    drop(held);
    for waiter in waiters {
        assert!(!waiter.join().unwrap());
    }
}

#[test]
fn condvar_type_already_stopped_returns_the_predicate_at_once() {
    let (mutex, condvar) = (Mutex::new(0u32), StopCondvar::new());
    let source = StopSource::new();
    source.request_stop();
    let token = source.token();
    let calls = AtomicUsize::new(0);
    let counted = |n: &mut u32, want: u32| {
        calls.fetch_add(1, Ordering::SeqCst);
        *n == want
    };
    let (guard, ready) = condvar
        .wait_until(&mutex, &token, |n| counted(n, 1))
        .unwrap();
    assert!(!ready);
    drop(guard);
    // As in C++: a stopped token gives `pred()`, which may be true.
    let (guard, ready) = condvar
        .wait_until(&mutex, &token, |n| counted(n, 0))
        .unwrap();
    assert!(ready);
    drop(guard);
    let (_guard, ready) = condvar
        .wait_timeout_until(&mutex, &token, HOUR, |n| counted(n, 1))
        .unwrap();
    assert!(!ready);
    assert_eq!(calls.load(Ordering::SeqCst), 3, "one predicate call each");
}

#[test]
fn condvar_type_returns_at_once_when_the_predicate_is_true_first() {
    let (mutex, condvar) = (Mutex::new(7u32), StopCondvar::new());
    let source = StopSource::new();
    let mut calls = 0;
    let (guard, ready) = condvar
        .wait_until(&mutex, &source.token(), |n| {
            calls += 1;
            *n == 7
        })
        .unwrap();
    assert!(ready);
    assert_eq!(*guard, 7);
    drop(guard);
    assert_eq!(calls, 1);
    // The never-stopping token too, and the timed form.
    let never = stoptoken::StopToken::default();
    let (_guard, ready) = condvar
        .wait_timeout_until(&mutex, &never, HOUR, |n| *n == 7)
        .unwrap();
    assert!(ready);
    assert!(!source.stop_requested());
}

#[test]
fn condvar_type_timed_wait_times_out_then_can_still_succeed() {
    let (mutex, condvar) = (Mutex::new(false), StopCondvar::new());
    let source = StopSource::new();
    let token = source.token();
    let start = Instant::now();
    let (guard, ready) = condvar
        .wait_timeout_until(&mutex, &token, Duration::from_millis(10), |r| *r)
        .unwrap();
    assert!(!ready);
    assert!(start.elapsed() >= Duration::from_millis(10));
    drop(guard);
    *mutex.lock().unwrap() = true;
    let (_guard, ready) = condvar
        .wait_timeout_until(&mutex, &token, HOUR, |r| *r)
        .unwrap();
    assert!(ready);
    // A timeout too long for a deadline means no deadline.
    drop(_guard);
    let (_guard, ready) = condvar
        .wait_timeout_until(&mutex, &token, Duration::MAX, |r| *r)
        .unwrap();
    assert!(ready);
}

#[test]
fn condvar_type_timed_wait_returns_false_when_stopped_during_a_long_wait() {
    let q = queue();
    let source = StopSource::new();
    let (checked_tx, checked_rx) = mpsc::channel();
    let (p, token) = (q.clone(), source.token());
    let consumer = std::thread::spawn(move || {
        let (mutex, condvar) = &*p;
        let (_guard, ready) = condvar
            .wait_timeout_until(mutex, &token, HOUR, |items| {
                let _ = checked_tx.send(());
                !items.is_empty()
            })
            .unwrap();
        ready
    });
    checked_rx.recv().unwrap();
    // Under the lock, as in the deadlock scenario, for the timed form too.
    let held = q.0.lock().unwrap();
    source.request_stop();
    drop(held);
    // A missed stop would keep the consumer waiting for an hour.
    assert!(!consumer.join().unwrap());
}

#[test]
fn condvar_type_stop_requested_by_the_predicate_itself_ends_the_wait() {
    // The callback then runs on the waiting thread (at registration), which
    // holds the user's mutex: it must not need it.
    let (mutex, condvar) = (Mutex::new(0u32), StopCondvar::new());
    let source = StopSource::new();
    let mut calls = 0;
    let (_guard, ready) = condvar
        .wait_until(&mutex, &source.token(), |_| {
            calls += 1;
            source.request_stop();
            false
        })
        .unwrap();
    assert!(!ready);
    assert_eq!(calls, 1);
}

#[test]
fn condvar_type_a_callback_that_takes_the_same_mutex_does_not_deadlock_the_wait() {
    // Another registration on the same token locks the user's mutex. The wait
    // deregisters its own callback with that mutex held, which must not wait
    // for the other callback.
    let q = queue();
    let source = StopSource::new();
    let p = q.clone();
    let _other = StopCallback::new(&source.token(), move || p.0.lock().unwrap().push(9));
    let (checked_tx, checked_rx) = mpsc::channel();
    let (p, token) = (q.clone(), source.token());
    let consumer = std::thread::spawn(move || {
        let (mutex, condvar) = &*p;
        let (guard, ready) = condvar
            .wait_until(mutex, &token, |items| {
                let _ = checked_tx.send(());
                items.contains(&100)
            })
            .unwrap();
        (guard.clone(), ready)
    });
    checked_rx.recv().unwrap();
    let (done_tx, done_rx) = mpsc::channel();
    let _requester = std::thread::spawn(move || done_tx.send(source.request_stop()).unwrap());
    assert!(recv_or_fail(&done_rx, "request_stop"));
    let (items, ready) = consumer.join().unwrap();
    // The other callback pushed before or after the waiter returned.
    assert!(!ready);
    assert!(items.is_empty() || items == [9]);
    assert_eq!(*q.0.lock().unwrap(), vec![9]);
}

#[test]
fn condvar_type_reports_poisoning_but_still_works() {
    let pair = Arc::new((Mutex::new(1u32), StopCondvar::new()));
    let p = pair.clone();
    let _ = std::thread::spawn(move || {
        let _guard = p.0.lock().unwrap();
        panic!("poison");
    })
    .join();
    let source = StopSource::new();
    let error = pair
        .1
        .wait_until(&pair.0, &source.token(), |n| *n == 1)
        .unwrap_err();
    let (guard, ready) = error.into_inner();
    assert!(ready);
    assert_eq!(*guard, 1);
}

#[test]
fn condvar_type_waits_need_no_send_data() {
    // `Rc` is not `Send`: the callback never touches the user's mutex, so the
    // waits accept it (the free functions require `T: Send`).
    let (mutex, condvar) = (Mutex::new(std::rc::Rc::new(3u32)), StopCondvar::new());
    let source = StopSource::new();
    let (guard, ready) = condvar
        .wait_until(&mutex, &source.token(), |n| **n == 3)
        .unwrap();
    assert!(ready);
    drop(guard);
    source.request_stop();
    let (_guard, ready) = condvar
        .wait_timeout_until(&mutex, &source.token(), HOUR, |n| **n == 4)
        .unwrap();
    assert!(!ready);
}

#[test]
fn condvar_type_panicking_predicate_leaves_the_wait_cleanly() {
    let q = queue();
    let source = StopSource::new();
    let (checked_tx, checked_rx) = mpsc::channel();
    let (p, token) = (q.clone(), source.token());
    let waiter = std::thread::spawn(move || {
        let (mutex, condvar) = &*p;
        let mut calls = 0;
        let _ = condvar.wait_until(mutex, &token, |_| {
            calls += 1;
            if calls == 2 {
                panic!("pred boom");
            }
            let _ = checked_tx.send(());
            false
        });
    });
    checked_rx.recv().unwrap();
    drop(q.0.lock().unwrap());
    q.1.notify_all();
    assert!(waiter.join().is_err());
    // The registration is gone: a stop runs no dangling callback, and the
    // condvar and the (poisoned) mutex still work.
    source.request_stop();
    let error =
        q.1.wait_until(&q.0, &source.token(), |_| false)
            .unwrap_err();
    assert!(!error.into_inner().1);
}

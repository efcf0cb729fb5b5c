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

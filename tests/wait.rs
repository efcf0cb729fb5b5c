//! Blocking waits that wake on a stop: `sleep` and the condvar waits.

use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::Duration;

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
    let start = std::time::Instant::now();
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
    // Request the stop from a callback of a second registration, after the
    // consumer has evaluated its predicate once (it sends on the channel).
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

//! Blocking waits that wake on a stop: `sleep` and the condvar waits.

// The deprecated waits (the free functions, `Condvar::wait_until`) keep their
// tests until they are removed; the new names are thin wrappers of the same loop.
#![allow(deprecated)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, LockResult, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use stoptoken::thread::Condvar as StopCondvar;
use stoptoken::thread::{wait_timeout_until, wait_until};
use stoptoken::{sleep, JThread, StopCallback, StopSource, StopToken, Stopped};

const HOUR: Duration = Duration::from_secs(3600);

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

// Condvar waits come in two forms: the free functions `thread::wait_until` /
// `wait_timeout_until` over a `std::sync::Condvar`, and the methods of
// `thread::Condvar` (the C++ `condition_variable_any` algorithm, whose stop
// callback never takes the user's mutex). The scenarios both forms must pass
// are written once, generic over [`StopWait`], and run as one `free_fn_*` and
// one `condvar_type_*` test each; the tests only `thread::Condvar` can pass
// come after them.

/// What a wait returns: the guard and the predicate's last value.
type WaitResult<'a, T> = LockResult<(MutexGuard<'a, T>, bool)>;

/// A condition variable with stop-aware waits: one of the two forms under test.
trait StopWait: Default + Send + Sync + 'static {
    /// Whether a thread may request the stop while it holds the user's mutex.
    /// Not with the free functions: their stop callback takes that mutex on the
    /// requesting thread, a deadlock (documented under `# Deadlocks`).
    const MAY_STOP_UNDER_THE_LOCK: bool;

    fn wait_until<'a, T: Send>(
        &self,
        mutex: &'a Mutex<T>,
        token: &StopToken,
        pred: impl FnMut(&mut T) -> bool,
    ) -> WaitResult<'a, T>;

    fn wait_timeout_until<'a, T: Send>(
        &self,
        mutex: &'a Mutex<T>,
        token: &StopToken,
        timeout: Duration,
        pred: impl FnMut(&mut T) -> bool,
    ) -> WaitResult<'a, T>;

    fn notify_one(&self);

    fn notify_all(&self);
}

/// The free functions, over a `std` condition variable.
impl StopWait for Condvar {
    const MAY_STOP_UNDER_THE_LOCK: bool = false;

    fn wait_until<'a, T: Send>(
        &self,
        mutex: &'a Mutex<T>,
        token: &StopToken,
        pred: impl FnMut(&mut T) -> bool,
    ) -> WaitResult<'a, T> {
        wait_until(mutex, self, token, pred)
    }

    fn wait_timeout_until<'a, T: Send>(
        &self,
        mutex: &'a Mutex<T>,
        token: &StopToken,
        timeout: Duration,
        pred: impl FnMut(&mut T) -> bool,
    ) -> WaitResult<'a, T> {
        wait_timeout_until(mutex, self, token, timeout, pred)
    }

    fn notify_one(&self) {
        Condvar::notify_one(self);
    }

    fn notify_all(&self) {
        Condvar::notify_all(self);
    }
}

/// The methods of `thread::Condvar` (inherent methods win over the trait's).
impl StopWait for StopCondvar {
    const MAY_STOP_UNDER_THE_LOCK: bool = true;

    fn wait_until<'a, T: Send>(
        &self,
        mutex: &'a Mutex<T>,
        token: &StopToken,
        pred: impl FnMut(&mut T) -> bool,
    ) -> WaitResult<'a, T> {
        StopCondvar::wait_until(self, mutex, token, pred)
    }

    fn wait_timeout_until<'a, T: Send>(
        &self,
        mutex: &'a Mutex<T>,
        token: &StopToken,
        timeout: Duration,
        pred: impl FnMut(&mut T) -> bool,
    ) -> WaitResult<'a, T> {
        StopCondvar::wait_timeout_until(self, mutex, token, timeout, pred)
    }

    fn notify_one(&self) {
        StopCondvar::notify_one(self);
    }

    fn notify_all(&self) {
        StopCondvar::notify_all(self);
    }
}

/// `thread::Condvar` through its current names, `wait_while` and
/// `wait_timeout_while` (std's polarity: the negated predicate), and through
/// `wait_deadline_while` for the timed scenarios.
#[derive(Default)]
struct WhileNames(StopCondvar);

impl StopWait for WhileNames {
    const MAY_STOP_UNDER_THE_LOCK: bool = true;

    fn wait_until<'a, T: Send>(
        &self,
        mutex: &'a Mutex<T>,
        token: &StopToken,
        mut pred: impl FnMut(&mut T) -> bool,
    ) -> WaitResult<'a, T> {
        self.0.wait_while(mutex, token, |value| !pred(value))
    }

    fn wait_timeout_until<'a, T: Send>(
        &self,
        mutex: &'a Mutex<T>,
        token: &StopToken,
        timeout: Duration,
        mut pred: impl FnMut(&mut T) -> bool,
    ) -> WaitResult<'a, T> {
        // Alternate between the relative and the absolute form: both must
        // pass every timed scenario.
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        let deadline = Instant::now().checked_add(timeout);
        match deadline {
            Some(deadline) if CALLS.fetch_add(1, Ordering::Relaxed) % 2 == 1 => self
                .0
                .wait_deadline_while(mutex, token, deadline, |value| !pred(value)),
            _ => self
                .0
                .wait_timeout_while(mutex, token, timeout, |value| !pred(value)),
        }
    }

    fn notify_one(&self) {
        self.0.notify_one();
    }

    fn notify_all(&self) {
        self.0.notify_all();
    }
}

type Queue<C> = Arc<(Mutex<Vec<u32>>, C)>;

fn queue<C: StopWait>() -> Queue<C> {
    Arc::new((Mutex::new(Vec::new()), C::default()))
}

fn not_empty(items: &[u32]) -> bool {
    !items.is_empty()
}

/// Spawns a consumer that waits on `q` until `done(items)` (for at most
/// `timeout`, if given) and returns a copy of the items and the wait's result.
/// Each predicate call sends on the returned channel, with the lock held.
fn spawn_consumer<C: StopWait>(
    q: &Queue<C>,
    token: StopToken,
    timeout: Option<Duration>,
    done: fn(&[u32]) -> bool,
) -> (JoinHandle<(Vec<u32>, bool)>, mpsc::Receiver<()>) {
    let (checked_tx, checked_rx) = mpsc::channel();
    let q = q.clone();
    let consumer = std::thread::spawn(move || {
        let (mutex, condvar) = &*q;
        let pred = |items: &mut Vec<u32>| {
            let _ = checked_tx.send(());
            done(items)
        };
        let (guard, ready) = match timeout {
            None => condvar.wait_until(mutex, &token, pred),
            Some(timeout) => condvar.wait_timeout_until(mutex, &token, timeout, pred),
        }
        .unwrap();
        (guard.clone(), ready)
    });
    (consumer, checked_rx)
}

/// Requests the stop, holding `q`'s lock where the form allows it (the harder
/// case for `thread::Condvar`).
fn request_stop_under_the_lock_if_allowed<C: StopWait>(q: &Queue<C>, source: &StopSource) {
    let held = C::MAY_STOP_UNDER_THE_LOCK.then(|| q.0.lock().unwrap());
    source.request_stop();
    drop(held);
}

fn returns_true_when_notified_after_the_predicate_became_true<C: StopWait>() {
    for notify_all in [false, true] {
        let q = queue::<C>();
        let source = StopSource::new();
        let (consumer, checked) = spawn_consumer(&q, source.token(), None, not_empty);
        checked.recv().unwrap();
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

fn keeps_waiting_through_notifications_while_the_predicate_is_false<C: StopWait>() {
    // Once with `notify_all` under the lock, once with `notify_one` after it.
    for under_the_lock in [true, false] {
        let q = queue::<C>();
        let source = StopSource::new();
        let (consumer, checked) = spawn_consumer(&q, source.token(), None, not_empty);
        // Each predicate call is made with the lock held; once we hold the lock
        // after it, the consumer is committed to waiting (or has returned), so
        // each notification wakes it for one more (false) check, until the
        // last round adds an item.
        for round in 0..5 {
            checked
                .recv()
                .expect("the wait returned on a notification alone");
            let mut items = q.0.lock().unwrap();
            if round == 4 {
                items.push(5);
            }
            if under_the_lock {
                q.1.notify_all();
                drop(items);
            } else {
                drop(items);
                q.1.notify_one();
            }
        }
        assert_eq!(consumer.join().unwrap(), (vec![5], true));
    }
}

fn returns_false_when_stopped_during_the_wait<C: StopWait>() {
    let q = queue::<C>();
    let source = StopSource::new();
    let (consumer, checked) = spawn_consumer(&q, source.token(), None, not_empty);
    // Request the stop once the consumer has evaluated its predicate: the stop
    // comes before or during the wait, never after.
    checked.recv().unwrap();
    source.request_stop();
    assert!(!consumer.join().unwrap().1);
}

fn stop_wakes_every_waiter<C: StopWait>() {
    let q = queue::<C>();
    let source = StopSource::new();
    let waiters: Vec<_> = (0..3)
        .map(|_| spawn_consumer(&q, source.token(), None, not_empty))
        .collect();
    for (_, checked) in &waiters {
        checked.recv().unwrap();
    }
    // Usually all three are committed to waiting by now; wherever they are,
    // the stop must end all.
    request_stop_under_the_lock_if_allowed(&q, &source);
    for (waiter, _) in waiters {
        assert!(!waiter.join().unwrap().1);
    }
}

fn already_stopped_returns_the_predicate_at_once<C: StopWait>() {
    let (mutex, condvar) = (Mutex::new(0u32), C::default());
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

fn returns_at_once_when_the_predicate_is_true_first<C: StopWait>() {
    let (mutex, condvar) = (Mutex::new(7u32), C::default());
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
    let never = StopToken::default();
    let (_guard, ready) = condvar
        .wait_timeout_until(&mutex, &never, HOUR, |n| *n == 7)
        .unwrap();
    assert!(ready);
    assert!(!source.stop_requested());
}

fn timed_wait_times_out_then_can_still_succeed<C: StopWait>() {
    let (mutex, condvar) = (Mutex::new(false), C::default());
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

fn timed_wait_returns_false_when_stopped_during_a_long_wait<C: StopWait>() {
    let q = queue::<C>();
    let source = StopSource::new();
    let (consumer, checked) = spawn_consumer(&q, source.token(), Some(HOUR), not_empty);
    checked.recv().unwrap();
    request_stop_under_the_lock_if_allowed(&q, &source);
    // A missed stop would keep the consumer waiting for an hour.
    assert!(!consumer.join().unwrap().1);
}

fn wait_on_a_token_that_can_never_stop_still_waits_for_the_predicate<C: StopWait>() {
    let q = queue::<C>();
    let (consumer, checked) = spawn_consumer(&q, StopToken::default(), None, not_empty);
    checked.recv().unwrap();
    q.0.lock().unwrap().push(3);
    q.1.notify_all();
    assert_eq!(consumer.join().unwrap(), (vec![3], true));
}

fn a_callback_that_takes_the_same_mutex_does_not_deadlock_the_wait<C: StopWait>() {
    // Another registration on the same token locks the user's mutex: the wait
    // must not wait for that callback with the mutex held (the free functions
    // release it before deregistering their callback; `thread::Condvar`
    // deregisters its own with the mutex held, which waits for no other one).
    let q = queue::<C>();
    let source = StopSource::new();
    let p = q.clone();
    let _other = StopCallback::new(&source.token(), move || p.0.lock().unwrap().push(9));
    let (consumer, checked) =
        spawn_consumer(&q, source.token(), None, |items| items.contains(&100));
    checked.recv().unwrap();
    let (done_tx, done_rx) = mpsc::channel();
    let _requester = std::thread::spawn(move || done_tx.send(source.request_stop()).unwrap());
    assert!(recv_or_fail(&done_rx, "request_stop"));
    let (items, ready) = consumer.join().unwrap();
    // The other callback pushed before or after the waiter returned.
    assert!(!ready);
    assert!(items.is_empty() || items == [9]);
    // `request_stop` returned, so the other callback ran too.
    assert_eq!(*q.0.lock().unwrap(), vec![9]);
}

fn reports_poisoning_but_still_works<C: StopWait>() {
    let pair = Arc::new((Mutex::new(1u32), C::default()));
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

/// Runs each scenario as one `#[test]` per form, with the two names given.
macro_rules! test_both_forms {
    ($($scenario:ident: $free_fn:ident, $condvar_type:ident;)+) => {
        $(
            #[test]
            fn $free_fn() {
                $scenario::<Condvar>();
            }

            #[test]
            fn $condvar_type() {
                $scenario::<StopCondvar>();
            }
        )+
    };
}

test_both_forms! {
    returns_true_when_notified_after_the_predicate_became_true:
        free_fn_returns_true_when_notified_after_the_predicate_became_true,
        condvar_type_returns_true_when_notified_after_the_predicate_became_true;
    keeps_waiting_through_notifications_while_the_predicate_is_false:
        free_fn_keeps_waiting_through_notifications_while_the_predicate_is_false,
        condvar_type_keeps_waiting_through_notifications_while_the_predicate_is_false;
    returns_false_when_stopped_during_the_wait:
        free_fn_returns_false_when_stopped_during_the_wait,
        condvar_type_returns_false_when_stopped_during_the_wait;
    stop_wakes_every_waiter:
        free_fn_stop_wakes_every_waiter,
        condvar_type_stop_wakes_every_waiter;
    already_stopped_returns_the_predicate_at_once:
        free_fn_already_stopped_returns_the_predicate_at_once,
        condvar_type_already_stopped_returns_the_predicate_at_once;
    returns_at_once_when_the_predicate_is_true_first:
        free_fn_returns_at_once_when_the_predicate_is_true_first,
        condvar_type_returns_at_once_when_the_predicate_is_true_first;
    timed_wait_times_out_then_can_still_succeed:
        free_fn_timed_wait_times_out_then_can_still_succeed,
        condvar_type_timed_wait_times_out_then_can_still_succeed;
    timed_wait_returns_false_when_stopped_during_a_long_wait:
        free_fn_timed_wait_returns_false_when_stopped_during_a_long_wait,
        condvar_type_timed_wait_returns_false_when_stopped_during_a_long_wait;
    wait_on_a_token_that_can_never_stop_still_waits_for_the_predicate:
        free_fn_wait_on_a_token_that_can_never_stop_still_waits_for_the_predicate,
        condvar_type_wait_on_a_token_that_can_never_stop_still_waits_for_the_predicate;
    a_callback_that_takes_the_same_mutex_does_not_deadlock_the_wait:
        free_fn_a_callback_that_takes_the_same_mutex_does_not_deadlock_the_wait,
        condvar_type_a_callback_that_takes_the_same_mutex_does_not_deadlock_the_wait;
    reports_poisoning_but_still_works:
        free_fn_reports_poisoning_but_still_works,
        condvar_type_reports_poisoning_but_still_works;
}

/// Runs each scenario once more on `thread::Condvar`'s `*_while` names.
macro_rules! test_while_names {
    ($($scenario:ident: $name:ident;)+) => {
        $(
            #[test]
            fn $name() {
                $scenario::<WhileNames>();
            }
        )+
    };
}

test_while_names! {
    returns_true_when_notified_after_the_predicate_became_true:
        while_names_return_true_when_notified_after_the_condition_became_false;
    keeps_waiting_through_notifications_while_the_predicate_is_false:
        while_names_keep_waiting_through_notifications_while_the_condition_holds;
    returns_false_when_stopped_during_the_wait:
        while_names_return_false_when_stopped_during_the_wait;
    stop_wakes_every_waiter:
        while_names_stop_wakes_every_waiter;
    already_stopped_returns_the_predicate_at_once:
        while_names_already_stopped_return_at_once;
    returns_at_once_when_the_predicate_is_true_first:
        while_names_return_at_once_when_the_condition_is_false_first;
    timed_wait_times_out_then_can_still_succeed:
        while_names_timed_wait_times_out_then_can_still_succeed;
    timed_wait_returns_false_when_stopped_during_a_long_wait:
        while_names_timed_wait_returns_false_when_stopped_during_a_long_wait;
    wait_on_a_token_that_can_never_stop_still_waits_for_the_predicate:
        while_names_wait_on_a_token_that_can_never_stop_still_waits_for_the_condition;
    reports_poisoning_but_still_works:
        while_names_report_poisoning_but_still_work;
}

#[test]
fn wait_deadline_while_with_a_past_deadline_checks_the_condition_once() {
    let (mutex, condvar) = (Mutex::new(0u32), StopCondvar::new());
    let token = StopSource::new().token();
    let past = Instant::now();
    let mut calls = 0;
    let (guard, done) = condvar
        .wait_deadline_while(&mutex, &token, past, |n| {
            calls += 1;
            *n == 0
        })
        .unwrap();
    drop(guard);
    assert!(!done);
    assert_eq!(calls, 1);
    let (_guard, done) = condvar
        .wait_deadline_while(&mutex, &token, past, |n| *n != 0)
        .unwrap();
    assert!(done); // the condition was already false
}

#[test]
fn wait_while_is_the_deprecated_wait_until_with_the_predicate_negated() {
    let (mutex, condvar) = (Mutex::new(true), StopCondvar::new());
    let token = StopSource::new().token();
    let (guard, new) = condvar.wait_while(&mutex, &token, |ready| !*ready).unwrap();
    drop(guard);
    let (_guard, old) = condvar.wait_until(&mutex, &token, |ready| *ready).unwrap();
    assert_eq!((new, old), (true, true));
}

// `thread::Condvar` alone: the free functions deadlock on a stop requested
// under the user's mutex (by another thread or by the predicate itself) and
// need `T: Send`; the panicking predicate is checked for this form only.

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
    let q = queue::<StopCondvar>();
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

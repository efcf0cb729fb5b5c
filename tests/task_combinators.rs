//! `until_stopped`, `when_all` and `when_any`, under `futures::executor::block_on`
//! (and a multi-thread tokio runtime where threads matter). No timers: every
//! wait is on a stop or on a yield.

use std::future::{pending, poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures::executor::block_on;
use futures::future::{join, TryFutureExt};
use stoptoken::task::{
    current_token, until_stopped, until_stopped_with, when_all, when_all_iter, when_any,
    when_any_iter, with_stop_token,
};
use stoptoken::{StopCallback, StopSource, StopToken, Stopped};

type BoxedChild = Pin<Box<dyn Future<Output = Result<u8, Error>> + Send>>;
type BoxedWait = Pin<Box<dyn Future<Output = Result<(), ()>>>>;

/// Yields `n` times (waking itself), then completes.
struct Yield(usize);

impl Future for Yield {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

fn yields(n: usize) -> Yield {
    Yield(n)
}

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Error {
    Failed(u8),
    Stopped(u8),
}

/// A child that waits for its current token's stop, counts it, and returns
/// `Err(Stopped(id))`.
async fn wait_for_stop(id: u8, finished: Arc<AtomicUsize>) -> Result<u8, Error> {
    current_token().stopped().await;
    finished.fetch_add(1, Ordering::SeqCst);
    Err(Error::Stopped(id))
}

/// A child that fails after `after` yields, and counts its completion.
async fn fail_after(id: u8, after: usize, finished: Arc<AtomicUsize>) -> Result<u8, Error> {
    yields(after).await;
    finished.fetch_add(1, Ordering::SeqCst);
    Err(Error::Failed(id))
}

/// A child that succeeds after `after` yields, ignoring any stop.
async fn succeed_after(id: u8, after: usize, finished: Arc<AtomicUsize>) -> Result<u8, Error> {
    yields(after).await;
    finished.fetch_add(1, Ordering::SeqCst);
    Ok(id)
}

// ---- until_stopped ----

#[test]
fn until_stopped_completes_when_no_stop_comes() {
    let source = StopSource::new();
    let outcome = block_on(with_stop_token(
        source.token(),
        until_stopped(async {
            yields(3).await;
            7
        }),
    ));
    assert_eq!(outcome, Ok(7));
    assert_eq!(block_on(until_stopped(async { 1 })), Ok(1)); // no current token
}

#[test]
fn until_stopped_returns_stopped_and_drops_the_inner_future_before_returning() {
    let source = StopSource::new();
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = DropFlag(dropped.clone());
    let stopper = source.clone();
    let dropped_seen = dropped.clone();
    let outcome = block_on(with_stop_token(source.token(), async move {
        let outcome = until_stopped(async move {
            let _guard = guard;
            stopper.request_stop(); // wakes the task through the stop future
            pending::<()>().await
        })
        .await;
        (outcome, dropped_seen.load(Ordering::SeqCst))
    }));
    assert_eq!(outcome, (Err(Stopped), true));
}

#[test]
fn until_stopped_never_polls_the_inner_future_when_already_stopped() {
    let source = StopSource::new();
    source.request_stop();
    let polled = Arc::new(AtomicBool::new(false));
    let dropped = Arc::new(AtomicBool::new(false));
    let (flag, guard) = (polled.clone(), DropFlag(dropped.clone()));
    let outcome = block_on(until_stopped_with(source.token(), async move {
        let _guard = guard;
        flag.store(true, Ordering::SeqCst);
    }));
    assert_eq!(outcome, Err(Stopped));
    assert!(!polled.load(Ordering::SeqCst));
    assert!(dropped.load(Ordering::SeqCst));
}

#[test]
fn until_stopped_reads_the_current_token_at_the_first_poll() {
    let source = StopSource::new();
    source.request_stop();
    // Built outside `with_stop_token`, awaited inside: it watches `source`.
    let guarded = until_stopped(pending::<()>());
    assert_eq!(
        block_on(with_stop_token(source.token(), guarded)),
        Err(Stopped)
    );
}

#[test]
fn until_stopped_checks_the_stop_first_so_a_stop_wins_a_tie() {
    /// Requests the stop on its first poll, is ready on its second.
    struct StopThenReady(Option<StopSource>);
    impl Future for StopThenReady {
        type Output = &'static str;
        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<&'static str> {
            match self.0.take() {
                Some(source) => {
                    source.request_stop(); // wakes the task
                    Poll::Pending
                }
                None => Poll::Ready("done"),
            }
        }
    }
    let source = StopSource::new();
    let outcome = block_on(until_stopped_with(
        source.token(),
        StopThenReady(Some(source.clone())),
    ));
    assert_eq!(outcome, Err(Stopped));
}

#[test]
fn until_stopped_with_an_unstoppable_token_just_runs_the_future() {
    let outcome = block_on(until_stopped_with(StopToken::default(), async {
        yields(2).await;
        "ran"
    }));
    assert_eq!(outcome, Ok("ran"));
}

// ---- when_all ----

#[test]
fn when_all_returns_values_in_input_order() {
    let finished = Arc::new(AtomicUsize::new(0));
    // The later children finish first.
    let outcome = block_on(when_all((
        succeed_after(1, 6, finished.clone()),
        succeed_after(2, 3, finished.clone()),
        succeed_after(3, 0, finished.clone()),
    )));
    assert_eq!(outcome, Ok((1, 2, 3)));
    let outcome = block_on(when_all_iter(
        (0..5).map(|id| succeed_after(id, 5 - id as usize, finished.clone())),
    ));
    assert_eq!(outcome, Ok(vec![0, 1, 2, 3, 4]));
}

#[test]
fn when_all_mixes_value_types() {
    let outcome = block_on(when_all((
        async { Ok::<_, Error>("text") },
        async { Ok(2u64) },
        async { Ok(vec![3]) },
    )));
    assert_eq!(outcome, Ok(("text", 2u64, vec![3])));
}

#[test]
fn when_all_returns_the_first_error_in_time_after_stopping_and_awaiting_the_others() {
    let finished = Arc::new(AtomicUsize::new(0));
    // Child 2 fails first (in time), child 0 only after the stop, child 3 later
    // still, ignoring the stop.
    let outcome = block_on(when_all((
        wait_for_stop(0, finished.clone()),
        wait_for_stop(1, finished.clone()),
        fail_after(2, 1, finished.clone()),
        fail_after(3, 4, finished.clone()),
    )));
    assert_eq!(outcome, Err(Error::Failed(2)));
    assert_eq!(finished.load(Ordering::SeqCst), 4); // all awaited
}

#[test]
fn when_all_iter_returns_the_first_error_after_awaiting_every_child() {
    let finished = Arc::new(AtomicUsize::new(0));
    let children: Vec<BoxedChild> = vec![
        Box::pin(wait_for_stop(0, finished.clone())),
        Box::pin(fail_after(1, 2, finished.clone())),
        Box::pin(succeed_after(2, 5, finished.clone())),
        Box::pin(wait_for_stop(3, finished.clone())),
    ];
    assert_eq!(block_on(when_all_iter(children)), Err(Error::Failed(1)));
    assert_eq!(finished.load(Ordering::SeqCst), 4);
}

#[test]
fn when_all_iter_of_nothing_is_ok_empty() {
    let none: Vec<std::future::Ready<Result<u8, ()>>> = Vec::new();
    assert_eq!(block_on(when_all_iter(none)), Ok(vec![]));
}

#[test]
fn when_all_children_see_a_child_token_of_the_current_token() {
    let parent = StopSource::new();
    let parent_token = parent.token();
    let observe = || {
        let parent_token = parent_token.clone();
        async move {
            yields(1).await;
            let token = current_token();
            Ok::<_, ()>((token != parent_token && token.stop_possible(), token))
        }
    };
    let ((a_is_child, a), (b_is_child, b)) = block_on(with_stop_token(
        parent.token(),
        when_all((observe(), observe())),
    ))
    .unwrap();
    assert!(a_is_child && b_is_child);
    assert_eq!(a, b); // one stop group
    assert!(a.stop_requested()); // stopped when the combinator ended
    assert!(!parent.stop_requested());
}

#[test]
fn when_all_a_stop_of_the_parent_reaches_every_child() {
    let parent = StopSource::new();
    let finished = Arc::new(AtomicUsize::new(0));
    let stopper = parent.clone();
    let (outcome, ()) = block_on(with_stop_token(parent.token(), async {
        join(
            when_all((
                wait_for_stop(0, finished.clone()),
                wait_for_stop(1, finished.clone()),
                wait_for_stop(2, finished.clone()),
            )),
            async move {
                yields(2).await; // the children are waiting by now
                stopper.request_stop();
            },
        )
        .await
    }));
    assert_eq!(outcome, Err(Error::Stopped(0))); // all stopped; child 0 is polled first
    assert_eq!(finished.load(Ordering::SeqCst), 3);
}

#[test]
fn when_all_a_child_failure_never_stops_the_parent() {
    let parent = StopSource::new();
    let finished = Arc::new(AtomicUsize::new(0));
    let outcome = block_on(with_stop_token(parent.token(), async {
        let outcome = when_all((
            fail_after(0, 0, finished.clone()),
            wait_for_stop(1, finished.clone()),
        ))
        .await;
        (outcome, current_token().stop_requested())
    }));
    assert_eq!(outcome, (Err(Error::Failed(0)), false));
    assert!(!parent.stop_requested());
}

#[test]
fn when_all_takes_eight_children() {
    let ok = |n: u8| async move { Ok::<_, ()>(n) };
    let all = when_all((ok(1), ok(2), ok(3), ok(4), ok(5), ok(6), ok(7), ok(8)));
    assert_eq!(block_on(all), Ok((1, 2, 3, 4, 5, 6, 7, 8)));
}

#[test]
fn when_all_works_on_a_multi_thread_runtime_and_is_send() {
    fn assert_send<T: Send>(value: T) -> T {
        value
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let parent = StopSource::new();
    let finished = Arc::new(AtomicUsize::new(0));
    let child = |id: u8, finished: Arc<AtomicUsize>| async move {
        let token = current_token();
        for _ in 0..20 {
            tokio::task::yield_now().await;
            assert_eq!(current_token(), token);
        }
        fail_after(id, 0, finished).await
    };
    let all = assert_send(when_all((
        child(0, finished.clone()),
        wait_for_stop(1, finished.clone()),
    )));
    let iter = assert_send(when_all_iter(vec![wait_for_stop(2, finished.clone())]));
    let any = assert_send(when_any((
        wait_for_stop(3, finished.clone()),
        succeed_after(4, 2, finished.clone()),
    )));
    let outcome = runtime.block_on(async {
        let all = tokio::spawn(with_stop_token(parent.token(), all));
        let any = tokio::spawn(with_stop_token(parent.token(), any));
        (all.await.unwrap(), any.await.unwrap())
    });
    assert_eq!(outcome, (Err(Error::Failed(0)), Ok(4)));
    drop(iter);
}

// ---- when_any ----

#[test]
fn when_any_returns_the_first_success_after_stopping_and_awaiting_the_others() {
    let finished = Arc::new(AtomicUsize::new(0));
    let outcome = block_on(when_any((
        wait_for_stop(0, finished.clone()),
        fail_after(1, 0, finished.clone()),
        succeed_after(2, 3, finished.clone()),
        succeed_after(3, 1, finished.clone()), // the winner
        succeed_after(4, 6, finished.clone()), // ignores the stop; its value is dropped
    )));
    assert_eq!(outcome, Ok(3));
    assert_eq!(finished.load(Ordering::SeqCst), 5);
}

#[test]
fn when_any_returns_the_last_error_when_all_fail() {
    let finished = Arc::new(AtomicUsize::new(0));
    let outcome = block_on(when_any((
        fail_after(0, 4, finished.clone()), // the last in time
        fail_after(1, 0, finished.clone()),
        fail_after(2, 2, finished.clone()),
    )));
    assert_eq!(outcome, Err(Error::Failed(0)));
    let outcome = block_on(when_any_iter(
        (0..3).map(|id| fail_after(id, 3 - id as usize, finished.clone())),
    ));
    assert_eq!(outcome, Err(Error::Failed(0)));
}

#[test]
fn when_any_iter_stops_and_awaits_the_others() {
    let finished = Arc::new(AtomicUsize::new(0));
    let children = (0..6).map(|id| {
        let finished = finished.clone();
        async move {
            if id == 4 {
                yields(2).await;
                finished.fetch_add(1, Ordering::SeqCst);
                Ok(id)
            } else {
                wait_for_stop(id, finished).await
            }
        }
    });
    assert_eq!(block_on(when_any_iter(children)), Ok(4));
    assert_eq!(finished.load(Ordering::SeqCst), 6);
}

#[test]
fn when_any_a_stop_of_the_parent_reaches_every_child_and_never_goes_up() {
    let parent = StopSource::new();
    let finished = Arc::new(AtomicUsize::new(0));
    let stopper = parent.clone();
    let (outcome, ()) = block_on(with_stop_token(parent.token(), async {
        join(
            when_any((
                wait_for_stop(0, finished.clone()),
                wait_for_stop(1, finished.clone()),
            )),
            async move {
                yields(1).await;
                stopper.request_stop();
            },
        )
        .await
    }));
    assert_eq!(outcome, Err(Error::Stopped(1))); // both stopped; the last error
    assert_eq!(finished.load(Ordering::SeqCst), 2);

    let lone = StopSource::new();
    let won = block_on(with_stop_token(
        lone.token(),
        when_any((async { Ok::<_, ()>(1) }, async {
            current_token().stopped().await;
            Err(())
        })),
    ));
    assert_eq!(won, Ok(1));
    assert!(!lone.stop_requested()); // the winner's stop stays below
}

#[test]
#[should_panic(expected = "when_any_iter")]
fn when_any_iter_of_nothing_panics() {
    let none: Vec<std::future::Ready<Result<u8, ()>>> = Vec::new();
    drop(when_any_iter(none)); // panics here, before any poll
}

#[test]
fn combinators_nest_and_a_failure_stops_only_its_own_subtree() {
    let finished = Arc::new(AtomicUsize::new(0));
    let left = async {
        when_all((
            fail_after(10, 1, finished.clone()),
            wait_for_stop(11, finished.clone()),
        ))
        .await
        .map(|_| (0, false))
    };
    let right = async {
        yields(5).await; // the left subtree has failed by now
        let stopped = current_token().stop_requested();
        finished.fetch_add(1, Ordering::SeqCst);
        Ok((20, stopped))
    };
    // when_any does not stop on a failure: the right child runs on unstopped.
    let outcome = block_on(when_any((left, right)));
    assert_eq!(outcome, Ok((20, false)));
    assert_eq!(finished.load(Ordering::SeqCst), 3);
}

// ---- structured lifetimes: the group is stopped when the combinator ends ----

/// A child that links a source below its current token (the shape of a
/// `task::spawn` from a child) and returns it.
async fn link_below() -> Result<StopSource, ()> {
    yields(1).await;
    Ok(StopSource::child_of(&current_token()))
}

#[test]
fn a_source_linked_below_a_child_is_stopped_when_the_combinator_completes() {
    fn run<F: Future>(parent: &StopSource, future: F) -> F::Output {
        block_on(with_stop_token(parent.token(), future))
    }
    let parent = StopSource::new();

    let (a, b) = run(&parent, when_all((link_below(), link_below()))).unwrap();
    assert!(a.stop_requested() && b.stop_requested());
    let all = run(&parent, when_all_iter([link_below(), link_below()])).unwrap();
    assert!(all.iter().all(StopSource::stop_requested));
    let winner = run(&parent, when_any((link_below(), link_below()))).unwrap();
    assert!(winner.stop_requested());
    let winner = run(&parent, when_any_iter([link_below(), link_below()])).unwrap();
    assert!(winner.stop_requested());

    assert!(!parent.stop_requested()); // the group's stop never goes up
}

#[test]
fn while_the_combinator_runs_a_parent_stop_reaches_what_is_linked_below_a_child() {
    let parent = StopSource::new();
    let stopper = parent.clone();
    let outcome = block_on(with_stop_token(
        parent.token(),
        when_all((
            async {
                let below = StopSource::child_of(&current_token());
                below.token().stopped().await; // only the parent's stop can come
                Ok::<_, ()>(below.stop_requested())
            },
            async move {
                yields(2).await; // the other child is waiting by now
                stopper.request_stop();
                Ok(())
            },
        )),
    ));
    assert_eq!(outcome, Ok((true, ())));
}

/// A child that hands a source linked below its token out through `linked`,
/// registers a stop callback on its own token, and never finishes.
async fn link_below_and_wait(
    linked: std::sync::mpsc::Sender<StopSource>,
    callback_ran: Arc<AtomicBool>,
) -> Result<(), ()> {
    linked.send(StopSource::child_of(&current_token())).unwrap();
    let _callback = StopCallback::new(&current_token(), move || {
        callback_ran.store(true, Ordering::SeqCst);
    });
    pending().await
}

#[test]
fn an_unfinished_combinator_drops_its_children_then_stops_what_is_linked_below() {
    let parent = StopSource::new();
    let combinators: [Box<dyn Fn(BoxedWait, BoxedWait) -> BoxedWait>; 4] = [
        Box::new(|a, b| Box::pin(when_all((a, b)).map_ok(|_| ()))),
        Box::new(|a, b| Box::pin(when_all_iter([a, b]).map_ok(|_| ()))),
        Box::new(|a, b| Box::pin(when_any((a, b)))),
        Box::new(|a, b| Box::pin(when_any_iter([a, b]))),
    ];
    for combinator in combinators {
        let (linked_tx, linked) = std::sync::mpsc::channel();
        let callback_ran = Arc::new(AtomicBool::new(false));
        let child = |ran: &Arc<AtomicBool>| -> BoxedWait {
            Box::pin(link_below_and_wait(linked_tx.clone(), ran.clone()))
        };
        let mut running = Box::pin(with_stop_token(
            parent.token(),
            combinator(child(&callback_ran), child(&callback_ran)),
        ));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(running.as_mut().poll(&mut cx).is_pending());
        let below: Vec<StopSource> = linked.try_iter().collect();
        assert_eq!(below.len(), 2);
        assert!(!below.iter().any(StopSource::stop_requested));

        drop(running);
        assert!(below.iter().all(StopSource::stop_requested));
        // The children were dropped (their callbacks deregistered) first.
        assert!(!callback_ran.load(Ordering::SeqCst));
    }
    assert!(!parent.stop_requested());
}

#[test]
fn a_combinator_dropped_while_unwinding_survives_a_panicking_stop_callback_below() {
    fn panic_on_stop() {
        panic!("the stop callback");
    }
    let (linked_tx, linked) = std::sync::mpsc::channel();
    let mut running = Box::pin(when_all((
        async move {
            // Registered on the group's token, kept alive outside the child.
            let callback = StopCallback::new(&current_token(), panic_on_stop as fn());
            linked_tx.send(callback).unwrap();
            pending::<Result<(), ()>>().await
        },
        pending::<Result<(), ()>>(),
    )));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(running.as_mut().poll(&mut cx).is_pending());
    let callback = linked.try_recv().unwrap();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _running = running; // dropped while unwinding: a second panic would abort
        panic!("the first panic");
    }));
    let payload = outcome.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"the first panic"));
    drop(callback);
}

// ---- per-child wakers: a wake polls the child it wakes, and no other ----

/// A one-shot signal for one [`AwaitSignal`] child: `fire` completes the
/// child, `nudge` only wakes it.
#[derive(Default)]
struct Signal(Mutex<SignalState>);

#[derive(Default)]
struct SignalState {
    fired: bool,
    waker: Option<Waker>,
}

impl Signal {
    fn fire(&self) {
        let waker = {
            let mut state = self.0.lock().unwrap();
            state.fired = true;
            state.waker.take()
        };
        waker.expect("the child waits for its signal").wake();
    }

    fn nudge(&self) {
        let waker = self.0.lock().unwrap().waker.clone();
        waker.expect("the child waits for its signal").wake();
    }
}

/// A child that counts its polls and returns `outcome` once its signal fired.
struct AwaitSignal<T> {
    signal: Arc<Signal>,
    polls: Arc<AtomicUsize>,
    outcome: Option<T>,
}

impl<T> AwaitSignal<T> {
    fn new(signal: &Arc<Signal>, polls: &Arc<AtomicUsize>, outcome: T) -> Self {
        AwaitSignal {
            signal: signal.clone(),
            polls: polls.clone(),
            outcome: Some(outcome),
        }
    }
}

impl<T: Unpin> Future for AwaitSignal<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = &mut *self;
        this.polls.fetch_add(1, Ordering::SeqCst);
        let mut state = this.signal.0.lock().unwrap();
        if state.fired {
            return Poll::Ready(this.outcome.take().expect("polled after it completed"));
        }
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// A waker that counts its wakes.
#[derive(Default)]
struct CountWakes(AtomicUsize);

impl Wake for CountWakes {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Enough children that a combinator polling every unfinished child at each
/// wake (8 million polls for 4000) stands out from one polling the woken one.
const MANY: usize = if cfg!(miri) { 100 } else { 4000 };

/// Runs `combinator` over `n` [`AwaitSignal`] children (child `i` returning
/// `outcome(i)`), polled by hand: a first poll, then the signals fired one at a
/// time, the last child's first, each followed by one poll of the combinator
/// (which must have been woken since its last poll). Returns the combinator's
/// output and the children's polls in all.
fn fire_one_per_wake<T: Unpin, F: Future>(
    n: usize,
    outcome: impl Fn(usize) -> T,
    combinator: impl FnOnce(Vec<AwaitSignal<T>>) -> F,
) -> (F::Output, usize) {
    let polls = Arc::new(AtomicUsize::new(0));
    let signals: Vec<Arc<Signal>> = (0..n).map(|_| Arc::default()).collect();
    let children = (signals.iter().enumerate())
        .map(|(index, signal)| AwaitSignal::new(signal, &polls, outcome(index)))
        .collect();
    let mut running = pin!(combinator(children));
    let wakes = Arc::new(CountWakes::default());
    let waker = Waker::from(wakes.clone());
    let mut cx = Context::from_waker(&waker);
    // The wakes counted when the combinator was last polled.
    let mut seen = wakes.0.load(Ordering::SeqCst);
    assert!(running.as_mut().poll(&mut cx).is_pending());
    assert_eq!(polls.load(Ordering::SeqCst), n); // every child polled once
    for (fired, signal) in signals.iter().rev().enumerate() {
        signal.fire();
        let now = wakes.0.load(Ordering::SeqCst);
        assert!(now > seen, "not woken since the last poll");
        seen = now;
        if let Poll::Ready(output) = running.as_mut().poll(&mut cx) {
            assert_eq!(fired, n - 1, "ready before every child finished");
            return (output, polls.load(Ordering::SeqCst));
        }
    }
    panic!("still pending after every child finished");
}

#[test]
fn when_all_iter_polls_only_the_woken_children() {
    let (outcome, polls) = fire_one_per_wake(MANY, Ok::<_, ()>, when_all_iter);
    assert_eq!(outcome, Ok((0..MANY).collect::<Vec<_>>()));
    // 2 polls per child here (the first, and one on its wake); about 2000 if
    // every wake polled every unfinished child.
    assert!(polls <= 3 * MANY, "{polls} polls for {MANY} children");
}

#[test]
fn when_any_iter_polls_only_the_woken_children_and_each_once_more_after_the_stop() {
    // The child fired first (the last) wins and stops the others, which are
    // polled once more to see the stop, then again when their signal fires.
    let (outcome, polls) = fire_one_per_wake(
        MANY,
        |index| {
            if index == MANY - 1 {
                Ok(index)
            } else {
                Err(index)
            }
        },
        when_any_iter,
    );
    assert_eq!(outcome, Ok(MANY - 1));
    assert!(polls <= 3 * MANY, "{polls} polls for {MANY} children");
}

fn poll_counts(polls: &[Arc<AtomicUsize>]) -> Vec<usize> {
    polls
        .iter()
        .map(|polls| polls.load(Ordering::SeqCst))
        .collect()
}

#[test]
fn a_tuple_child_woken_alone_is_polled_alone() {
    let signals: [Arc<Signal>; 8] = Default::default();
    let polls: [Arc<AtomicUsize>; 8] = Default::default();
    let child = |index: usize| AwaitSignal::new(&signals[index], &polls[index], Ok::<_, ()>(index));
    let mut all = pin!(when_all((
        child(0),
        child(1),
        child(2),
        child(3),
        child(4),
        child(5),
        child(6),
        child(7),
    )));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(all.as_mut().poll(&mut cx).is_pending());
    assert_eq!(poll_counts(&polls), [1; 8]);

    signals[5].nudge(); // woken, not finished
    assert!(all.as_mut().poll(&mut cx).is_pending());
    assert_eq!(poll_counts(&polls), [1, 1, 1, 1, 1, 2, 1, 1]);
    signals[7].fire();
    assert!(all.as_mut().poll(&mut cx).is_pending());
    assert_eq!(poll_counts(&polls), [1, 1, 1, 1, 1, 2, 1, 2]);
    signals[0].nudge();
    signals[0].nudge(); // two wakes before a poll: one poll
    assert!(all.as_mut().poll(&mut cx).is_pending());
    assert_eq!(poll_counts(&polls), [2, 1, 1, 1, 1, 2, 1, 2]);
    for signal in &signals[..7] {
        signal.fire();
    }
    assert_eq!(
        all.as_mut().poll(&mut cx),
        Poll::Ready(Ok((0, 1, 2, 3, 4, 5, 6, 7)))
    );
    assert_eq!(poll_counts(&polls), [3, 2, 2, 2, 2, 3, 2, 2]);

    let signals: [Arc<Signal>; 3] = Default::default();
    let polls: [Arc<AtomicUsize>; 3] = Default::default();
    let child = |index: usize, outcome: Result<usize, usize>| {
        AwaitSignal::new(&signals[index], &polls[index], outcome)
    };
    let mut any = pin!(when_any((
        child(0, Ok(0)),
        child(1, Err(1)),
        child(2, Err(2))
    )));
    assert!(any.as_mut().poll(&mut cx).is_pending());
    signals[1].nudge();
    assert!(any.as_mut().poll(&mut cx).is_pending());
    assert_eq!(poll_counts(&polls), [1, 2, 1]);
    signals[2].fire(); // an error: no stop
    assert!(any.as_mut().poll(&mut cx).is_pending());
    assert_eq!(poll_counts(&polls), [1, 2, 2]);
    signals[0].fire(); // the winner: the group is stopped
    assert!(any.as_mut().poll(&mut cx).is_pending());
    assert_eq!(poll_counts(&polls), [2, 2, 2]);
    assert!(any.as_mut().poll(&mut cx).is_pending()); // polled once to see the stop
    assert_eq!(poll_counts(&polls), [2, 3, 2]);
    signals[1].fire();
    assert_eq!(any.as_mut().poll(&mut cx), Poll::Ready(Ok(0)));
    assert_eq!(poll_counts(&polls), [2, 4, 2]);
}

/// A child that sends out a clone of its waker at each poll and never finishes.
fn send_waker(wakers: mpsc::Sender<Waker>) -> impl Future<Output = Result<(), ()>> {
    poll_fn(move |cx| {
        wakers.send(cx.waker().clone()).unwrap();
        Poll::Pending
    })
}

#[test]
fn a_child_waker_woken_after_the_combinator_is_dropped_wakes_nobody() {
    let combinators: [fn(mpsc::Sender<Waker>) -> BoxedWait; 4] = [
        |wakers| {
            Box::pin(when_all((send_waker(wakers), pending::<Result<(), ()>>())).map_ok(|_| ()))
        },
        |wakers| Box::pin(when_all_iter([send_waker(wakers)]).map_ok(|_| ())),
        |wakers| Box::pin(when_any((send_waker(wakers), pending()))),
        |wakers| Box::pin(when_any_iter([send_waker(wakers)])),
    ];
    for combinator in combinators {
        let (wakers, waker) = mpsc::channel();
        let wakes = Arc::new(CountWakes::default());
        let parent = Waker::from(wakes.clone());
        let mut running = combinator(wakers);
        assert!(running
            .as_mut()
            .poll(&mut Context::from_waker(&parent))
            .is_pending());
        let child = waker.try_recv().unwrap();
        drop(running);
        drop(parent);
        // The child's waker keeps no clone of the parent's waker alive.
        assert_eq!(Arc::strong_count(&wakes), 1);
        std::thread::spawn(move || child.wake()).join().unwrap();
        assert_eq!(wakes.0.load(Ordering::SeqCst), 0);
    }
}

#[test]
fn children_woken_from_other_threads_are_all_polled_to_completion() {
    const CHILDREN: usize = if cfg!(miri) { 8 } else { 64 };
    let (done, finished) = mpsc::channel();
    let driver = std::thread::spawn(move || {
        let polls = Arc::new(AtomicUsize::new(0));
        let signals: Vec<Arc<Signal>> = (0..CHILDREN).map(|_| Arc::default()).collect();
        let children = (signals.iter().enumerate())
            .map(|(index, signal)| AwaitSignal::new(signal, &polls, Ok::<_, ()>(index)));
        let all = when_all_iter(children.collect::<Vec<_>>());
        // Two threads fire the signals, interleaved, while `block_on` polls.
        let firers: Vec<_> = (0..2)
            .map(|parity| {
                let signals = signals.clone();
                std::thread::spawn(move || {
                    for signal in signals.iter().skip(parity).step_by(2) {
                        // Wait until the child has registered its waker.
                        while signal.0.lock().unwrap().waker.is_none() {
                            std::thread::yield_now();
                        }
                        signal.fire();
                    }
                })
            })
            .collect();
        let outcome = block_on(all);
        for firer in firers {
            firer.join().unwrap();
        }
        done.send((outcome, polls.load(Ordering::SeqCst))).unwrap();
    });
    let (outcome, polls) = finished
        .recv_timeout(Duration::from_secs(60))
        .expect("when_all_iter lost a wake from another thread");
    driver.join().unwrap();
    assert_eq!(outcome, Ok((0..CHILDREN).collect::<Vec<_>>()));
    assert!(
        polls <= 3 * CHILDREN,
        "{polls} polls for {CHILDREN} children"
    );
}

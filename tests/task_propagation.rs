//! The current token: `with_stop_token` / `current_token` across awaits,
//! nesting, panics, threads and executors.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::{self, ThreadId};

use futures::executor::block_on;
use stoptoken::task::{current_token, with_stop_token};
use stoptoken::{StopSource, StopToken};

async fn level3() -> StopToken {
    current_token()
}

async fn level2() -> StopToken {
    std::future::ready(()).await;
    level3().await
}

async fn level1() -> (StopToken, StopToken) {
    let before = current_token();
    let deep = level2().await;
    (before, deep)
}

/// Yields once: the first poll returns `Pending` after waking its task.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

fn yield_once() -> YieldOnce {
    YieldOnce(false)
}

#[test]
fn current_token_is_disengaged_outside_any_with_stop_token() {
    let token = current_token();
    assert_eq!(token, StopToken::default());
    assert!(!token.stop_possible());
    assert!(!block_on(async { current_token() }).stop_possible());
}

#[test]
fn every_await_depth_sees_the_token() {
    let source = StopSource::new();
    let (before, deep) = block_on(with_stop_token(source.token(), level1()));
    assert_eq!(before, source.token());
    assert_eq!(deep, source.token());
    assert_eq!(current_token(), StopToken::default()); // restored after the poll
}

#[test]
fn token_is_seen_after_the_task_was_suspended() {
    let source = StopSource::new();
    let seen = block_on(with_stop_token(source.token(), async {
        let mut seen = Vec::new();
        for _ in 0..3 {
            yield_once().await;
            seen.push(current_token());
        }
        seen
    }));
    assert!(seen.iter().all(|token| *token == source.token()));
}

#[test]
fn a_hand_written_future_sees_the_token_in_poll() {
    struct Peek;
    impl Future for Peek {
        type Output = bool;
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<bool> {
            Poll::Ready(current_token().stop_requested())
        }
    }
    let source = StopSource::new();
    source.request_stop();
    assert!(block_on(with_stop_token(source.token(), Peek)));
}

/// Polls `future` once, from inside the calling task's poll.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

/// Records the current token when dropped.
struct RecordOnDrop(Arc<Mutex<Option<StopToken>>>);

impl Drop for RecordOnDrop {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(current_token());
    }
}

#[test]
fn the_future_is_dropped_with_its_token_current_when_the_wrapper_is_dropped_first() {
    let outer = StopSource::new();
    let inner = StopSource::new();
    let seen = Arc::new(Mutex::new(None));
    let guard = RecordOnDrop(seen.clone());
    let mut future = Box::pin(with_stop_token(inner.token(), async move {
        let _guard = guard;
        std::future::pending::<()>().await
    }));
    // Dropped from inside a poll under another token: the inner one is seen.
    let dropped_under = block_on(with_stop_token(outer.token(), async move {
        assert!(poll_once(&mut future).await.is_pending());
        drop(future);
        current_token()
    }));
    assert_eq!(*seen.lock().unwrap(), Some(inner.token()));
    assert_eq!(dropped_under, outer.token()); // restored after the drop
    assert_eq!(current_token(), StopToken::default());
}

#[test]
fn the_future_is_dropped_with_its_token_current_when_the_wrapper_is_dropped_unpolled() {
    let outer = StopSource::new();
    let inner = StopSource::new();
    let seen = Arc::new(Mutex::new(None));
    let guard = RecordOnDrop(seen.clone());
    let future = with_stop_token(inner.token(), async move {
        let _guard = guard;
        std::future::pending::<()>().await
    });
    // Never polled; dropped from inside a poll under another token.
    let dropped_under = block_on(with_stop_token(outer.token(), async move {
        drop(future);
        current_token()
    }));
    assert_eq!(*seen.lock().unwrap(), Some(inner.token()));
    assert_eq!(dropped_under, outer.token()); // restored after the drop

    // And outside any wrapper.
    let guard = RecordOnDrop(seen.clone());
    drop(with_stop_token(inner.token(), async move {
        let _guard = guard;
    }));
    assert_eq!(*seen.lock().unwrap(), Some(inner.token()));
    assert_eq!(current_token(), StopToken::default());
}

#[test]
fn the_future_is_dropped_with_its_token_current_when_it_completes() {
    /// Ready at once; records the current token when dropped.
    struct ReadyThenDropped {
        _record: RecordOnDrop,
    }
    impl Future for ReadyThenDropped {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            Poll::Ready(())
        }
    }
    let source = StopSource::new();
    let seen = Arc::new(Mutex::new(None));
    let mut future = Box::pin(with_stop_token(
        source.token(),
        ReadyThenDropped {
            _record: RecordOnDrop(seen.clone()),
        },
    ));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_ready());
    // Dropped in the poll that completed it, before the wrapper is dropped.
    assert_eq!(*seen.lock().unwrap(), Some(source.token()));
    assert_eq!(current_token(), StopToken::default());
    drop(future);
    assert_eq!(*seen.lock().unwrap(), Some(source.token()));
}

#[test]
fn nested_with_stop_token_shadows_and_restores() {
    let outer = StopSource::new();
    let inner = StopSource::new();
    let (outer_token, inner_token) = (outer.token(), inner.token());
    let log = block_on(with_stop_token(outer.token(), async move {
        let mut log = vec![current_token() == outer_token];
        let inner_seen = with_stop_token(inner_token.clone(), async {
            yield_once().await;
            current_token()
        })
        .await;
        log.push(inner_seen == inner_token);
        log.push(current_token() == outer_token);
        log
    }));
    assert_eq!(log, [true, true, true]);
}

#[test]
fn the_token_is_restored_when_a_poll_panics() {
    let outer = StopSource::new();
    let inner = StopSource::new();
    let mut future = Box::pin(with_stop_token(outer.token(), async {
        let panicking = with_stop_token(inner.token(), async { panic!("inside") });
        let mut panicking = Box::pin(panicking);
        let mut cx = Context::from_waker(Waker::noop());
        let outcome = catch_unwind(AssertUnwindSafe(|| panicking.as_mut().poll(&mut cx)));
        assert!(outcome.is_err());
        current_token()
    }));
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(seen) => assert_eq!(seen, outer.token()),
        Poll::Pending => panic!("the future does not wait"),
    }
    assert_eq!(current_token(), StopToken::default());

    // And a panic escaping the outermost poll leaves the thread clean.
    let outcome =
        catch_unwind(|| block_on(with_stop_token(outer.token(), async { panic!("out") })));
    assert!(outcome.is_err());
    assert_eq!(current_token(), StopToken::default());
}

/// A future handed from thread to thread between its polls.
type Moving = Pin<Box<dyn Future<Output = Vec<(ThreadId, StopToken)>> + Send>>;

/// Polls each future it receives once; passes it on to `next` while it is
/// pending, sends its output to `done` when it is ready.
fn poll_in_turn(
    inbox: Receiver<Moving>,
    next: Sender<Moving>,
    done: Sender<Vec<(ThreadId, StopToken)>>,
) {
    let mut cx = Context::from_waker(Waker::noop());
    for mut future in inbox {
        let polled = future.as_mut().poll(&mut cx);
        assert_eq!(current_token(), StopToken::default()); // nothing left behind
        match polled {
            Poll::Pending => {
                if next.send(future).is_err() {
                    return;
                }
            }
            Poll::Ready(seen) => {
                done.send(seen).unwrap();
                return; // dropping `next` ends the other thread's loop
            }
        }
    }
}

#[test]
fn the_token_follows_a_future_moved_between_threads_at_every_poll() {
    const POLLS: usize = 6;
    let source = StopSource::new();
    let future: Moving = Box::pin(with_stop_token(source.token(), async {
        let mut seen = Vec::new();
        for poll in 0..POLLS {
            seen.push((thread::current().id(), current_token()));
            if poll + 1 < POLLS {
                yield_once().await; // the next poll is on the other thread
            }
        }
        seen
    }));
    let (to_first, first_inbox) = mpsc::channel();
    let (to_second, second_inbox) = mpsc::channel();
    let (done, outcome) = mpsc::channel();
    let first = {
        let (next, done) = (to_second, done.clone());
        thread::spawn(move || poll_in_turn(first_inbox, next, done))
    };
    let second = {
        let next = to_first.clone();
        thread::spawn(move || poll_in_turn(second_inbox, next, done))
    };
    let pollers = [first.thread().id(), second.thread().id()];
    to_first.send(future).unwrap();
    drop(to_first);

    let seen = outcome.recv().unwrap();
    first.join().unwrap();
    second.join().unwrap();
    assert_eq!(seen.len(), POLLS);
    for (poll, (thread, token)) in seen.iter().enumerate() {
        assert_eq!(
            *thread,
            pollers[poll % 2],
            "poll {poll} ran on the wrong thread"
        );
        assert_eq!(*token, source.token(), "poll {poll} lost the token");
    }
    assert_ne!(pollers[0], pollers[1]);
    assert_eq!(current_token(), StopToken::default());
}

/// Many tasks on the workers of a multi-thread runtime at once, each checking
/// its token after every yield and spawn. Tokio decides which worker polls a
/// task, and does not promise to move one, so this test does not count
/// migrations: the move itself is checked, deterministically, by
/// `the_token_follows_a_future_moved_between_threads_at_every_poll`.
#[test]
fn the_token_is_seen_by_whichever_tokio_worker_polls_the_task() {
    const TASKS: usize = 16;
    const YIELDS: usize = 50;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    let sources: Vec<StopSource> = (0..TASKS).map(|_| StopSource::new()).collect();
    let start = Arc::new(tokio::sync::Barrier::new(TASKS));
    let handles: Vec<_> = sources
        .iter()
        .map(|source| {
            let expected = source.token();
            let start = start.clone();
            runtime.spawn(with_stop_token(source.token(), async move {
                start.wait().await; // all tasks alive at once, polled concurrently
                for _ in 0..YIELDS {
                    tokio::task::yield_now().await;
                    assert_eq!(current_token(), expected);
                    // Work spawned from here goes to any worker; the token is
                    // passed explicitly, and comes back unchanged.
                    let inner = expected.clone();
                    let echoed = tokio::spawn(with_stop_token(inner, async { current_token() }))
                        .await
                        .unwrap();
                    assert_eq!(echoed, expected);
                    assert_eq!(current_token(), expected);
                }
            }))
        })
        .collect();
    runtime.block_on(async {
        for handle in handles {
            handle.await.unwrap();
        }
    });
}

#[test]
fn a_plain_tokio_spawn_does_not_inherit_the_token() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let source = StopSource::new();
    let seen = runtime.block_on(with_stop_token(source.token(), async {
        tokio::spawn(async { current_token() }).await.unwrap()
    }));
    assert_eq!(seen, StopToken::default());
}

#[test]
#[cfg(not(stoptoken_loom))]
fn propagation_works_under_smol() {
    let source = StopSource::new();
    let token = source.token();
    let executor = smol::Executor::new();
    let seen = smol::block_on(executor.run(async {
        let task = executor.spawn(with_stop_token(token.clone(), async {
            smol::future::yield_now().await;
            level1().await
        }));
        task.await
    }));
    assert_eq!(seen, (source.token(), source.token()));
}

#[test]
fn the_token_stays_per_thread_when_threads_poll_at_once() {
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let barrier = barrier.clone();
            thread::spawn(move || {
                let source = StopSource::new();
                let token = source.token();
                block_on(with_stop_token(source.token(), async move {
                    for _ in 0..100 {
                        barrier.wait();
                        assert_eq!(current_token(), token);
                        yield_once().await;
                    }
                }));
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

//! The tokio integration: `spawn`, `run_async`, `StopHandle`, and `sleep` on
//! tokio's (paused, virtual) clock. Synchronised with channels and `Notify`,
//! never by sleeping in real time.
#![cfg(feature = "tokio")]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use stoptoken::task::{
    current_token, run_async, sleep, spawn, when_all, when_any, with_stop_token,
};
use stoptoken::{StopCallback, StopSource, Stopped};
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

const HOUR: Duration = Duration::from_secs(3600);

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn spawn_gives_the_task_a_child_of_the_current_token() {
    let parent = StopSource::new();
    multi_thread().block_on(with_stop_token(parent.token(), async {
        let handle = spawn(async { current_token() });
        let task_token = handle.stop_token();
        let seen = handle.await.unwrap();
        assert_eq!(seen, task_token);
        assert_ne!(seen, current_token());
    }));
}

#[test]
fn a_stop_of_the_parent_reaches_a_spawned_task() {
    let parent = StopSource::new();
    let outcome = multi_thread().block_on(with_stop_token(parent.token(), async {
        let waiting = Arc::new(Notify::new());
        let ready = waiting.clone();
        let handle = spawn(async move {
            let stopped = current_token().into_stopped();
            ready.notify_one();
            stopped.await;
            "stopped by the parent"
        });
        waiting.notified().await;
        parent.request_stop();
        handle.await.unwrap()
    }));
    assert_eq!(outcome, "stopped by the parent");
}

#[test]
fn request_stop_on_the_handle_stops_the_task_alone() {
    let parent = StopSource::new();
    multi_thread().block_on(with_stop_token(parent.token(), async {
        let handle = spawn(async {
            tokio::task::yield_now().await;
            sleep(HOUR).await
        });
        assert!(handle.request_stop());
        assert!(!handle.request_stop());
        assert_eq!(handle.await.unwrap(), Err(Stopped));
        assert!(!current_token().stop_requested());
    }));
    assert!(!parent.stop_requested());
}

#[test]
fn a_dropped_handle_detaches_and_the_task_stays_linked_to_its_parent() {
    let parent = StopSource::new();
    let outcome = multi_thread().block_on(with_stop_token(parent.token(), async {
        let (done_tx, done_rx) = oneshot::channel();
        let handle = spawn(async move {
            current_token().stopped().await;
            let _ = done_tx.send("stopped after detach");
        });
        let token = handle.stop_token();
        drop(handle); // detaches; does not stop
        assert!(!token.stop_requested());
        parent.request_stop();
        done_rx.await.unwrap()
    }));
    assert_eq!(outcome, "stopped after detach");
}

#[test]
fn stop_on_drop_requests_the_stop_when_the_handle_is_dropped() {
    let outcome = multi_thread().block_on(async {
        let (done_tx, done_rx) = oneshot::channel();
        let handle = spawn(async move {
            let outcome = sleep(HOUR).await;
            let _ = done_tx.send(outcome);
        })
        .stop_on_drop();
        drop(handle);
        done_rx.await.unwrap()
    });
    assert_eq!(outcome, Err(Stopped));
}

#[test]
fn run_async_launches_from_outside_the_runtime_with_the_given_token() {
    let runtime = multi_thread();
    let shutdown = StopSource::new();
    let started = Arc::new(Notify::new());
    let ready = started.clone();
    let handle = run_async(runtime.handle(), &shutdown.token(), async move {
        ready.notify_one();
        sleep(HOUR).await
    });
    runtime.block_on(started.notified());
    shutdown.request_stop();
    assert_eq!(runtime.block_on(handle).unwrap(), Err(Stopped));
}

#[test]
fn an_aborted_task_gives_a_cancelled_join_error() {
    multi_thread().block_on(async {
        let handle = spawn(std::future::pending::<()>());
        handle.abort();
        assert!(handle.await.unwrap_err().is_cancelled());
    });
}

#[tokio::test(start_paused = true)]
async fn sleep_completes_after_its_duration_without_a_stop() {
    let start = Instant::now();
    assert_eq!(sleep(Duration::from_secs(5)).await, Ok(()));
    assert!(start.elapsed() >= Duration::from_secs(5));
    let source = StopSource::new();
    assert_eq!(
        with_stop_token(source.token(), sleep(Duration::from_secs(1))).await,
        Ok(())
    );
}

#[tokio::test(start_paused = true)]
async fn sleep_wakes_early_on_a_stop() {
    let source = StopSource::new();
    let stopper = source.clone();
    let start = Instant::now();
    let outcome = with_stop_token(source.token(), async move {
        // Runs as soon as the sleeper waits; the paused clock only moves when
        // every task is idle, so the hour cannot pass first.
        tokio::spawn(async move { stopper.request_stop() });
        sleep(HOUR).await
    })
    .await;
    assert_eq!(outcome, Err(Stopped));
    assert!(start.elapsed() < HOUR);
}

#[tokio::test(start_paused = true)]
async fn sleep_returns_at_once_when_already_stopped() {
    let source = StopSource::new();
    source.request_stop();
    let start = Instant::now();
    assert_eq!(
        with_stop_token(source.token(), sleep(HOUR)).await,
        Err(Stopped)
    );
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn when_all_stops_sleeping_siblings_on_a_failure() {
    let finished = Arc::new(AtomicUsize::new(0));
    let sleeper = |finished: Arc<AtomicUsize>| async move {
        let outcome = sleep(HOUR).await;
        finished.fetch_add(1, Ordering::SeqCst);
        outcome.map_err(|Stopped| "stopped")
    };
    let start = Instant::now();
    let outcome = when_all((
        sleeper(finished.clone()),
        async {
            sleep(Duration::from_secs(1)).await.map_err(|_| "stopped")?;
            Err::<(), _>("failed")
        },
        sleeper(finished.clone()),
    ))
    .await;
    assert_eq!(outcome, Err("failed"));
    assert_eq!(finished.load(Ordering::SeqCst), 2);
    assert!(start.elapsed() < HOUR);
}

#[test]
fn stop_on_drop_while_unwinding_survives_a_panicking_stop_callback() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _context = runtime.enter();
    let handle = spawn(std::future::pending::<()>()).stop_on_drop();
    let token = handle.stop_token();
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = ran.clone();
    let _counting = StopCallback::new(&token, move || {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    // Registered last, so it runs first (newest first).
    let _panicking = StopCallback::new(&token, || panic!("the stop callback"));
    let outcome = catch_unwind(AssertUnwindSafe(move || {
        let _handle = handle; // dropped while unwinding: a second panic would abort
        panic!("the first panic");
    }));
    let payload = outcome.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"the first panic"));
    assert!(token.stop_requested());
    assert_eq!(ran.load(Ordering::SeqCst), 1); // the other callback still ran
}

#[test]
fn stop_on_drop_outside_an_unwind_propagates_a_stop_callbacks_panic() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _context = runtime.enter();
    let handle = spawn(std::future::pending::<()>()).stop_on_drop();
    let token = handle.stop_token();
    let _panicking = StopCallback::new(&token, || panic!("the stop callback"));
    let payload = catch_unwind(AssertUnwindSafe(move || drop(handle))).unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"the stop callback"));
    assert!(token.stop_requested());
}

// ---- structured lifetimes: a task spawned inside a combinator's child ----

#[tokio::test(start_paused = true)]
async fn a_task_spawned_inside_a_when_all_child_is_stopped_when_the_when_all_completes() {
    let outer = StopSource::new();
    let (done_tx, done_rx) = oneshot::channel();
    let (task_token, ()) = with_stop_token(
        outer.token(),
        when_all((
            async move {
                let handle = spawn(async move {
                    let _ = done_tx.send(sleep(HOUR).await);
                });
                let token = handle.stop_token();
                drop(handle); // detached: the child returns at once
                Ok::<_, ()>(token)
            },
            async { Ok(()) },
        )),
    )
    .await
    .unwrap();
    assert!(task_token.stop_requested()); // by the end of the when_all
                                          // Unstopped, the paused clock would run the hour out: `Ok(())`.
    assert_eq!(done_rx.await.unwrap(), Err(Stopped));
    assert!(!outer.stop_requested()); // the group's stop never goes up
}

#[tokio::test(start_paused = true)]
async fn an_outer_stop_reaches_a_task_spawned_inside_a_running_when_all() {
    let outer = StopSource::new();
    let stopper = outer.clone();
    let (spawned_tx, spawned_rx) = oneshot::channel();
    // Unlinked (a plain tokio task): the shutdown comes from outside.
    let shutdown = tokio::spawn(async move {
        spawned_rx.await.unwrap();
        stopper.request_stop();
    });
    let start = Instant::now();
    let outcome = with_stop_token(
        outer.token(),
        when_all((
            async move {
                let (done_tx, done_rx) = oneshot::channel();
                drop(spawn(async move {
                    let _ = done_tx.send(sleep(HOUR).await);
                }));
                spawned_tx.send(()).unwrap();
                // The when_all cannot end before the detached task reports.
                Ok::<_, ()>(done_rx.await.unwrap())
            },
            async { Ok(()) },
        )),
    )
    .await;
    assert_eq!(outcome, Ok((Err(Stopped), ())));
    assert!(start.elapsed() < HOUR);
    shutdown.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_task_spawned_inside_a_when_any_child_is_stopped_when_the_when_any_is_dropped_unfinished()
{
    let (handle_tx, handle_rx) = oneshot::channel();
    let unfinished = tokio::time::timeout(
        Duration::from_secs(1),
        when_any((
            async move {
                let _ = handle_tx.send(spawn(sleep(HOUR)));
                std::future::pending::<Result<(), ()>>().await
            },
            std::future::pending(),
        )),
    )
    .await;
    assert!(unfinished.is_err()); // timed out: the when_any was dropped
    let handle = handle_rx.await.unwrap();
    assert!(handle.stop_token().stop_requested());
    assert_eq!(handle.await.unwrap(), Err(Stopped));
}

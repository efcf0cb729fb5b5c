//! `StopGroup`: units counted until they end, drains that never miss an end,
//! `shutdown` with a deadline and its report, and the drop that stops every
//! unit before it waits for any.
//!
//! Every wait is bounded by `LIMIT`, which only a broken behaviour reaches;
//! timing assertions use generous bounds, and the orderings they rely on are
//! set up with barriers and channels, not sleeps.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Barrier, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use stoptoken::{ShutdownReport, StopGroup, StopReason, StopSource, Tracked};

/// Reached only when the behaviour under test is broken.
const LIMIT: Duration = Duration::from_secs(30);

fn assert_send_sync_debug<T: Send + Sync + std::fmt::Debug>() {}

#[test]
fn the_types_are_send_sync_and_debug_and_the_report_is_clone() {
    assert_send_sync_debug::<StopGroup>();
    assert_send_sync_debug::<Tracked>();
    assert_send_sync_debug::<ShutdownReport>();
    let group = StopGroup::new();
    let job = group.track("job");
    let debug = format!("{group:?} {job:?}");
    assert!(
        debug.contains("StopGroup") && debug.contains("units: 1"),
        "{debug}"
    );
    drop(job);
    let report = group.shutdown(Duration::ZERO);
    let copy = report.clone();
    assert_eq!(copy.finished(), report.finished());
    assert!(format!("{copy:?}").contains("ShutdownReport"));
}

#[test]
fn a_new_group_is_empty_and_not_stopped() {
    let group = StopGroup::new();
    assert!(group.is_empty());
    assert_eq!(group.len(), 0);
    assert!(!group.stop_requested());
    assert!(group.token().stop_possible());
    assert!(group.wait_timeout(Duration::ZERO));
    group.wait(); // returns at once
}

#[test]
fn track_counts_the_unit_until_it_is_dropped() {
    let group = StopGroup::new();
    let a = group.track("a");
    let b = group.track(String::from("b"));
    assert_eq!(group.len(), 2);
    drop(a);
    assert_eq!(group.len(), 1);
    drop(b);
    assert!(group.is_empty());
    assert_eq!(group.shutdown(Duration::ZERO).finished(), 2);
}

#[test]
fn a_tracked_token_is_a_child_of_the_groups_token() {
    let group = StopGroup::new();
    let job = group.track("job");
    let token = job.token();
    assert_eq!(token, job.token(), "the same token at every call");
    assert_ne!(token, group.token(), "a child, not the group's own token");
    assert!(!token.stop_requested());
    group.request_stop_with(StopReason::Message("deploy"));
    assert!(token.stop_requested());
    assert_eq!(token.stop_reason(), Some(&StopReason::Message("deploy")));
}

#[test]
fn a_child_group_stops_with_its_parent_and_takes_its_reason() {
    let parent = StopSource::new();
    let group = StopGroup::child_of(&parent.token());
    let job = group.track("job");
    // A child group's own stop does not reach the parent.
    let sibling = StopGroup::child_of(&parent.token());
    sibling.request_stop();
    assert!(!parent.stop_requested());
    parent.request_stop_with(StopReason::Signal(2));
    assert!(group.stop_requested());
    assert_eq!(job.token().stop_reason(), Some(&StopReason::Signal(2)));
    // The group's stop came from the parent: shutdown keeps that reason.
    drop(job);
    assert!(group.shutdown(Duration::ZERO).is_clean());
    assert_eq!(group.token().stop_reason(), Some(&StopReason::Signal(2)));
}

#[test]
fn spawn_thread_counts_until_the_function_returns_even_when_detached() {
    let group = StopGroup::new();
    let (release, released) = mpsc::channel::<()>();
    let (returning, returned) = mpsc::channel();
    group
        .spawn_thread("detached", move |_token| {
            released.recv_timeout(LIMIT).expect("released");
            returning.send(()).unwrap();
        })
        .unwrap()
        .detach();
    assert_eq!(group.len(), 1, "counted from spawn_thread on");
    assert!(!group.wait_timeout(Duration::from_millis(10)));
    release.send(()).unwrap();
    assert!(group.wait_timeout(LIMIT), "the detached thread ended");
    returned
        .try_recv()
        .expect("it ended after its function returned");
    assert_eq!(group.shutdown(Duration::ZERO).finished(), 1);
}

#[test]
fn spawn_thread_names_the_thread_and_its_jthread_stops_it_alone() {
    let group = StopGroup::new();
    let first = group
        .spawn_thread("first", |token| {
            assert!(token.wait_timeout(LIMIT), "stopped by its JThread");
            std::thread::current().name().map(str::to_owned)
        })
        .unwrap();
    let second = group.spawn_thread("second", |token| token).unwrap();
    assert!(first.request_stop());
    assert_eq!(first.join().unwrap().as_deref(), Some("first"));
    let second_token = second.join().unwrap();
    assert!(!second_token.stop_requested(), "the other thread's token");
    assert!(!group.stop_requested(), "the group's token");
    group.request_stop();
    assert!(
        second_token.stop_requested(),
        "a child of the group's token"
    );
}

#[test]
fn spawn_thread_rejects_a_name_with_a_nul_byte_and_counts_nothing() {
    let group = StopGroup::new();
    let error = group.spawn_thread("bad\0name", |_| ()).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(group.is_empty());
    let report = group.shutdown(Duration::ZERO);
    assert_eq!(report.finished(), 0);
    assert!(report.is_clean());
}

#[test]
fn wait_returns_when_the_last_unit_ends_and_not_before() {
    let group = Arc::new(StopGroup::new());
    let units: Vec<Tracked> = (0..3).map(|i| group.track(format!("unit {i}"))).collect();
    let (done, waited) = mpsc::channel();
    let waiter = {
        let group = group.clone();
        std::thread::spawn(move || {
            group.wait();
            // Nothing is added afterwards, so this is the count wait saw.
            done.send(group.len()).unwrap();
        })
    };
    for unit in units {
        drop(unit);
    }
    assert_eq!(waited.recv_timeout(LIMIT).expect("wait returned"), 0);
    waiter.join().unwrap();
}

#[test]
fn wait_timeout_is_false_while_a_unit_runs_and_true_once_none_does() {
    let group = StopGroup::new();
    let job = group.track("job");
    let started = Instant::now();
    assert!(!group.wait_timeout(Duration::from_millis(30)));
    assert!(started.elapsed() >= Duration::from_millis(30));
    let ender = std::thread::spawn(move || drop(job));
    assert!(group.wait_timeout(LIMIT));
    ender.join().unwrap();
    assert!(group.wait_timeout(Duration::MAX), "no overflow");
}

#[test]
fn units_added_after_the_stop_start_stopped_and_are_counted() {
    let group = StopGroup::new();
    group.request_stop();
    let late = group.track("late");
    assert!(late.token().stop_requested());
    let thread = group
        .spawn_thread("late thread", |token| token.stop_requested())
        .unwrap();
    assert!(thread.join().unwrap(), "the thread's token was stopped");
    assert_eq!(group.len(), 1);
    let report = group.shutdown(Duration::ZERO);
    assert_eq!(report.unfinished(), ["late"]);
    assert_eq!(report.finished(), 1);
    drop(late);
}

#[test]
fn shutdown_of_an_empty_group_is_clean_and_stops_it() {
    let group = StopGroup::new();
    let report = group.shutdown(LIMIT);
    assert!(report.is_clean());
    assert_eq!(report.finished(), 0);
    assert!(report.elapsed() < LIMIT);
    assert!(group.stop_requested());
    assert_eq!(group.token().stop_reason(), Some(&StopReason::Requested));
}

/// A thread that ignores its token until `release` is sent (or `LIMIT`).
fn stubborn(group: &StopGroup, name: &'static str) -> mpsc::Sender<()> {
    let (release, released) = mpsc::channel::<()>();
    group
        .spawn_thread(name, move |_token| {
            let _ = released.recv_timeout(LIMIT);
        })
        .unwrap()
        .detach();
    release
}

#[test]
fn shutdown_names_a_never_ending_unit_and_returns_at_the_grace() {
    let group = StopGroup::new();
    let polite = group
        .spawn_thread("polite", |token| assert!(token.wait_timeout(LIMIT)))
        .unwrap();
    let release = stubborn(&group, "stubborn");
    let job = group.track("job");
    // The polite thread has ended before the shutdown starts, whatever the
    // machine's load: the grace below is for the others alone.
    group.request_stop();
    polite.join().unwrap();
    let grace = Duration::from_millis(200);
    let report = group.shutdown(grace);
    assert!(report.elapsed() >= grace, "{report:?}");
    assert!(
        report.elapsed() < grace + Duration::from_secs(5),
        "{report:?}"
    );
    assert_eq!(report.unfinished(), ["stubborn", "job"], "in start order");
    assert_eq!(report.finished(), 1, "the polite thread");
    assert!(!report.is_clean());
    release.send(()).unwrap();
    drop(job);
    assert!(group.wait_timeout(LIMIT));
    assert_eq!(group.shutdown(Duration::ZERO).finished(), 3);
}

#[test]
fn a_panicking_unit_is_named_in_panicked_and_the_others_are_unaffected() {
    let group = StopGroup::new();
    let calm = group
        .spawn_thread("calm", |token| {
            assert!(token.wait_timeout(LIMIT));
            "calm"
        })
        .unwrap();
    let crashing = group
        .spawn_thread("crashing", |token| {
            assert!(token.wait_timeout(LIMIT));
            panic!("crashing on purpose");
        })
        .unwrap();
    let job = group.track("job");
    let ender = std::thread::spawn(move || {
        assert!(job.token().wait_timeout(LIMIT));
        drop(job);
    });
    let report = group.shutdown(LIMIT);
    assert_eq!(report.panicked(), ["crashing"]);
    assert_eq!(report.finished(), 2, "calm and job");
    assert!(report.unfinished().is_empty(), "{report:?}");
    assert!(!report.is_clean());
    assert_eq!(calm.join().unwrap(), "calm");
    let payload = crashing.join().unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"crashing on purpose"));
    ender.join().unwrap();
}

#[test]
fn a_tracked_dropped_while_its_thread_unwinds_counts_as_panicked() {
    let group = StopGroup::new();
    let job = group.track("unwinding");
    let thread = std::thread::spawn(move || {
        let _job = job;
        panic!("unwinding on purpose");
    });
    assert!(thread.join().is_err());
    let report = group.shutdown(Duration::ZERO);
    assert_eq!(report.panicked(), ["unwinding"]);
    assert_eq!(report.finished(), 0);
}

#[test]
fn shutdown_twice_gives_two_reports_and_the_second_has_nothing_to_wait_for() {
    let group = StopGroup::new();
    let polite = group.track("polite");
    let release = stubborn(&group, "stubborn");
    group.request_stop();
    drop(polite);
    let first = group.shutdown(Duration::from_millis(50));
    assert_eq!(first.unfinished(), ["stubborn"]);
    // The second waits for what is left, and only that.
    let ender = std::thread::spawn(move || release.send(()).unwrap());
    let second = group.shutdown(LIMIT);
    assert!(second.is_clean(), "{second:?}");
    assert_eq!(second.finished(), 2);
    ender.join().unwrap();
    // A third, with nothing left: the same report, at once.
    let third = group.shutdown(LIMIT);
    assert!(third.is_clean());
    assert_eq!(third.finished(), 2);
    assert!(third.elapsed() < Duration::from_secs(5));
}

#[test]
fn concurrent_shutdowns_both_return_a_report() {
    let group = Arc::new(StopGroup::new());
    let job = group.track("job");
    let start = Arc::new(Barrier::new(3));
    let shutdowns: Vec<_> = (0..2)
        .map(|_| {
            let (group, start) = (group.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                group.shutdown(LIMIT)
            })
        })
        .collect();
    start.wait();
    assert!(
        job.token().wait_timeout(LIMIT),
        "a shutdown requested the stop"
    );
    drop(job);
    for shutdown in shutdowns {
        let report = shutdown.join().unwrap();
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.finished(), 1);
    }
}

#[test]
fn a_zero_grace_reports_at_once() {
    let group = StopGroup::new();
    let release = stubborn(&group, "stubborn");
    let job = group.track("job");
    let report = group.shutdown(Duration::ZERO);
    assert!(report.elapsed() < Duration::from_secs(5), "{report:?}");
    assert_eq!(report.unfinished(), ["stubborn", "job"]);
    assert!(job.token().stop_requested(), "the stop was still requested");
    release.send(()).unwrap();
    drop(job);
    assert!(group.wait_timeout(LIMIT));
}

#[test]
fn units_added_during_the_drain_are_counted_start_stopped_and_are_waited_for() {
    let group = Arc::new(StopGroup::new());
    let first = group.track("first");
    let drain = {
        let group = group.clone();
        std::thread::spawn(move || group.shutdown(LIMIT))
    };
    // The drain has requested the stop and waits for `first`.
    assert!(first.token().wait_timeout(LIMIT));
    let late = group.track("late");
    assert!(late.token().stop_requested(), "a late unit starts stopped");
    let (release, released) = mpsc::channel::<()>();
    let late_thread = group
        .spawn_thread("late thread", move |token| {
            assert!(token.stop_requested());
            released.recv_timeout(LIMIT).expect("released");
        })
        .unwrap();
    assert_eq!(group.len(), 3);
    drop(first);
    drop(late);
    release.send(()).unwrap();
    // The drain could only return once the count reached zero, which needed
    // the two late units to end too: the report has all three finished.
    let report = drain.join().unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.finished(), 3);
    late_thread.join().unwrap();
}

/// The wind-down of a worker in the drop test.
const WIND_DOWN: Duration = Duration::from_millis(100);

#[test]
fn dropping_a_group_stops_every_unit_before_waiting_for_any() {
    const WORKERS: usize = 4;
    let group = StopGroup::new();
    let ready = Arc::new(Barrier::new(WORKERS + 1));
    // How many workers have seen the stop, and a condvar to wait for all.
    let stopped = Arc::new((Mutex::new(0usize), Condvar::new()));
    let saw_all = Arc::new(AtomicUsize::new(0));
    for i in 0..WORKERS {
        let (ready, stopped, saw_all) = (ready.clone(), stopped.clone(), saw_all.clone());
        group
            .spawn_thread(format!("worker {i}"), move |token| {
                ready.wait();
                assert!(token.wait_timeout(LIMIT));
                let (count, all) = &*stopped;
                let mut seen = count.lock().unwrap();
                *seen += 1;
                all.notify_all();
                // A drop that stopped and joined one worker at a time would
                // leave the others unstopped while this one waits: it would
                // give up after 5 s and not count itself in `saw_all`.
                let (seen, timeout) = all
                    .wait_timeout_while(seen, Duration::from_secs(5), |seen| *seen < WORKERS)
                    .unwrap();
                if !timeout.timed_out() {
                    saw_all.fetch_add(1, SeqCst);
                }
                drop(seen);
                std::thread::sleep(WIND_DOWN);
            })
            .unwrap()
            .detach();
    }
    ready.wait(); // every worker runs
    let started = Instant::now();
    drop(group);
    let elapsed = started.elapsed();
    assert_eq!(
        saw_all.load(SeqCst),
        WORKERS,
        "every worker was stopped before any ended"
    );
    assert!(
        elapsed >= WIND_DOWN,
        "the drop waited for the threads: {elapsed:?}"
    );
    // Miri's clock runs with the interpreter: only the ordering above is
    // checked there.
    if !cfg!(miri) {
        assert!(
            elapsed < Duration::from_millis(300),
            "4 wind-downs of 100 ms at once take about 100 ms, not 400: {elapsed:?}"
        );
    }
}

#[test]
fn a_group_dropped_on_one_of_its_threads_does_not_wait_for_that_thread() {
    let group = Arc::new(StopGroup::new());
    let (go, gone) = mpsc::channel::<()>();
    let (dropped, was_dropped) = mpsc::channel();
    let last = group.clone();
    group
        .spawn_thread("owner", move |token| {
            gone.recv_timeout(LIMIT).expect("the other handle is gone");
            drop(last); // the last handle: the group's drop runs here
            dropped.send(token.stop_requested()).unwrap();
        })
        .unwrap()
        .detach();
    drop(group);
    go.send(()).unwrap();
    let stopped = was_dropped
        .recv_timeout(LIMIT)
        .expect("the drop on the group's own thread returned");
    assert!(stopped, "the drop requested the stop");
}

#[test]
fn dropping_a_group_does_not_wait_for_tracked_units() {
    let group = StopGroup::new();
    let job = group.track("job");
    drop(group);
    assert!(job.token().stop_requested());
    drop(job);
}

/// A waker that counts its wake-ups.
#[derive(Default)]
struct Counting(AtomicUsize);

impl Wake for Counting {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn the_drained_future_is_ready_when_the_last_unit_ends_on_another_thread() {
    let group = StopGroup::new();
    futures::executor::block_on(group.drained()); // empty: ready at once
    let job = group.track("job");
    let start = Arc::new(Barrier::new(2));
    let ender = {
        let start = start.clone();
        std::thread::spawn(move || {
            start.wait();
            drop(job);
        })
    };
    let mut drained = pin!(group.drained());
    let counting = Arc::new(Counting::default());
    let waker = Waker::from(counting.clone());
    assert!(drained
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    start.wait();
    ender.join().unwrap();
    assert_eq!(counting.0.load(SeqCst), 1, "woken once by the end");
    assert_eq!(
        drained.as_mut().poll(&mut Context::from_waker(&waker)),
        Poll::Ready(())
    );
}

#[test]
fn a_repolled_drained_future_wakes_only_its_newest_waker_and_a_dropped_one_none() {
    let group = StopGroup::new();
    let job = group.track("job");
    let (old, new, gone) = (
        Arc::new(Counting::default()),
        Arc::new(Counting::default()),
        Arc::new(Counting::default()),
    );
    let mut drained = pin!(group.drained());
    for counting in [&old, &new] {
        let waker = Waker::from(counting.clone());
        assert!(drained
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
    }
    {
        let mut dropped = pin!(group.drained());
        let waker = Waker::from(gone.clone());
        assert!(dropped
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
    }
    drop(job);
    assert_eq!(old.0.load(SeqCst), 0);
    assert_eq!(new.0.load(SeqCst), 1);
    assert_eq!(gone.0.load(SeqCst), 0);
    // The waker was dropped with its future: only the test holds it.
    assert_eq!(Arc::strong_count(&gone), 1);
}

#[cfg(feature = "tokio")]
mod tasks {
    use super::*;
    use stoptoken::task::{current_token, with_stop_token};

    fn multi_thread() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    fn assert_send<T: Send>(_: &T) {}

    /// A thread that returns when its token is stopped.
    fn polite(group: &StopGroup, name: &'static str) {
        group
            .spawn_thread(name, |token| assert!(token.wait_timeout(LIMIT)))
            .unwrap()
            .detach();
    }

    #[test]
    fn spawn_counts_the_task_until_it_ends_and_gives_it_a_child_token() {
        let runtime = multi_thread();
        let group = StopGroup::new();
        runtime.block_on(async {
            let task = group.spawn("task", async { current_token() });
            let token = task.stop_token();
            assert_eq!(task.await.unwrap(), token);
            assert_ne!(token, group.token());
            group.drained().await;
            assert!(group.is_empty());
            group.request_stop();
            assert!(token.stop_requested(), "a child of the group's token");
        });
        assert_eq!(group.shutdown(Duration::ZERO).finished(), 1);
    }

    #[test]
    fn shutdown_async_drains_threads_tasks_and_tracked_units_together() {
        let runtime = multi_thread();
        let group = Arc::new(StopGroup::new());
        let report = runtime.block_on(async {
            for i in 0..3 {
                drop(group.spawn(format!("task {i}"), async {
                    current_token().stopped().await;
                }));
            }
            polite(&group, "thread");
            let job = group.track("job");
            let task_group = group.clone();
            drop(group.spawn("holder", async move {
                let token = job.token();
                token.stopped().await;
                drop(job);
                drop(task_group);
            }));
            let shutdown = group.shutdown_async(LIMIT);
            assert_send(&shutdown);
            shutdown.await
        });
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.finished(), 6);
        assert!(report.elapsed() < LIMIT);
    }

    #[test]
    fn shutdown_async_aborts_a_task_still_running_at_the_deadline() {
        let runtime = multi_thread();
        let group = StopGroup::new();
        let release = stubborn(&group, "stuck thread");
        runtime.block_on(async {
            let stuck = group.spawn("stuck task", std::future::pending::<()>());
            let polite = group.spawn("polite task", async { current_token().stopped().await });
            group.request_stop();
            polite.await.unwrap(); // ended before the shutdown starts
            let grace = Duration::from_millis(100);
            let report = group.shutdown_async(grace).await;
            assert!(report.elapsed() >= grace);
            assert_eq!(report.unfinished(), ["stuck thread", "stuck task"]);
            assert_eq!(report.finished(), 1);
            assert!(stuck.await.unwrap_err().is_cancelled(), "aborted");
        });
        assert_eq!(group.len(), 1, "only the thread is left");
        release.send(()).unwrap();
        assert!(group.wait_timeout(LIMIT));
        // The aborted task counts in neither total.
        let report = group.shutdown(Duration::ZERO);
        assert_eq!(report.finished(), 2);
        assert!(report.is_clean());
    }

    #[test]
    fn a_panicking_task_is_named_in_panicked_and_the_others_are_unaffected() {
        let runtime = multi_thread();
        let group = StopGroup::new();
        let report = runtime.block_on(async {
            let crashing = group.spawn("crashing", async {
                current_token().stopped().await;
                panic!("crashing on purpose");
            });
            let calm = group.spawn("calm", async {
                current_token().stopped().await;
                "calm"
            });
            let report = group.shutdown_async(LIMIT).await;
            assert!(crashing.await.unwrap_err().is_panic());
            assert_eq!(calm.await.unwrap(), "calm");
            report
        });
        assert_eq!(report.panicked(), ["crashing"]);
        assert_eq!(report.finished(), 1);
        assert!(report.unfinished().is_empty());
    }

    #[test]
    fn a_task_spawned_after_the_stop_starts_stopped_and_is_waited_for() {
        let runtime = multi_thread();
        let group = StopGroup::new();
        group.request_stop();
        let report = runtime.block_on(async {
            let late = group.spawn("late", async { current_token().stop_requested() });
            let report = group.shutdown_async(LIMIT).await;
            assert!(late.await.unwrap());
            report
        });
        assert!(report.is_clean());
        assert_eq!(report.finished(), 1);
    }

    #[test]
    fn shutdown_async_with_a_zero_grace_reports_at_once() {
        let runtime = multi_thread();
        let group = StopGroup::new();
        runtime.block_on(async {
            let stuck = group.spawn("stuck", std::future::pending::<()>());
            let report = group.shutdown_async(Duration::ZERO).await;
            assert!(report.elapsed() < Duration::from_secs(5));
            assert_eq!(report.unfinished(), ["stuck"]);
            assert!(stuck.await.unwrap_err().is_cancelled());
        });
    }

    #[test]
    fn shutdown_async_waits_its_grace_even_when_the_current_token_is_stopped() {
        let runtime = multi_thread();
        let group = StopGroup::new();
        let outer = StopSource::new();
        outer.request_stop();
        let job = group.track("job");
        let grace = Duration::from_millis(100);
        let report = runtime.block_on(with_stop_token(outer.token(), group.shutdown_async(grace)));
        assert!(report.elapsed() >= grace, "{report:?}");
        assert_eq!(report.unfinished(), ["job"]);
        drop(job);
    }

    #[test]
    fn the_blocking_shutdown_aborts_the_tasks_of_a_runtime_on_other_threads() {
        let runtime = multi_thread();
        let group = StopGroup::new();
        let stuck = {
            let _inside = runtime.enter();
            group.spawn("stuck", std::future::pending::<()>())
        };
        let report = group.shutdown(Duration::from_millis(50));
        assert_eq!(report.unfinished(), ["stuck"]);
        assert!(runtime.block_on(stuck).unwrap_err().is_cancelled());
        assert!(group.wait_timeout(LIMIT));
    }

    #[test]
    fn a_task_dropped_by_its_runtime_leaves_the_group_uncounted() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let group = StopGroup::new();
        runtime.block_on(async {
            drop(group.spawn("pending", std::future::pending::<()>()));
        });
        assert_eq!(group.len(), 1);
        drop(runtime);
        assert!(group.is_empty());
        let report = group.shutdown(Duration::ZERO);
        assert!(report.is_clean());
        assert_eq!(report.finished(), 0);
    }
}

#[cfg(feature = "timer")]
#[test]
fn shutdown_async_runs_under_any_executor_with_the_timer_feature() {
    let group = StopGroup::new();
    let job = group.track("job");
    let grace = Duration::from_millis(50);
    let report = futures::executor::block_on(group.shutdown_async(grace));
    assert!(report.elapsed() >= grace);
    assert_eq!(report.unfinished(), ["job"]);
    let ender = std::thread::spawn(move || drop(job));
    let report = futures::executor::block_on(group.shutdown_async(LIMIT));
    assert!(report.is_clean(), "{report:?}");
    ender.join().unwrap();
}

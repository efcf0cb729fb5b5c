//! The C++ `std::jthread` behaviours, restated for `JThread` and `thread::scope`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};

use stoptoken::{JThread, StopCallback};

/// Spins until stopped, then reports how it ended.
fn until_stopped(token: stoptoken::StopToken) -> &'static str {
    while !token.stop_requested() {
        std::thread::yield_now();
    }
    "stopped"
}

#[test]
fn drop_requests_the_stop_then_joins() {
    let (tx, rx) = mpsc::channel();
    let thread = JThread::spawn(move |token| {
        let result = until_stopped(token);
        tx.send(result).unwrap();
    });
    let token = thread.stop_token();
    drop(thread);
    // The drop joined: the thread's message is already there.
    assert_eq!(rx.try_recv(), Ok("stopped"));
    assert!(token.stop_requested());
}

#[test]
fn join_does_not_request_a_stop() {
    let thread = JThread::spawn(|token| token);
    let token = thread.join().unwrap();
    assert!(!token.stop_requested());
    assert!(
        !token.stop_possible(),
        "the JThread's source is gone with it"
    );
}

#[test]
fn the_token_handed_over_is_the_threads_own() {
    let thread = JThread::spawn(|token| token);
    let mine = thread.stop_token();
    let source = thread.stop_source();
    assert_eq!(thread.join().unwrap(), mine);
    assert_eq!(source.token(), mine);
}

#[test]
fn request_stop_is_true_once() {
    let thread = JThread::spawn(until_stopped);
    assert!(thread.request_stop());
    assert!(!thread.request_stop());
    assert!(!thread.stop_source().request_stop());
    assert_eq!(thread.join().unwrap(), "stopped");
}

#[test]
fn detach_keeps_running_and_an_earlier_source_still_stops_it() {
    let (tx, rx) = mpsc::channel();
    let thread = JThread::spawn(move |token| tx.send(until_stopped(token)).unwrap());
    let source = thread.stop_source();
    thread.detach(); // no stop request, no join
    assert!(!source.stop_requested());
    assert!(source.request_stop());
    assert_eq!(rx.recv(), Ok("stopped"));
}

#[test]
fn detach_without_a_source_leaves_the_thread_unstoppable() {
    let barrier = Arc::new(Barrier::new(2));
    let b = barrier.clone();
    let (tx, rx) = mpsc::channel();
    let thread = JThread::spawn(move |token| {
        b.wait(); // wait until detached
        tx.send(token.stop_possible()).unwrap();
    });
    thread.detach();
    barrier.wait();
    assert_eq!(rx.recv(), Ok(false));
}

#[test]
fn is_finished_and_builder_name() {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let thread = JThread::builder()
        .name("jworker".into())
        .stack_size(128 * 1024)
        .spawn(move |_| {
            go_rx.recv().unwrap();
            std::thread::current().name().map(str::to_owned)
        })
        .unwrap();
    assert_eq!(thread.thread().name(), Some("jworker"));
    assert!(!thread.is_finished());
    go_tx.send(()).unwrap();
    while !thread.is_finished() {
        std::thread::yield_now();
    }
    assert_eq!(thread.join().unwrap().as_deref(), Some("jworker"));
}

#[test]
fn stop_callback_on_the_threads_token_runs_on_the_dropping_thread() {
    let (tx, rx) = mpsc::channel();
    let thread = JThread::spawn(until_stopped);
    let callback = StopCallback::new(&thread.stop_token(), move || {
        tx.send(std::thread::current().id()).unwrap();
    });
    drop(thread);
    assert_eq!(rx.try_recv(), Ok(std::thread::current().id()));
    drop(callback);
}

#[test]
fn join_returns_the_threads_panic() {
    let thread = JThread::spawn(|_| -> () { panic!("boom") });
    let payload = thread.join().unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
}

#[test]
fn drop_resumes_the_panic_of_an_unjoined_thread() {
    let result = std::panic::catch_unwind(|| {
        let _thread = JThread::spawn(|token| {
            until_stopped(token);
            panic!("late boom");
        });
    });
    let payload = result.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"late boom"));
}

#[test]
fn scope_stops_and_joins_every_thread_and_threads_may_borrow() {
    let counted = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let started = Barrier::new(4);
    stoptoken::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|token| {
                started.wait();
                while !token.stop_requested() {
                    counted.fetch_add(1, Ordering::Relaxed);
                    std::thread::yield_now();
                }
                finished.fetch_add(1, Ordering::SeqCst);
            });
        }
        started.wait();
        assert!(!s.stop_token().stop_requested());
    });
    assert_eq!(finished.load(Ordering::SeqCst), 3);
}

#[test]
fn scope_request_stop_and_nested_spawn() {
    let result = stoptoken::thread::scope(|s| {
        let nested = s.clone();
        let outer = s.spawn(move |_| nested.spawn(until_stopped));
        let inner = outer.join().unwrap();
        assert!(s.request_stop());
        inner.join().unwrap()
    });
    assert_eq!(result, "stopped");
}

#[test]
fn scope_propagates_a_thread_panic_after_stopping_the_others() {
    let result = std::panic::catch_unwind(|| {
        stoptoken::thread::scope(|s| {
            s.spawn(until_stopped);
            s.spawn(|_| panic!("scoped boom"));
        })
    });
    assert!(result.is_err());
}

#[test]
fn scope_stops_its_threads_when_the_body_panics() {
    let result = std::panic::catch_unwind(|| {
        stoptoken::thread::scope(|s| {
            s.spawn(until_stopped);
            panic!("body boom");
        })
    });
    assert!(result.is_err());
}

//! The C++ `std::jthread` behaviours, restated for `JThread` (and its `Builder`).

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

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

/// Set in the environment of the child process that [`run_in_child`] starts.
const REPORT_CHILD: &str = "STOPTOKEN_TEST_REPORT_CHILD";

/// How long a child process may run before it counts as hung.
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether this process is a child started by [`run_in_child`].
fn in_child() -> bool {
    std::env::var_os(REPORT_CHILD).is_some()
}

/// Runs the test `name` of this binary alone in a child process (to read what
/// it prints, or to survive its abort) and returns its exit status and
/// standard error. A child that runs longer than [`CHILD_TIMEOUT`] is killed
/// and fails the test.
fn run_in_child(name: &str) -> (ExitStatus, String) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(REPORT_CHILD, "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read on another thread, so that a full pipe cannot stall the child.
    let mut pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut stderr = String::new();
        pipe.read_to_string(&mut stderr).map(|_| stderr)
    });
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("the child running {name} did not end within {CHILD_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (status, reader.join().unwrap().unwrap())
}

#[test]
fn drop_while_unwinding_reports_the_threads_panic_instead_of_aborting() {
    let finished = Arc::new(AtomicBool::new(false));
    let f = finished.clone();
    let thread = JThread::spawn(move |token| {
        until_stopped(token);
        // Some work after the stop, so that a drop that skipped the join would
        // return before this flag is set.
        for _ in 0..1000 {
            std::thread::yield_now();
        }
        f.store(true, Ordering::SeqCst);
        panic!("thread boom");
    });
    let token = thread.stop_token();
    // A second panic out of `drop` would abort the whole test binary.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _thread = thread;
        panic!("outer boom");
    }));
    let payload = result.unwrap_err();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"outer boom"),
        "the panic being unwound stays the one that propagates"
    );
    assert!(token.stop_requested(), "drop requested the stop");
    assert!(
        finished.load(Ordering::SeqCst),
        "drop joined the thread before returning"
    );

    // The thread's panic goes to standard error, which the test harness
    // captures in this process: run this test again in a child process
    // (not under miri, which cannot spawn processes) and read its stderr.
    if in_child() || cfg!(miri) {
        return;
    }
    let (status, stderr) =
        run_in_child("drop_while_unwinding_reports_the_threads_panic_instead_of_aborting");
    assert!(status.success(), "the child failed: {stderr}");
    assert!(
        stderr.contains(
            "stoptoken: JThread <unnamed>: a panic could not be resumed while unwinding; \
             the panic is dropped: thread boom"
        ),
        "the thread's panic was not reported: {stderr}"
    );
}

#[test]
fn drop_joins_even_when_a_stop_callback_panics_and_resumes_that_panic() {
    let finished = Arc::new(AtomicBool::new(false));
    let f = finished.clone();
    let thread = JThread::spawn(move |token| {
        until_stopped(token);
        // Some work after the stop, so that a drop that skipped the join would
        // return before this flag is set.
        for _ in 0..1000 {
            std::thread::yield_now();
        }
        f.store(true, Ordering::SeqCst);
    });
    let _callback = StopCallback::new(&thread.stop_token(), || panic!("callback boom"));
    let payload =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(thread))).unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"callback boom"));
    assert!(
        finished.load(Ordering::SeqCst),
        "drop returned before the join"
    );
}

#[test]
fn spawn_and_builder_give_each_thread_its_own_source() {
    let a = JThread::spawn(until_stopped);
    let b = JThread::builder().spawn(until_stopped).unwrap();
    assert_ne!(a.stop_token(), b.stop_token());
    assert!(a.request_stop());
    assert_eq!(a.join().unwrap(), "stopped");
    assert!(!b.stop_token().stop_requested());
    drop(b);
}

#[test]
fn debug_shows_the_stop_state() {
    let thread = JThread::spawn(until_stopped);
    assert!(format!("{thread:?}").contains("stop_requested: false"));
    thread.request_stop();
    assert!(format!("{thread:?}").contains("stop_requested: true"));
}

/// Sends on its channel when dropped: declared before another local, it
/// tells that the other one has been dropped, also during unwinding.
struct SendOnDrop(mpsc::Sender<()>);

impl Drop for SendOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

#[test]
#[cfg_attr(miri, ignore = "spawns a child process")]
fn drop_on_its_own_thread_requests_the_stop_and_detaches() {
    if !in_child() {
        let (status, stderr) =
            run_in_child("drop_on_its_own_thread_requests_the_stop_and_detaches");
        assert!(status.success(), "the child failed ({status}): {stderr}");
        assert!(!stderr.contains("panicked"), "something panicked: {stderr}");
        return;
    }
    // A worker that ends up with the last handle of its own JThread, as when
    // it drops the last reference to a service that owns it.
    let (handle_tx, handle_rx) = mpsc::channel::<JThread<()>>();
    let (seen_tx, seen_rx) = mpsc::channel();
    let thread = JThread::spawn(move |token| {
        let itself = handle_rx.recv().unwrap();
        drop(itself);
        seen_tx.send(token.stop_requested()).unwrap();
    });
    handle_tx.send(thread).unwrap();
    assert_eq!(
        seen_rx.recv_timeout(CHILD_TIMEOUT),
        Ok(true),
        "the thread went on after the drop, and saw the stop"
    );
}

#[test]
#[cfg_attr(miri, ignore = "spawns a child process")]
fn drop_on_its_own_thread_while_it_unwinds_does_not_abort() {
    if !in_child() {
        let (status, stderr) =
            run_in_child("drop_on_its_own_thread_while_it_unwinds_does_not_abort");
        assert!(status.success(), "the child failed ({status}): {stderr}");
        assert!(
            stderr.contains("worker boom"),
            "the worker's own panic was not reported: {stderr}"
        );
        assert!(
            !stderr.contains("Resource deadlock") && !stderr.contains("panic in a destructor"),
            "the drop panicked: {stderr}"
        );
        return;
    }
    let (handle_tx, handle_rx) = mpsc::channel::<JThread<()>>();
    let (unwound_tx, unwound_rx) = mpsc::channel();
    let (stopped_tx, stopped_rx) = mpsc::channel();
    let thread = JThread::spawn(move |token| {
        // Both dropped after `_itself` (locals drop in reverse order).
        let _unwound = SendOnDrop(unwound_tx);
        let _stopped = StopCallback::new(&token, move || stopped_tx.send(()).unwrap());
        let _itself = handle_rx.recv().unwrap();
        panic!("worker boom"); // unwinding drops `_itself` on this thread
    });
    handle_tx.send(thread).unwrap();
    assert_eq!(
        stopped_rx.recv_timeout(CHILD_TIMEOUT),
        Ok(()),
        "the drop requested the stop"
    );
    assert_eq!(
        unwound_rx.recv_timeout(CHILD_TIMEOUT),
        Ok(()),
        "the thread unwound past the drop"
    );
}

#[test]
fn join_on_its_own_thread_returns_an_error() {
    let (handle_tx, handle_rx) = mpsc::channel::<JThread<()>>();
    let (outcome_tx, outcome_rx) = mpsc::channel();
    let thread = JThread::spawn(move |token| {
        let itself = handle_rx.recv().unwrap();
        outcome_tx.send((itself.join(), token)).unwrap();
    });
    let mine = thread.stop_token();
    handle_tx.send(thread).unwrap();
    let (outcome, token) = outcome_rx
        .recv_timeout(CHILD_TIMEOUT)
        .expect("join on its own thread returned");
    let payload = outcome.unwrap_err();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"JThread::join called on its own thread")
    );
    assert!(!token.stop_requested(), "join requests no stop");
    assert_eq!(token, mine);
}

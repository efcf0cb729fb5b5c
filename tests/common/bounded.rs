//! Bounds for the tests that block (`tests/io.rs`, `tests/process.rs`,
//! `tests/channel.rs` include this file with `#[path = "common/bounded.rs"] mod
//! bounded;`): every wait fails its test after [`BOUND`] instead of hanging.
#![allow(dead_code)] // each test file uses only some of them

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How long any one blocking step of a test may take before it fails.
pub const BOUND: Duration = Duration::from_secs(20);

/// A thread whose result is awaited for at most [`BOUND`].
pub struct Bounded<T> {
    result: mpsc::Receiver<thread::Result<T>>,
    /// The thread's kernel id (Linux).
    tid: Option<u32>,
}

/// Spawns `f` on a thread of its own.
pub fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Bounded<T> {
    let (result_tx, result) = mpsc::channel();
    let (tid_tx, tid) = mpsc::channel();
    thread::spawn(move || {
        let _ = tid_tx.send(kernel_thread_id());
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = result_tx.send(outcome);
    });
    let tid = tid.recv_timeout(BOUND).expect("the thread did not start");
    Bounded { result, tid }
}

impl<T> Bounded<T> {
    /// The thread's result; fails the test if it takes longer than [`BOUND`],
    /// and re-raises the thread's panic.
    pub fn join(self, what: &str) -> T {
        match self.result.recv_timeout(BOUND) {
            Ok(Ok(value)) => value,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => panic!("{what}: did not return within {BOUND:?}"),
        }
    }

    /// Waits until the thread sleeps in the kernel (a blocking system call:
    /// for these tests, the poll), so that what follows really happens during
    /// the call, not before it. Linux reads `/proc`; elsewhere this returns
    /// at once (the tests are still correct, only less pointed).
    pub fn until_blocked(&self, what: &str) {
        let Some(tid) = self.tid else {
            return;
        };
        let stat = format!("/proc/self/task/{tid}/stat");
        let start = Instant::now();
        loop {
            match std::fs::read_to_string(&stat) {
                Ok(text) => {
                    // The state follows the command name, which is in parentheses.
                    let state = text
                        .rsplit_once(')')
                        .and_then(|(_, rest)| rest.split_whitespace().next());
                    if state == Some("S") {
                        return;
                    }
                }
                Err(_) => return, // the thread has finished: nothing to wait for
            }
            assert!(start.elapsed() < BOUND, "{what}: never blocked");
            thread::sleep(Duration::from_micros(200));
        }
    }
}

/// This thread's kernel id, on Linux.
fn kernel_thread_id() -> Option<u32> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// Fails with `what` unless `f()` holds within [`BOUND`], looking every 200 us.
pub fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < BOUND, "{what}: not within {BOUND:?}");
        thread::sleep(Duration::from_micros(200));
    }
}

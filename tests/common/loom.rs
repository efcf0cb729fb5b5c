//! Helpers shared by the loom models (`tests/loom_*.rs` include this file with
//! `#[path = "common/loom.rs"] mod common;`).
#![allow(dead_code)] // each model file uses only some of them

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

/// Runs `f` under loom with `preemptions` as the bound, unless
/// `LOOM_MAX_PREEMPTIONS` sets another.
pub fn model_bounded(preemptions: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(preemptions);
    }
    builder.check(f);
}

/// Runs `f` under loom with 3 preemptions (or `LOOM_MAX_PREEMPTIONS`).
pub fn model(f: impl Fn() + Sync + Send + 'static) {
    model_bounded(3, f);
}

/// A callback that adds one to `count`.
pub fn counting(count: &Arc<AtomicUsize>) -> impl FnOnce() + Send + 'static {
    let count = count.clone();
    move || {
        count.fetch_add(1, Ordering::SeqCst);
    }
}

/// Wakes by setting a flag and unparking the polling thread.
pub struct Flag {
    woken: AtomicBool,
    thread: thread::Thread,
}

impl Wake for Flag {
    fn wake(self: std::sync::Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.thread.unpark();
    }
}

/// A waker that sets the returned flag and unparks the calling thread.
pub fn flag_waker() -> (std::sync::Arc<Flag>, Waker) {
    let flag = std::sync::Arc::new(Flag {
        woken: AtomicBool::new(false),
        thread: thread::current(),
    });
    (flag.clone(), Waker::from(flag))
}

/// Parks until woken, then re-arms the flag. (A load-then-store, not a
/// `swap`: loom 0.7 reports a false deadlock for a `swap` loop around `park`.)
/// A wake-up erased by the store happened before the re-poll that follows, so
/// the re-poll sees what it announced.
pub fn wait_for(flag: &Flag) {
    while !flag.woken.load(Ordering::SeqCst) {
        thread::park();
    }
    flag.woken.store(false, Ordering::SeqCst);
}

/// Polls until ready, parking between polls: a lost wake-up deadlocks, which
/// loom reports.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let (flag, waker) = flag_waker();
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        wait_for(&flag);
    }
}

//! Two threads registering and deregistering on one token at the same time.
//!
//! The result is the wall time divided by the operations of *one* thread: the
//! cost of one registration as each thread sees it while the other competes
//! for the same callback list (compare it with the single-thread
//! `cb_register_drop`).

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Barrier;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use stoptoken::{PinnedCallback, StopCallback, StopSource, StopToken};
use tokio_util::sync::CancellationToken;

/// Runs `op` `n` times on this thread and on one more, started together; the
/// clock runs from the common start until both are done (spawning is not timed).
pub fn on_two_threads(n: u64, op: impl Fn() + Sync) -> Duration {
    on_threads(2, n, op)
}

/// Runs `op` `n` times on each of `threads` threads (this one included),
/// started together; timed from the common start until all are done.
pub fn on_threads(threads: usize, n: u64, op: impl Fn() + Sync) -> Duration {
    let barrier = Barrier::new(threads);
    let (barrier, op) = (&barrier, &op);
    let start = std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(move || {
                barrier.wait();
                for _ in 0..n {
                    op();
                }
            });
        }
        barrier.wait();
        let start = Instant::now();
        for _ in 0..n {
            op();
        }
        start
    });
    start.elapsed()
}

fn stoptoken_register(token: &StopToken) {
    drop(black_box(StopCallback::new(black_box(token), || {})));
}

/// `StopCallback::new` + drop on both threads.
pub fn stoptoken_by_value(n: u64) -> Duration {
    let source = StopSource::new();
    let token = source.token();
    on_two_threads(n, || stoptoken_register(&token))
}

/// `pin!(PinnedCallback::new(..))` + `register` + drop on both threads.
pub fn stoptoken_pinned(n: u64) -> Duration {
    let source = StopSource::new();
    let token = source.token();
    on_two_threads(n, || {
        let mut callback = pin!(PinnedCallback::new(black_box(&token).clone(), || {}));
        callback.as_mut().register();
        black_box(&callback);
    })
}

/// `StopCallback::new` + drop on 4 threads (more threads than cores here).
pub fn stoptoken_by_value_4(n: u64) -> Duration {
    let source = StopSource::new();
    let token = source.token();
    on_threads(4, n, || stoptoken_register(&token))
}

/// `pin!(PinnedCallback::new(..))` + `register` + drop on 4 threads.
pub fn stoptoken_pinned_4(n: u64) -> Duration {
    let source = StopSource::new();
    let token = source.token();
    on_threads(4, n, || {
        let mut callback = pin!(PinnedCallback::new(black_box(&token).clone(), || {}));
        callback.as_mut().register();
        black_box(&callback);
    })
}

/// `cancelled()` created, polled once, dropped, on 4 threads.
pub fn tokio_cancelled_4(n: u64) -> Duration {
    let token = CancellationToken::new();
    on_threads(4, n, || {
        let mut cx = Context::from_waker(Waker::noop());
        let mut future = pin!(black_box(&token).cancelled());
        black_box(future.as_mut().poll(&mut cx).is_pending());
    })
}

/// `request_stop` with 1000 by-value callbacks while another thread keeps
/// polling `stop_requested()` on the same token; only the request is timed.
pub fn stoptoken_request_stop_1000_polled(n: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..n {
        let source = StopSource::new();
        let token = source.token();
        let callbacks: Vec<_> = (0..crate::stoptoken_ops::CALLBACKS)
            .map(|_| StopCallback::new(&token, || {}))
            .collect();
        let polling = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                polling.store(true, std::sync::atomic::Ordering::SeqCst);
                while !black_box(&token).stop_requested() {}
            });
            while !polling.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::yield_now();
            }
            let start = Instant::now();
            black_box(source.request_stop());
            total += start.elapsed();
        });
        drop(callbacks);
    }
    total
}

/// tokio-util: `cancel()` waking 1000 polled `cancelled()` futures while
/// another thread keeps polling `is_cancelled()`.
pub fn tokio_request_stop_1000_polled(n: u64) -> Duration {
    let mut cx = Context::from_waker(Waker::noop());
    let mut total = Duration::ZERO;
    for _ in 0..n {
        let token = CancellationToken::new();
        let mut futures: Vec<std::pin::Pin<Box<_>>> = (0..crate::stoptoken_ops::CALLBACKS)
            .map(|_| Box::pin(token.cancelled()))
            .collect();
        for future in &mut futures {
            black_box(future.as_mut().poll(&mut cx).is_pending());
        }
        let polling = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                polling.store(true, std::sync::atomic::Ordering::SeqCst);
                while !black_box(&token).is_cancelled() {}
            });
            while !polling.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::yield_now();
            }
            let start = Instant::now();
            token.cancel();
            total += start.elapsed();
        });
        drop(futures);
    }
    total
}

/// `cancelled()` created, polled once, dropped, on both threads.
pub fn tokio_cancelled(n: u64) -> Duration {
    let token = CancellationToken::new();
    on_two_threads(n, || {
        let mut cx = Context::from_waker(Waker::noop());
        let mut future = pin!(black_box(&token).cancelled());
        black_box(future.as_mut().poll(&mut cx).is_pending());
    })
}

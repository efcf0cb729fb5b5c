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
    let barrier = Barrier::new(2);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| {
            barrier.wait();
            for _ in 0..n {
                op();
            }
        });
        barrier.wait();
        let start = Instant::now();
        for _ in 0..n {
            op();
        }
        other.join().expect("the contending thread panicked");
        start.elapsed()
    })
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

/// `cancelled()` created, polled once, dropped, on both threads.
pub fn tokio_cancelled(n: u64) -> Duration {
    let token = CancellationToken::new();
    on_two_threads(n, || {
        let mut cx = Context::from_waker(Waker::noop());
        let mut future = pin!(black_box(&token).cancelled());
        black_box(future.as_mut().poll(&mut cx).is_pending());
    })
}

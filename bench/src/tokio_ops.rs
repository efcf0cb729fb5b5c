//! The single-thread operations on tokio-util's `CancellationToken`.
//!
//! tokio-util has no synchronous callbacks: the counterpart of registering one is
//! creating a `cancelled()` future, polling it once with a no-op waker (which
//! links its waiter into the token's list) and dropping it (which unlinks it).

use std::future::Future;
use std::hint::black_box;
use std::pin::{pin, Pin};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::harness::timed;
use crate::stoptoken_ops::CALLBACKS;

/// `CancellationToken::is_cancelled` on a token that is not cancelled.
pub fn poll(n: u64) -> Duration {
    let token = CancellationToken::new();
    timed(n, || {
        black_box(black_box(&token).is_cancelled());
    })
}

/// Clone a `CancellationToken` and drop the clone.
pub fn token_clone_drop(n: u64) -> Duration {
    let token = CancellationToken::new();
    timed(n, || drop(black_box(black_box(&token).clone())))
}

/// `CancellationToken::new()` and drop it.
pub fn source_new_drop(n: u64) -> Duration {
    timed(n, || drop(black_box(CancellationToken::new())))
}

/// Create a `cancelled()` future, poll it once (registers its waiter), drop it.
pub fn cancelled_register_drop(n: u64) -> Duration {
    let token = CancellationToken::new();
    let mut cx = Context::from_waker(Waker::noop());
    timed(n, || {
        let mut future = pin!(black_box(&token).cancelled());
        black_box(future.as_mut().poll(&mut cx).is_pending());
    })
}

/// A fresh token, `cancel()` with nobody waiting, drop.
pub fn source_new_request_stop_drop(n: u64) -> Duration {
    timed(n, || {
        let token = CancellationToken::new();
        black_box(&token).cancel();
        drop(token);
    })
}

/// `cancel()` with [`CALLBACKS`] polled `cancelled()` futures (no-op wakers);
/// only the cancel is timed.
pub fn request_stop_1000(n: u64) -> Duration {
    let mut cx = Context::from_waker(Waker::noop());
    let mut total = Duration::ZERO;
    for _ in 0..n {
        let token = CancellationToken::new();
        let mut futures: Vec<Pin<Box<_>>> = (0..CALLBACKS)
            .map(|_| Box::pin(token.cancelled()))
            .collect();
        for future in &mut futures {
            black_box(future.as_mut().poll(&mut cx).is_pending());
        }
        let start = Instant::now();
        token.cancel();
        total += start.elapsed();
        drop(futures);
    }
    total
}

/// `child_token()` and drop the child.
pub fn child_token(n: u64) -> Duration {
    let token = CancellationToken::new();
    timed(n, || drop(black_box(black_box(&token).child_token())))
}

//! The single-thread operations on `stoptoken`'s shared and inplace states.
//!
//! Each function is a [`Bench`](crate::Bench): it performs its operation `n`
//! times on a state made outside the clock. Callbacks are empty closures, so
//! what is measured is the mechanism, not the callback.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use stoptoken::{InplaceStopCallback, InplaceStopSource, PinnedCallback, StopCallback, StopSource};

use crate::harness::timed;

/// How many callbacks the `request_stop_1000` operations register.
pub const CALLBACKS: usize = 1000;

/// `StopToken::stop_requested` on an engaged token that is not stopped.
pub fn poll(n: u64) -> Duration {
    let source = StopSource::new();
    let token = source.token();
    timed(n, || {
        black_box(black_box(&token).stop_requested());
    })
}

/// Clone a `StopToken` and drop the clone.
pub fn token_clone_drop(n: u64) -> Duration {
    let source = StopSource::new();
    let token = source.token();
    timed(n, || drop(black_box(black_box(&token).clone())))
}

/// `StopSource::new()` and drop it (one allocation and its free).
pub fn source_new_drop(n: u64) -> Duration {
    timed(n, || drop(black_box(StopSource::new())))
}

/// By-value `StopCallback::new` on a stoppable token, then drop (deregister).
pub fn cb_register_drop(n: u64) -> Duration {
    let source = StopSource::new();
    let token = source.token();
    timed(n, || {
        let callback = StopCallback::new(black_box(&token), || {});
        drop(black_box(callback));
    })
}

/// The allocation-free form: `pin!(PinnedCallback::new(token.clone(), f))`,
/// `register`, drop.
pub fn cb_register_drop_pinned(n: u64) -> Duration {
    let source = StopSource::new();
    let token = source.token();
    timed(n, || {
        let mut callback = pin!(PinnedCallback::new(black_box(&token).clone(), || {}));
        callback.as_mut().register();
        black_box(&callback);
    })
}

/// The pinned form borrowing the token (`PinnedCallback::new(&token, f)`): no
/// reference-count traffic, the cheapest registration on a shared state.
pub fn cb_register_drop_pinned_borrowed(n: u64) -> Duration {
    let source = StopSource::new();
    let token = source.token();
    timed(n, || {
        let mut callback = pin!(PinnedCallback::new(black_box(&token), || {}));
        callback.as_mut().register();
        black_box(&callback);
    })
}

/// A fresh `StopSource`, `request_stop` with no callback registered, drop.
pub fn source_new_request_stop_drop(n: u64) -> Duration {
    timed(n, || {
        let source = StopSource::new();
        black_box(black_box(&source).request_stop());
        drop(source);
    })
}

/// `request_stop` on a source with [`CALLBACKS`] by-value callbacks; only the
/// request is timed (registration and deregistration are not).
pub fn request_stop_1000(n: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..n {
        let source = StopSource::new();
        let token = source.token();
        let callbacks: Vec<_> = (0..CALLBACKS)
            .map(|_| StopCallback::new(&token, || {}))
            .collect();
        let start = Instant::now();
        black_box(source.request_stop());
        total += start.elapsed();
        drop(callbacks);
    }
    total
}

/// `StopSource::child_of(&token)` and drop the child (which unlinks it).
pub fn child_token(n: u64) -> Duration {
    let source = StopSource::new();
    let token = source.token();
    timed(n, || {
        drop(black_box(StopSource::child_of(black_box(&token))))
    })
}

/// Create a `StopToken::stopped()` future, poll it once with a no-op waker
/// (which links its waker node), drop it (which unlinks it).
pub fn stopped_future_register_drop(n: u64) -> Duration {
    let source = StopSource::new();
    let token = source.token();
    let mut cx = Context::from_waker(Waker::noop());
    timed(n, || {
        let mut future = pin!(black_box(&token).stopped());
        black_box(future.as_mut().poll(&mut cx).is_pending());
    })
}

/// By-value `InplaceStopCallback::new` on an `InplaceStopSource`, then drop.
pub fn inplace_cb_register_drop(n: u64) -> Duration {
    let source = InplaceStopSource::new();
    timed(n, || {
        let callback = InplaceStopCallback::new(black_box(&source).token(), || {});
        drop(black_box(callback));
    })
}

/// `pin!(PinnedCallback::new(source.token(), f))`, `register`, drop, on an
/// `InplaceStopSource`.
pub fn inplace_cb_register_drop_pinned(n: u64) -> Duration {
    let source = InplaceStopSource::new();
    timed(n, || {
        let mut callback = pin!(PinnedCallback::new(black_box(&source).token(), || {}));
        callback.as_mut().register();
        black_box(&callback);
    })
}

/// `request_stop` on an `InplaceStopSource` with [`CALLBACKS`] by-value
/// callbacks; only the request is timed.
pub fn inplace_request_stop_1000(n: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..n {
        let source = InplaceStopSource::new();
        let callbacks: Vec<_> = (0..CALLBACKS)
            .map(|_| InplaceStopCallback::new(source.token(), || {}))
            .collect();
        let start = Instant::now();
        black_box(source.request_stop());
        total += start.elapsed();
        drop(callbacks);
    }
    total
}

/// The operations the callgrind driver can run, by name.
pub const SINGLE_THREAD: &[(&str, crate::Bench)] = &[
    ("poll", poll),
    ("token_clone_drop", token_clone_drop),
    ("source_new_drop", source_new_drop),
    ("cb_register_drop", cb_register_drop),
    ("cb_register_drop_pinned", cb_register_drop_pinned),
    (
        "cb_register_drop_pinned_borrowed",
        cb_register_drop_pinned_borrowed,
    ),
    ("request_stop_0", source_new_request_stop_drop),
    ("child_token", child_token),
    ("request_stop_1000", request_stop_1000),
    ("any_of_2", crate::composed::any_of_2),
    ("any_of_16", crate::composed::any_of_16),
];

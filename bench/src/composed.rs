//! The composed sources of issue 8: `any_of`, deadlines, stop reasons, and
//! `StopToken::wait`, with the nearest thing each peer offers.
//!
//! - libstdc++ has no any-of: its column is what a C++ user writes instead, a
//!   new `stop_source` plus one forwarding `stop_callback` per input
//!   (`any_of_2`, `any_of_16` in `cpp/stop_token_bench.cpp`).
//! - tokio-util has no deadline token: its column spawns a task that sleeps on
//!   tokio's timer and then cancels, aborted on drop (what tokio users write).

use std::hint::black_box;
use std::time::{Duration, Instant};

use stoptoken::{StopReason, StopSource, StopToken};
use tokio_util::sync::CancellationToken;

use crate::harness::timed;

fn inputs(count: usize) -> (Vec<StopSource>, Vec<StopToken>) {
    let sources: Vec<StopSource> = (0..count).map(|_| StopSource::new()).collect();
    let tokens = sources.iter().map(StopSource::token).collect();
    (sources, tokens)
}

/// `StopSource::any_of` over 2 tokens, then drop it (which unlinks both).
pub fn any_of_2(n: u64) -> Duration {
    let (_sources, tokens) = inputs(2);
    timed(n, || {
        drop(black_box(StopSource::any_of(black_box(&tokens))))
    })
}

/// `StopSource::any_of` over 16 tokens, then drop it.
pub fn any_of_16(n: u64) -> Duration {
    let (_sources, tokens) = inputs(16);
    timed(n, || {
        drop(black_box(StopSource::any_of(black_box(&tokens))))
    })
}

/// `StopSource::after(1 h)`, then drop it (insert and cancel a timer entry).
pub fn deadline_new_drop(n: u64) -> Duration {
    drop(StopSource::after(Duration::from_secs(3600))); // starts the timer thread
    timed(n, || {
        drop(black_box(StopSource::after(black_box(
            Duration::from_secs(3600),
        ))))
    })
}

/// tokio-util: a token plus a task that would cancel it after 1 h, aborted.
pub fn tokio_deadline_new_drop(n: u64) -> Duration {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        timed(n, || {
            let token = CancellationToken::new();
            let cancel = token.clone();
            let task = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                cancel.cancel();
            });
            task.abort();
            drop(black_box(token));
        })
    })
}

/// How late a deadline stop wakes a thread blocked in `token.wait()`, summed
/// over `n` deadlines 1 ms ahead.
pub fn deadline_fire_latency(n: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..n {
        let deadline = Instant::now() + Duration::from_millis(1);
        let source = StopSource::with_deadline(deadline);
        assert!(source.token().wait());
        total += Instant::now().saturating_duration_since(deadline);
    }
    total
}

/// tokio: how late `sleep_until` + `cancel` wakes a task awaiting
/// `cancelled()`, on a current-thread runtime.
pub fn tokio_deadline_fire_latency(n: u64) -> Duration {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let mut total = Duration::ZERO;
        for _ in 0..n {
            let deadline = Instant::now() + Duration::from_millis(1);
            let token = CancellationToken::new();
            let cancel = token.clone();
            tokio::spawn(async move {
                tokio::time::sleep_until(deadline.into()).await;
                cancel.cancel();
            });
            token.cancelled().await;
            total += Instant::now().saturating_duration_since(deadline);
        }
        total
    })
}

/// `StopToken::stop_reason` on a stopped token (one load, one read).
pub fn reason_read(n: u64) -> Duration {
    let source = StopSource::new();
    source.request_stop_with(StopReason::Message("bench"));
    let token = source.token();
    timed(n, || {
        black_box(black_box(&token).stop_reason());
    })
}

//! Wake-up latency: how long after `request_stop` (or `cancel`) begins a blocked
//! waiter runs again.
//!
//! Each sample spawns a waiter thread that blocks on a fresh token; once it
//! said it is about to block, the main thread sleeps 200 us (so that it really
//! is blocked), reads the clock, and requests the stop; the waiter reads the
//! clock as soon as it runs. The spawn, the handshake and the sleep are not
//! timed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use stoptoken::{StopCallback, StopSource, StopToken};
use tokio_util::sync::CancellationToken;

/// Time from the stop request to the waiter running, summed over `n` samples.
///
/// `block` runs on the waiter thread: it must set `ready` just before it
/// blocks, and return the time it woke up (before any clean-up).
fn wake_latency<T: Send>(
    n: u64,
    mut make: impl FnMut() -> (T, Box<dyn FnOnce()>),
    block: impl Fn(T, &AtomicBool) -> Instant + Sync,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..n {
        let (waiter_side, request) = make();
        let ready = AtomicBool::new(false);
        let (start, woke) = thread::scope(|scope| {
            let waiter = scope.spawn(|| block(waiter_side, &ready));
            // Acquire: pairs with the waiter's store; nothing to see, only a signal.
            while !ready.load(Ordering::Acquire) {
                thread::yield_now();
            }
            thread::sleep(Duration::from_micros(200));
            let start = Instant::now();
            request();
            let woke = waiter.join().expect("the waiter panicked");
            (start, woke)
        });
        total += woke.saturating_duration_since(start);
    }
    total
}

fn stop_pair() -> (StopToken, Box<dyn FnOnce()>) {
    let source = StopSource::new();
    let token = source.token();
    (
        token,
        Box::new(move || {
            source.request_stop();
        }),
    )
}

/// stoptoken: the waiter registers a `StopCallback` that unparks it, then parks
/// until `stop_requested()`.
pub fn stoptoken_park(n: u64) -> Duration {
    wake_latency(n, stop_pair, |token, ready| {
        let me = thread::current();
        let _wake = StopCallback::new(&token, move || me.unpark());
        ready.store(true, Ordering::Release);
        while !token.stop_requested() {
            thread::park();
        }
        Instant::now()
    })
}

/// stoptoken: the waiter blocks in `StopToken::wait` (a parked node that the
/// stop unparks).
pub fn stoptoken_token_wait(n: u64) -> Duration {
    wake_latency(n, stop_pair, |token, ready| {
        ready.store(true, Ordering::Release);
        assert!(token.wait());
        Instant::now()
    })
}

/// stoptoken, async: the waiter runs `token.stopped().await` on its own
/// current-thread tokio runtime (built before the clock starts), as the
/// tokio-util row does.
pub fn stoptoken_stopped_await(n: u64) -> Duration {
    wake_latency(n, stop_pair, |token, ready| {
        let runtime = current_thread_runtime();
        runtime.block_on(async {
            ready.store(true, Ordering::Release);
            token.stopped().await;
            Instant::now()
        })
    })
}

fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

/// tokio-util: the waiter runs `token.cancelled().await` on its own
/// current-thread runtime (built before the clock starts).
pub fn tokio_cancelled(n: u64) -> Duration {
    wake_latency(
        n,
        || {
            let token = CancellationToken::new();
            let waiter_side = token.clone();
            (waiter_side, Box::new(move || token.cancel()))
        },
        |token, ready| {
            let runtime = current_thread_runtime();
            runtime.block_on(async {
                ready.store(true, Ordering::Release);
                token.cancelled().await;
                Instant::now()
            })
        },
    )
}

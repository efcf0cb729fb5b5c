//! `sleep` on the runtime-agnostic `futures-timer` backend (feature `timer`),
//! outside any tokio runtime: under `futures::executor::block_on` and smol;
//! and, with the `tokio` feature too, inside a tokio runtime without a timer.
#![cfg(feature = "timer")]

use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures::executor::block_on;
use stoptoken::task::{current_token, sleep, with_stop_token};
use stoptoken::{StopSource, Stopped};

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn sleep_completes_under_block_on() {
    let start = Instant::now();
    assert_eq!(block_on(sleep(Duration::from_millis(5))), Ok(()));
    assert!(start.elapsed() >= Duration::from_millis(5));
}

#[test]
fn sleep_wakes_early_on_a_stop_from_another_thread() {
    let source = StopSource::new();
    let (waiting_tx, waiting_rx) = mpsc::channel();
    let token = source.token();
    let sleeper = std::thread::spawn(move || {
        block_on(with_stop_token(token, async move {
            // Tell the stopper once the stop can only come during the sleep's wait.
            let guard = current_token();
            waiting_tx.send(()).unwrap();
            let outcome = sleep(HOUR).await;
            (outcome, guard.stop_requested())
        }))
    });
    waiting_rx.recv().unwrap();
    source.request_stop();
    assert_eq!(sleeper.join().unwrap(), (Err(Stopped), true));
}

#[test]
#[cfg(not(stoptoken_loom))]
fn sleep_wakes_early_on_a_stop_under_smol() {
    let source = StopSource::new();
    let stopper = source.clone();
    let outcome = smol::block_on(with_stop_token(source.token(), async move {
        let stop_soon = smol::spawn(async move {
            smol::future::yield_now().await;
            stopper.request_stop();
        });
        let outcome = sleep(HOUR).await;
        stop_soon.await;
        outcome
    }));
    assert_eq!(outcome, Err(Stopped));
}

/// Bounds a sleep that a stop should cut short: a sleep that ran this long was
/// not woken, and fails its test instead of hanging it.
#[cfg(feature = "tokio")]
const BOUND: Duration = Duration::from_secs(60);

/// A tokio runtime built without `enable_time`: `tokio::time::sleep` panics in it.
#[cfg(feature = "tokio")]
fn runtime_without_time() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

#[test]
#[cfg(feature = "tokio")]
fn sleep_in_a_tokio_runtime_without_time_falls_back_to_futures_timer() {
    let start = Instant::now();
    let outcome = runtime_without_time().block_on(sleep(Duration::from_millis(5)));
    assert_eq!(outcome, Ok(()));
    assert!(start.elapsed() >= Duration::from_millis(5));
}

#[test]
#[cfg(feature = "tokio")]
fn sleep_in_a_tokio_runtime_without_time_wakes_early_on_a_stop() {
    let source = StopSource::new();
    let stopper = source.clone();
    let start = Instant::now();
    let outcome = runtime_without_time().block_on(with_stop_token(source.token(), async move {
        // Runs once the sleep is pending: the runtime has one thread.
        tokio::spawn(async move { stopper.request_stop() });
        sleep(BOUND).await
    }));
    assert_eq!(outcome, Err(Stopped));
    assert!(start.elapsed() < BOUND);
}

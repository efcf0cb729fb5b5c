//! `sleep` on the runtime-agnostic `futures-timer` backend (feature `timer`),
//! outside any tokio runtime: under `futures::executor::block_on` and smol.
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

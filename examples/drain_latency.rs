//! Measures how long a `StopGroup` takes to drain 1000 cooperative units:
//! the time from `request_stop` to `wait()` returning, once with 1000
//! threads (each parked in `token.wait()`) and once with 1000 tokio tasks on
//! a 2-worker runtime (each pending in `current_token().stopped()`).
//!
//! Prints, for each, the median, fastest and slowest of 21 rounds, the
//! median per unit, and the median time `request_stop` itself took (it wakes
//! every unit before it returns).
//!
//! Run: `cargo run --release --example drain_latency --features tokio`

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use stoptoken::task::current_token;
use stoptoken::StopGroup;

const UNITS: usize = 1000;
const ROUNDS: usize = 21;
/// Lets the units reach their wait before the clock starts (not timed).
const SETTLE: Duration = Duration::from_millis(50);

fn threads_round() -> (Duration, Duration) {
    let group = StopGroup::new();
    let ready = Arc::new(Barrier::new(UNITS + 1));
    for _ in 0..UNITS {
        let ready = ready.clone();
        group
            .spawn_thread("unit", move |token| {
                ready.wait();
                token.wait();
            })
            .expect("a thread")
            .detach();
    }
    ready.wait();
    stop_and_drain(&group)
}

fn tasks_round(runtime: &tokio::runtime::Runtime) -> (Duration, Duration) {
    let group = StopGroup::new();
    let waiting = Arc::new(AtomicUsize::new(0));
    runtime.block_on(async {
        for _ in 0..UNITS {
            let waiting = waiting.clone();
            drop(group.spawn("unit", async move {
                let stopped = current_token().into_stopped();
                waiting.fetch_add(1, SeqCst);
                stopped.await;
            }));
        }
    });
    while waiting.load(SeqCst) < UNITS {
        std::thread::yield_now();
    }
    stop_and_drain(&group)
}

/// Lets the units settle into their waits, then times the stop request and
/// the drain: (request until drained, the request alone).
fn stop_and_drain(group: &StopGroup) -> (Duration, Duration) {
    std::thread::sleep(SETTLE);
    let started = Instant::now();
    group.request_stop();
    let stop = started.elapsed();
    group.wait();
    (started.elapsed(), stop)
}

fn summary(what: &str, rounds: Vec<(Duration, Duration)>) {
    let (mut samples, mut stops): (Vec<_>, Vec<_>) = rounds.into_iter().unzip();
    samples.sort();
    stops.sort();
    let median = samples[samples.len() / 2];
    println!(
        "{what}: median {:.2} ms (fastest {:.2} ms, slowest {:.2} ms), {:.1} us per unit; \
         request_stop itself: median {:.2} ms",
        median.as_secs_f64() * 1e3,
        samples[0].as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e6 / UNITS as f64,
        stops[stops.len() / 2].as_secs_f64() * 1e3
    );
}

fn main() {
    println!("request_stop -> wait() returning, {UNITS} cooperative units, {ROUNDS} rounds");
    summary("threads", (0..ROUNDS).map(|_| threads_round()).collect());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    summary(
        "tasks",
        (0..ROUNDS).map(|_| tasks_round(&runtime)).collect(),
    );
}

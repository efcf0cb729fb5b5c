//! Quick contention probe: `cargo run --release -p stoptoken-bench --bin contend [THREADS]`.
//! Prints ns per registration+drop as each thread sees it, for the pinned and
//! by-value forms, median of 7 runs. The table of record is `compare`'s.

use std::hint::black_box;
use std::pin::pin;

use stoptoken::{PinnedCallback, StopCallback, StopSource};
use stoptoken_bench::contended::on_threads;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let threads: usize = std::env::args()
        .nth(1)
        .and_then(|t| t.parse().ok())
        .unwrap_or(2);
    let n = 500_000;
    let source = StopSource::new();
    let token = source.token();
    let pinned = median(
        (0..7)
            .map(|_| {
                on_threads(threads, n, || {
                    let mut callback = pin!(PinnedCallback::new(black_box(&token).clone(), || {}));
                    callback.as_mut().register();
                    black_box(&callback);
                })
                .as_nanos() as f64
                    / n as f64
            })
            .collect(),
    );
    let by_value = median(
        (0..7)
            .map(|_| {
                on_threads(threads, n, || {
                    drop(black_box(StopCallback::new(black_box(&token), || {})))
                })
                .as_nanos() as f64
                    / n as f64
            })
            .collect(),
    );
    let borrowed = median(
        (0..7)
            .map(|_| {
                on_threads(threads, n, || {
                    let mut callback = pin!(PinnedCallback::new(black_box(&token), || {}));
                    callback.as_mut().register();
                    black_box(&callback);
                })
                .as_nanos() as f64
                    / n as f64
            })
            .collect(),
    );
    let clones = median(
        (0..7)
            .map(|_| {
                on_threads(threads, n, || drop(black_box(black_box(&token).clone()))).as_nanos()
                    as f64
                    / n as f64
            })
            .collect(),
    );
    println!(
        "{threads} threads: pinned {pinned:.1} ns, by-value {by_value:.1} ns, pinned borrowing {borrowed:.1} ns, token clone+drop {clones:.1} ns"
    );
}

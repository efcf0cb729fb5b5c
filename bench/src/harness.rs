//! The in-process timing harness: warm up, calibrate a batch size, then report
//! the median ns/op over several batches (the machine is shared and noisy, so
//! the median, not the mean).

use std::time::{Duration, Instant};

/// Performs an operation `n` times and returns the time spent on the measured
/// part only (set-up that must not be counted is done outside the clock).
pub type Bench = fn(u64) -> Duration;

/// How long one calibrated batch should take.
const BATCH: Duration = Duration::from_millis(8);
/// How many batches the median is taken over.
const BATCHES: usize = 15;

/// Times `body` over `n` iterations: the common case of a [`Bench`] without
/// per-iteration set-up.
#[inline]
pub fn timed(n: u64, mut body: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        body();
    }
    start.elapsed()
}

/// The median ns/op of `bench` over [`BATCHES`] batches of a calibrated size,
/// after a warm-up.
pub fn median_ns_per_op(bench: Bench) -> f64 {
    let n = calibrate(bench);
    let mut samples: Vec<f64> = (0..BATCHES)
        .map(|_| bench(n).as_secs_f64() * 1e9 / n as f64)
        .collect();
    median(&mut samples)
}

/// The median of `samples` single runs of `bench` (for operations that take
/// tens of microseconds, such as a wake-up, where each sample counts).
pub fn median_ns_of_samples(bench: Bench, samples: usize) -> f64 {
    bench(3); // warm-up
    let mut values: Vec<f64> = (0..samples).map(|_| bench(1).as_secs_f64() * 1e9).collect();
    median(&mut values)
}

/// Doubles the iteration count until a run takes a measurable time, then scales
/// it to [`BATCH`]. The doubling runs double as the warm-up.
fn calibrate(bench: Bench) -> u64 {
    let mut n = 1u64;
    loop {
        let elapsed = bench(n);
        if elapsed >= Duration::from_millis(2) || n >= 1 << 40 {
            let per_op = elapsed.as_secs_f64() / n as f64;
            return ((BATCH.as_secs_f64() / per_op) as u64).max(1);
        }
        n *= 2;
    }
}

/// The median (mean of the middle two for an even count).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

//! What the `tower` feature costs: the per-request overhead of `StopLayer` and
//! `DeadlineLayer` against the bare service, measured in the same run, and how
//! late a 50 ms budget stops a handler (median and p99 over 100 trials).
//! Prints two markdown tables and writes them to `bench/RESULTS-tower.md`.
//!
//! ```text
//! cargo run --release -p stoptoken-bench --features tower --bin tower
//! ```
//!
//! The overhead rows call a tower `Service` directly in a loop (no network):
//! `poll_ready`, `call`, one poll of the response future (the inner future is
//! `std::future::Ready`, so it completes at once), drop. What remains is the
//! layer's own work per request: the child state and its link, the timer
//! entry when there is a budget, the header's parse or write.

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::path::PathBuf;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use http::Request;
use stoptoken::task::{current_token, with_stop_token};
use stoptoken::tower::{DeadlineLayer, StopLayer};
use stoptoken::StopSource;
use stoptoken_bench::harness::{median, median_ns_per_op, timed};
use stoptoken_bench::machine::{cores, cpu_model, rustc_version};
use tower_layer::Layer;
use tower_service::Service;

/// The budget whose accuracy is measured, and the trials.
const BUDGET: Duration = Duration::from_millis(50);
const TRIALS: usize = 100;

/// The bare service: always ready, answers at once.
#[derive(Clone, Copy)]
struct Ready;

impl<B> Service<Request<B>> for Ready {
    type Response = ();
    type Error = Infallible;
    type Future = std::future::Ready<Result<(), Infallible>>;

    #[inline]
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    #[inline]
    fn call(&mut self, _: Request<B>) -> Self::Future {
        std::future::ready(Ok(()))
    }
}

/// A handler that waits for its token's stop and answers how late it saw it,
/// after the token's deadline.
#[derive(Clone, Copy)]
struct WaitsForItsStop;

impl Service<Request<()>> for WaitsForItsStop {
    type Response = Duration;
    type Error = Infallible;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Duration, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        Box::pin(async {
            let token = current_token();
            token.stopped().await;
            let deadline = token.deadline().unwrap_or_else(Instant::now);
            Ok(Instant::now().saturating_duration_since(deadline))
        })
    }
}

/// `n` requests made by `request` through `service`: ready, call, one poll, drop.
fn drive<S>(mut service: S, n: u64, request: fn() -> Request<()>) -> Duration
where
    S: Service<Request<()>, Response = (), Error = Infallible>,
{
    let mut cx = Context::from_waker(Waker::noop());
    timed(n, || {
        let request = black_box(request());
        let _ = black_box(service.poll_ready(&mut cx));
        let future = pin!(service.call(request));
        let _ = black_box(future.poll(&mut cx));
    })
}

fn plain() -> Request<()> {
    Request::new(())
}

fn with_header() -> Request<()> {
    Request::builder()
        .header("grpc-timeout", "50m")
        .body(())
        .unwrap_or_default()
}

fn bare(n: u64) -> Duration {
    drive(Ready, n, plain)
}

fn bare_with_header(n: u64) -> Duration {
    drive(Ready, n, with_header)
}

fn stop_layer(n: u64) -> Duration {
    let server = StopSource::new();
    drive(StopLayer::new(server.token()).layer(Ready), n, plain)
}

fn stop_layer_timeout(n: u64) -> Duration {
    let server = StopSource::new();
    let layer = StopLayer::new(server.token()).timeout(Duration::from_secs(60));
    drive(layer.layer(Ready), n, plain)
}

/// As [`stop_layer_timeout`], with an earlier deadline pending meanwhile (a
/// request in flight): a new entry is then not the timer's earliest, so the
/// deadline thread is not woken for it, as in a busy server.
fn stop_layer_timeout_busy(n: u64) -> Duration {
    let server = StopSource::new();
    let in_flight = StopSource::after(Duration::from_secs(30));
    let layer = StopLayer::new(server.token()).timeout(Duration::from_secs(60));
    let elapsed = drive(layer.layer(Ready), n, plain);
    drop(in_flight);
    elapsed
}

fn stop_layer_grpc_header(n: u64) -> Duration {
    let server = StopSource::new();
    let layer = StopLayer::new(server.token()).grpc_timeout(true);
    drive(layer.layer(Ready), n, with_header)
}

fn deadline_layer_no_deadline(n: u64) -> Duration {
    drive(DeadlineLayer::new().layer(Ready), n, plain)
}

fn deadline_layer_under_a_deadline(n: u64) -> Duration {
    let budget = StopSource::after(Duration::from_secs(60));
    // The whole loop runs inside one poll, so the budget's token is current.
    futures::executor::block_on(with_stop_token(budget.token(), async move {
        drive(DeadlineLayer::new().layer(Ready), n, plain)
    }))
}

/// How late, after its request's deadline, a handler behind
/// `StopLayer::timeout(BUDGET)` sees its token stopped: one request at a
/// time on a 2-worker tokio runtime, the handler awaiting `stopped()`.
fn stop_layer_lateness(runtime: &tokio::runtime::Runtime) -> Vec<Duration> {
    let server = StopSource::new();
    let service = StopLayer::new(server.token())
        .timeout(BUDGET)
        .layer(WaitsForItsStop);
    runtime.block_on(async {
        let mut lateness = Vec::with_capacity(TRIALS);
        for _ in 0..TRIALS {
            let mut service = service.clone();
            let late = tokio::spawn(async move { service.call(Request::new(())).await });
            if let Ok(Ok(late)) = late.await {
                lateness.push(late);
            }
        }
        lateness
    })
}

/// The same with tokio's own timer, the baseline of a runtime-timer timeout
/// (`tower::timeout`, `tokio::time::timeout`): how late `sleep_until` wakes.
fn tokio_timer_lateness(runtime: &tokio::runtime::Runtime) -> Vec<Duration> {
    runtime.block_on(async {
        let mut lateness = Vec::with_capacity(TRIALS);
        for _ in 0..TRIALS {
            let late = tokio::spawn(async {
                let at = Instant::now() + BUDGET;
                tokio::time::sleep_until(at.into()).await;
                Instant::now().saturating_duration_since(at)
            });
            if let Ok(late) = late.await {
                lateness.push(late);
            }
        }
        lateness
    })
}

/// (median, p99, max) in microseconds.
fn spread(samples: &[Duration]) -> (f64, f64, f64) {
    let mut us: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e6).collect();
    let mid = median(&mut us); // sorts
    let p99 = us[((us.len() as f64 * 0.99).ceil() as usize).clamp(1, us.len()) - 1];
    (mid, p99, us[us.len() - 1])
}

fn main() {
    use std::fmt::Write;

    eprintln!("measuring the per-request overhead ...");
    let rows: [(&str, stoptoken_bench::Bench); 8] = [
        ("bare service, plain request", bare),
        ("StopLayer, no budget (child_of)", stop_layer),
        (
            "StopLayer + timeout (child_with_deadline), one request at a time",
            stop_layer_timeout,
        ),
        (
            "StopLayer + timeout, an earlier deadline in flight",
            stop_layer_timeout_busy,
        ),
        (
            "bare service, request with `grpc-timeout: 50m`",
            bare_with_header,
        ),
        (
            "StopLayer + grpc_timeout(true), that request",
            stop_layer_grpc_header,
        ),
        (
            "DeadlineLayer, no current deadline",
            deadline_layer_no_deadline,
        ),
        (
            "DeadlineLayer under a deadline (writes the header)",
            deadline_layer_under_a_deadline,
        ),
    ];
    let measured: Vec<(&str, f64)> = rows
        .iter()
        .map(|&(name, bench)| (name, median_ns_per_op(bench)))
        .collect();
    let base_plain = measured[0].1;
    let base_header = measured[4].1;

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# stoptoken-bench: the `tower` feature\n\nGenerated by `cargo run --release -p stoptoken-bench --features tower --bin tower`; one run on a shared machine.\n\nMachine: {} ({} cores); {}\n",
        cpu_model(),
        cores(),
        rustc_version()
    );
    let _ = writeln!(
        out,
        "## Per request: a `Service` called in a loop (ready future, no network)\n\n| request | ns | overhead vs the bare service (ns) |\n|---|---:|---:|"
    );
    for (index, &(name, ns)) in measured.iter().enumerate() {
        let base = if (4..6).contains(&index) {
            base_header
        } else {
            base_plain
        };
        let overhead = match index {
            0 | 4 => "-".to_owned(),
            _ => format!("{:.1}", ns - base),
        };
        let _ = writeln!(out, "| {name} | {ns:.1} | {overhead} |");
    }

    eprintln!("measuring how late a {BUDGET:?} budget stops a handler ({TRIALS} trials each) ...");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let ours = stop_layer_lateness(&runtime);
    let tokio = tokio_timer_lateness(&runtime);
    let _ = writeln!(
        out,
        "\n## Deadline accuracy: how late a {} ms budget stops the handler\n\n| mechanism | trials | median (us) | p99 (us) | max (us) |\n|---|---:|---:|---:|---:|",
        BUDGET.as_millis()
    );
    for (name, samples) in [
        (
            "StopLayer::timeout: handler's `stopped().await` after the deadline thread's stop",
            &ours,
        ),
        (
            "baseline: tokio `sleep_until` (a runtime-timer timeout)",
            &tokio,
        ),
    ] {
        let (mid, p99, max) = spread(samples);
        let _ = writeln!(
            out,
            "| {name} | {} | {mid:.0} | {p99:.0} | {max:.0} |",
            samples.len()
        );
    }

    print!("{out}");
    let results = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("RESULTS-tower.md");
    if let Err(e) = std::fs::write(&results, &out) {
        eprintln!("warning: could not write {}: {e}", results.display());
    }
}

//! An axum server whose requests stop cooperatively, with a graceful shutdown
//! on Ctrl-C (SIGINT) or SIGTERM that waits for the requests in flight up to
//! a drain deadline, then prints what happened.
//!
//! - `StopLayer` gives each request a child token of the shutdown token, with
//!   a 10 s budget, shortened by a `grpc-timeout` header if the client sends
//!   one.
//! - `GET /work?steps=N` does N steps of 100 ms, checking its token between
//!   steps: it answers `done: N steps`, or `stopped after K of N steps:
//!   <reason>` (the budget: `Deadline`; the shutdown: `Signal(2)`; the client
//!   hung up: `Message("request dropped")`, which only the report shows).
//! - `GET /stubborn?steps=N` ignores its token: it is what the drain deadline
//!   (3 s) is for.
//!
//! Prints `listening on http://127.0.0.1:3000 (pid <N>)`, a line per request,
//! and at exit the report: requests finished, stopped (by reason), still in
//! flight at the drain deadline, and whether the drain was clean.
//!
//! Run: `cargo run --example http_server --features tower,signal,tokio [-- ADDR]`
//! Try: `curl 'localhost:3000/work?steps=20'`, or with
//! `-H 'grpc-timeout: 500m'`, then Ctrl-C while a request runs.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::Uri;
use axum::routing::get;
use axum::Router;
use stoptoken::signal::stop_on_shutdown_signals;
use stoptoken::task::{current_token, sleep};
use stoptoken::tower::StopLayer;

/// Each request's budget.
const BUDGET: Duration = Duration::from_secs(10);
/// How long the shutdown waits for the requests in flight.
const DRAIN: Duration = Duration::from_secs(3);
const STEP: Duration = Duration::from_millis(100);

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let shutdown = stop_on_shutdown_signals()?;
    let report = Arc::new(Report::default());
    let app = Router::new()
        .route("/work", get(work))
        .route("/stubborn", get(stubborn))
        .with_state(report.clone())
        .layer(
            StopLayer::new(shutdown.token())
                .timeout(BUDGET)
                .grpc_timeout(true),
        );

    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let pid = std::process::id();
    println!("listening on http://{} (pid {pid})", listener.local_addr()?);

    // axum stops accepting at the stop, then waits for its connections; the
    // requests in flight see the same stop through their tokens.
    let token = shutdown.token();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { token.stopped().await })
            .await
    });
    shutdown.token().stopped().await;
    let reason = shutdown.stop_reason().cloned();
    println!("stop requested ({reason:?}): draining for at most {DRAIN:?}");
    let started = Instant::now();
    let drained = tokio::time::timeout(DRAIN, server).await;
    let drain_time = started.elapsed();
    report.print(drained.is_ok(), drain_time);
    // What did not drain is dropped with the runtime: its handlers' futures
    // are dropped, so their tokens say "request dropped".
    Ok(())
}

/// `GET /work?steps=N`: N steps of 100 ms, stopping early when asked to.
async fn work(State(report): State<Arc<Report>>, uri: Uri) -> String {
    let steps = steps(&uri);
    let mut outcome = report.start("work");
    for done in 0..steps {
        // `sleep` wakes early, with Err(Stopped), when the request's token stops.
        if sleep(STEP).await.is_err() {
            let reason = current_token().stop_reason().cloned();
            let answer = format!("stopped after {done} of {steps} steps: {reason:?}\n");
            outcome.finish(&answer);
            return answer;
        }
    }
    let answer = format!("done: {steps} steps\n");
    outcome.finish(&answer);
    answer
}

/// `GET /stubborn?steps=N`: never looks at its token.
async fn stubborn(State(report): State<Arc<Report>>, uri: Uri) -> String {
    let steps = steps(&uri);
    let mut outcome = report.start("stubborn");
    tokio::time::sleep(STEP * steps).await;
    let answer = format!("done: {steps} steps (token ignored)\n");
    outcome.finish(&answer);
    answer
}

/// The `steps=N` of the query; 10 without one.
fn steps(uri: &Uri) -> u32 {
    uri.query()
        .and_then(|query| query.strip_prefix("steps="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(10)
}

/// What became of the requests, for the report at exit.
#[derive(Default)]
struct Report {
    /// Outcome (first words of the answer, or how it ended) -> count.
    outcomes: Mutex<BTreeMap<String, usize>>,
    in_flight: Mutex<usize>,
}

impl Report {
    fn start(self: &Arc<Self>, route: &'static str) -> Outcome {
        *self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner) += 1;
        Outcome {
            report: self.clone(),
            route,
            answer: None,
        }
    }

    fn print(&self, clean: bool, drain_time: Duration) {
        let outcomes = self.outcomes.lock().unwrap_or_else(PoisonError::into_inner);
        let in_flight = *self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        println!("report:");
        for (outcome, count) in outcomes.iter() {
            println!("  {count:>4}  {outcome}");
        }
        println!("  {in_flight:>4}  still in flight");
        if clean {
            println!("drain: clean, in {drain_time:.1?}");
        } else {
            println!("drain: deadline of {DRAIN:?} passed with {in_flight} request(s) in flight");
        }
    }
}

/// One request's outcome, recorded when it is dropped: when the handler
/// returns, or when its future is dropped unfinished (the client went away).
struct Outcome {
    report: Arc<Report>,
    route: &'static str,
    answer: Option<String>,
}

impl Outcome {
    fn finish(&mut self, answer: &str) {
        println!("{}: {}", self.route, answer.trim_end());
        self.answer = Some(answer.to_owned());
    }
}

impl Drop for Outcome {
    fn drop(&mut self) {
        let key = match &self.answer {
            Some(answer) if answer.starts_with("done") => format!("{}: done", self.route),
            Some(answer) => {
                // "stopped after K of N steps: <reason>" -> "stopped: <reason>"
                let reason = answer.rsplit(": ").next().unwrap_or("?").trim_end();
                format!("{}: stopped: {reason}", self.route)
            }
            // Dropped unfinished: the handler's future is dropped with its
            // token current, after the layer requested the stop.
            None => format!(
                "{}: dropped unfinished: {:?}",
                self.route,
                current_token().stop_reason()
            ),
        };
        if self.answer.is_none() {
            println!("{key}");
        }
        *self
            .report
            .outcomes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default() += 1;
        *self
            .report
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner) -= 1;
    }
}

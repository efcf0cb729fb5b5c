//! `stoptoken::tower` (contract part 10) against real servers and clients on
//! loopback: hyper 1 (HTTP/1 and HTTP/2) servers and hyper-util clients, two
//! servers chained by a `DeadlineLayer` client, and tonic's gRPC server and
//! client (with a codec of our own: tonic's protobuf codegen needs `protoc`,
//! which this machine does not have; the gRPC framing and headers are tonic's).
//!
//! Every test is bounded (`TEST_BOUND`) and waits on channels, never on a
//! sleep: a handler says when it has started, and says what it saw.

#![cfg(feature = "tower")]

#[path = "../common/loopback.rs"]
mod loopback;

mod grpc;
mod rules;
mod servers;

use std::convert::Infallible;
use std::future::Future;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::uri::PathAndQuery;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tower::{Layer, Service, ServiceExt};

use loopback::{
    body_text, bounded, client, get, serve, text, Protocol, Server, TextCodec, TEST_BOUND,
};
use stoptoken::task::{current_token, with_stop_token};
use stoptoken::tower::{DeadlineLayer, DeadlineService, ResponseFuture, StopLayer, StopService};
use stoptoken::{StopReason, StopSource, StopToken};

/// How late a handler may see a deadline stop and still pass: the deadline
/// thread's wake-up, the tokio wake-up, a loaded 2-core machine (and
/// ThreadSanitizer in CI, which slows everything down several times). The
/// lateness measured is well under a millisecond (see `cargo run --release -p
/// stoptoken-bench --features tower --bin tower`); the bound only has to tell
/// "at the deadline" from "at some other time" (the budgets are 200 ms, the
/// fallbacks 10 s or never), and the times it is measured between are taken
/// on the server, so the network's transit is not counted in it.
const LATE: Duration = Duration::from_secs(1);

/// What the handlers answer.
type Reply = Result<Response<Full<Bytes>>, Infallible>;

/// What a handler saw of its request's token.
#[derive(Clone, Debug)]
struct Seen {
    reason: Option<StopReason>,
    deadline: Option<Instant>,
    /// When the handler saw the stop (or finished, if it did not wait).
    at: Instant,
    grpc_timeout: Option<String>,
}

impl Seen {
    fn now(token: &StopToken, grpc_timeout: Option<String>) -> Seen {
        Seen {
            reason: token.stop_reason().cloned(),
            deadline: token.deadline(),
            at: Instant::now(),
            grpc_timeout,
        }
    }
}

fn header_text<B>(request: &Request<B>, name: &str) -> Option<String> {
    let value = request.headers().get(name)?;
    Some(String::from_utf8_lossy(value.as_bytes()).into_owned())
}

/// A handler that says when it started, waits for its token's stop, and
/// reports what it saw (on `seen` and in its body).
fn waits_for_its_stop(
    started: mpsc::UnboundedSender<Instant>,
    seen: mpsc::UnboundedSender<Seen>,
) -> impl Service<
    Request<Incoming>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Future<Output = Reply> + Send,
> + Clone {
    tower::service_fn(move |request: Request<Incoming>| {
        let (started, seen) = (started.clone(), seen.clone());
        async move {
            let token = current_token();
            let _ = started.send(Instant::now());
            token.stopped().await;
            let report = Seen::now(&token, header_text(&request, "grpc-timeout"));
            let body = format!("{:?}", report.reason);
            let _ = seen.send(report);
            Ok::<_, Infallible>(text(body))
        }
    })
}

/// Asserts that the handler that reported `saw` was stopped by `deadline`
/// (the one its layer set), with `StopReason::Deadline`, and on time: at the
/// deadline, no later than [`LATE`].
fn assert_stopped_on_time(saw: &Seen, deadline: Instant) {
    assert_eq!(saw.reason, Some(StopReason::Deadline));
    assert!(saw.at >= deadline);
    assert!(
        saw.at - deadline < LATE,
        "the handler saw its stop {:?} after its deadline",
        saw.at - deadline
    );
}

/// `grpc-timeout` as a duration (a test-side parser, independent of the crate's).
fn parse_grpc_timeout(value: &str) -> Duration {
    let (digits, unit) = value.split_at(value.len() - 1);
    let count: u64 = digits.parse().expect("digits");
    assert!(digits.len() <= 8, "{value}");
    match unit {
        "H" => Duration::from_secs(count * 3600),
        "M" => Duration::from_secs(count * 60),
        "S" => Duration::from_secs(count),
        "m" => Duration::from_millis(count),
        "u" => Duration::from_micros(count),
        "n" => Duration::from_nanos(count),
        _ => panic!("unit of {value}"),
    }
}

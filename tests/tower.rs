//! `stoptoken::tower` (contract part 10) against real servers and clients on
//! loopback: hyper 1 (HTTP/1 and HTTP/2) servers and hyper-util clients, two
//! servers chained by a `DeadlineLayer` client, and tonic's gRPC server and
//! client (with a codec of our own: tonic's protobuf codegen needs `protoc`,
//! which this machine does not have; the gRPC framing and headers are tonic's).
//!
//! Every test is bounded (`TEST_BOUND`) and waits on channels, never on a
//! sleep: a handler says when it has started, and says what it saw.

#![cfg(feature = "tower")]

#[path = "common/loopback.rs"]
mod loopback;

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

use loopback::{body_text, bounded, client, get, serve, text, Protocol, TextCodec};
use stoptoken::task::{current_token, with_stop_token};
use stoptoken::tower::{DeadlineLayer, DeadlineService, ResponseFuture, StopLayer, StopService};
use stoptoken::{StopReason, StopSource, StopToken};

/// How late a handler may see a deadline stop and still pass: the deadline
/// thread's wake-up, the tokio wake-up, a loaded 2-core machine (and
/// ThreadSanitizer in CI). Measured lateness is well under a millisecond
/// (see `cargo run --release -p stoptoken-bench --features tower --bin tower`).
const LATE: Duration = Duration::from_millis(250);

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

#[test]
fn a_handler_behind_a_hyper_server_runs_with_a_child_of_the_server_token() {
    bounded(async {
        let shutdown = StopSource::new();
        let server_token = shutdown.token();
        let handler = tower::service_fn(move |_: Request<Incoming>| {
            let server_token = server_token.clone();
            async move {
                let token = current_token();
                let body = format!(
                    "child={} possible={} stopped={} deadline={:?}",
                    token != server_token,
                    token.stop_possible(),
                    token.stop_requested(),
                    token.deadline()
                );
                Ok::<_, Infallible>(text(body))
            }
        });
        let server = serve(
            Protocol::Http1,
            StopLayer::new(shutdown.token()).layer(handler),
        )
        .await;
        let response = client(Protocol::Http1)
            .request(get(&server.url("/"), &[]))
            .await
            .expect("a response");
        assert_eq!(response.status(), 200);
        assert_eq!(
            body_text(response).await,
            "child=true possible=true stopped=false deadline=None"
        );
    });
}

/// Reports the current token's reason from its `drop`: the handler's future
/// is dropped with the token current, after the stop was requested.
struct ReportOnDrop(mpsc::UnboundedSender<Option<StopReason>>);

impl Drop for ReportOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(current_token().stop_reason().cloned());
    }
}

/// A handler that never answers: it says it started, leaves a drop guard
/// and a spawned task watching its token, and waits forever.
fn never_answers(
    started: mpsc::UnboundedSender<()>,
    reasons: mpsc::UnboundedSender<Option<StopReason>>,
) -> impl Service<
    Request<Incoming>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Future<Output = Reply> + Send,
> + Clone {
    tower::service_fn(move |_: Request<Incoming>| {
        let (started, reasons) = (started.clone(), reasons.clone());
        async move {
            let _guard = ReportOnDrop(reasons.clone());
            let token = current_token();
            // Work the handler handed off: it outlives the handler's future.
            tokio::spawn(async move {
                token.stopped().await;
                let _ = reasons.send(token.stop_reason().cloned());
            });
            let _ = started.send(());
            std::future::pending::<Reply>().await
        }
    })
}

#[test]
fn a_client_that_disconnects_mid_request_stops_the_handler_with_request_dropped() {
    bounded(async {
        let (started_tx, mut started) = mpsc::unbounded_channel();
        let (reasons_tx, mut reasons) = mpsc::unbounded_channel();
        let shutdown = StopSource::new();
        let server = serve(
            Protocol::Http1,
            StopLayer::new(shutdown.token()).layer(never_answers(started_tx, reasons_tx)),
        )
        .await;

        let mut connection = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        connection
            .write_all(b"GET /slow HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        started.recv().await.expect("the handler started");
        drop(connection); // the client goes away mid-request

        let dropped = Some(StopReason::Message("request dropped"));
        // The drop guard (in the handler's future) and the spawned task both see it.
        assert_eq!(reasons.recv().await.unwrap(), dropped);
        assert_eq!(reasons.recv().await.unwrap(), dropped);
        assert!(!shutdown.stop_requested()); // it stays below the server token
    });
}

#[test]
fn a_cancelled_http2_stream_stops_its_handler_with_request_dropped_and_no_other() {
    bounded(async {
        let (started_tx, mut started) = mpsc::unbounded_channel();
        let (reasons_tx, mut reasons) = mpsc::unbounded_channel();
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let (waits_started_tx, mut waits_started) = mpsc::unbounded_channel();
        let shutdown = StopSource::new();
        let never = never_answers(started_tx, reasons_tx);
        let waits = waits_for_its_stop(waits_started_tx, seen_tx);
        let router = tower::service_fn(move |request: Request<Incoming>| {
            let (mut never, mut waits) = (never.clone(), waits.clone());
            async move {
                if request.uri().path() == "/never" {
                    never.call(request).await
                } else {
                    waits.call(request).await
                }
            }
        });
        let server = serve(
            Protocol::Http2,
            StopLayer::new(shutdown.token()).layer(router),
        )
        .await;
        let client = client::<Full<Bytes>>(Protocol::Http2);

        // Two streams on one connection; the client gives up on the first.
        let other = tokio::spawn(client.request(get(&server.url("/waits"), &[])));
        waits_started
            .recv()
            .await
            .expect("the second handler started");
        let abandoned = tokio::spawn(client.request(get(&server.url("/never"), &[])));
        started.recv().await.expect("the first handler started");
        abandoned.abort(); // drops the response future: RST_STREAM(CANCEL)

        let dropped = Some(StopReason::Message("request dropped"));
        assert_eq!(reasons.recv().await.unwrap(), dropped);
        assert_eq!(reasons.recv().await.unwrap(), dropped);

        // The other stream on the same connection is untouched until the shutdown.
        shutdown.request_stop_with(StopReason::Message("shutdown"));
        let report = seen.recv().await.unwrap();
        assert_eq!(report.reason, Some(StopReason::Message("shutdown")));
        let response = other.await.unwrap().expect("the other stream's response");
        assert_eq!(body_text(response).await, r#"Some(Message("shutdown"))"#);
    });
}

#[test]
fn a_budget_set_at_the_edge_stops_the_second_servers_handler_with_deadline_on_time() {
    const BUDGET: Duration = Duration::from_millis(500);
    bounded(async {
        let (started_tx, mut started) = mpsc::unbounded_channel();
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let backend_shutdown = StopSource::new();
        let backend = serve(
            Protocol::Http1,
            StopLayer::new(backend_shutdown.token())
                .grpc_timeout(true)
                .layer(waits_for_its_stop(started_tx, seen_tx)),
        )
        .await;

        // The edge: its own budget, and a client that passes it on over a
        // real connection.
        let (edge_tx, mut edge_saw) = mpsc::unbounded_channel();
        let backend_url = backend.url("/work");
        let backend_client = DeadlineLayer::new().layer(client::<Full<Bytes>>(Protocol::Http1));
        // Opens the pooled connection, so that the hop measured below is one
        // request, not a connection set-up (a spent budget: answered at once).
        let warm_up = get(&backend_url, &[("grpc-timeout", b"0n")]);
        let response = backend_client.clone().oneshot(warm_up).await.unwrap();
        assert_eq!(body_text(response).await, "Some(Deadline)");
        let _ = (started.recv().await, seen.recv().await);

        let edge_handler = tower::service_fn(move |_: Request<Incoming>| {
            let (client, url, edge_tx) =
                (backend_client.clone(), backend_url.clone(), edge_tx.clone());
            async move {
                let _ = edge_tx.send((current_token().deadline(), Instant::now()));
                let response = client.oneshot(get(&url, &[])).await.expect("the backend");
                Ok::<_, Infallible>(text(body_text(response).await))
            }
        });
        let edge_shutdown = StopSource::new();
        let edge = serve(
            Protocol::Http1,
            StopLayer::new(edge_shutdown.token())
                .timeout(BUDGET)
                .layer(edge_handler),
        )
        .await;

        let sent = Instant::now();
        let response = tokio::spawn(client(Protocol::Http1).request(get(&edge.url("/"), &[])));
        let (edge_deadline, edge_called) = edge_saw.recv().await.unwrap();
        let edge_deadline = edge_deadline.expect("the edge's budget");
        let backend_started = started.recv().await.expect("the backend's handler started");
        let backend_saw = seen.recv().await.unwrap();
        let hop = backend_started - edge_called;

        // The edge's deadline is its budget from when it got the request.
        assert!(edge_deadline >= sent + BUDGET && edge_deadline <= edge_called + BUDGET);
        // The header: what was left of the edge's budget, so no more than it.
        let header = backend_saw.grpc_timeout.as_deref().expect("a grpc-timeout");
        assert!(parse_grpc_timeout(header) <= BUDGET, "{header}");
        // The backend's deadline: the edge's, later by at most the hop's time
        // (the header is relative) and the header's rounding (< 1 us here).
        let backend_deadline = backend_saw.deadline.expect("the backend's budget");
        assert!(backend_deadline >= edge_deadline);
        assert!(
            backend_deadline <= edge_deadline + hop + Duration::from_micros(1),
            "{:?} later than the edge's, the hop took {hop:?}",
            backend_deadline - edge_deadline
        );
        // Stopped by that deadline, at the right time.
        assert_eq!(backend_saw.reason, Some(StopReason::Deadline));
        assert!(backend_saw.at >= backend_deadline);
        assert!(
            backend_saw.at - backend_deadline < LATE,
            "the backend saw its stop {:?} after its deadline",
            backend_saw.at - backend_deadline
        );
        // The edge answered with what the backend answered.
        let response = response.await.unwrap().expect("the edge's response");
        assert_eq!(body_text(response).await, "Some(Deadline)");
        assert!(!backend_shutdown.stop_requested() && !edge_shutdown.stop_requested());
    });
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

#[test]
fn server_shutdown_stops_the_handlers_in_flight_with_its_reason() {
    const IN_FLIGHT: usize = 3;
    bounded(async {
        let (started_tx, mut started) = mpsc::unbounded_channel();
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let shutdown = StopSource::new();
        let server = serve(
            Protocol::Http1,
            StopLayer::new(shutdown.token())
                .timeout(Duration::from_secs(3600))
                .layer(waits_for_its_stop(started_tx, seen_tx)),
        )
        .await;
        let client = client::<Full<Bytes>>(Protocol::Http1);
        let responses: Vec<_> = (0..IN_FLIGHT)
            .map(|_| tokio::spawn(client.request(get(&server.url("/"), &[]))))
            .collect();
        for _ in 0..IN_FLIGHT {
            started.recv().await.expect("a handler started");
        }

        shutdown.request_stop_with(StopReason::Message("shutdown"));

        for response in responses {
            let response = response.await.unwrap().expect("a response");
            assert_eq!(response.status(), 200);
            assert_eq!(body_text(response).await, r#"Some(Message("shutdown"))"#);
        }
        for _ in 0..IN_FLIGHT {
            assert_eq!(
                seen.recv().await.unwrap().reason,
                Some(StopReason::Message("shutdown"))
            );
        }
        // A request that arrives after the stop starts stopped.
        let late = client.request(get(&server.url("/"), &[])).await.unwrap();
        assert_eq!(body_text(late).await, r#"Some(Message("shutdown"))"#);
    });
}

#[test]
fn an_axum_router_behind_the_layer_drains_on_shutdown_with_every_handler_stopped() {
    bounded(async {
        let (started_tx, mut started) = mpsc::unbounded_channel::<()>();
        let shutdown = StopSource::new();
        let app = axum::Router::new()
            .route(
                "/slow",
                axum::routing::get(move || {
                    let started = started_tx.clone();
                    async move {
                        let token = current_token();
                        let _ = started.send(());
                        token.stopped().await;
                        format!("{:?}", token.stop_reason())
                    }
                }),
            )
            .layer(StopLayer::new(shutdown.token()).timeout(Duration::from_secs(3600)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/slow", listener.local_addr().unwrap());
        let token = shutdown.token();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { token.stopped().await })
                .await
        });
        let client = client::<Full<Bytes>>(Protocol::Http1);
        let responses: Vec<_> = (0..2)
            .map(|_| tokio::spawn(client.request(get(&url, &[]))))
            .collect();
        started.recv().await.unwrap();
        started.recv().await.unwrap();

        shutdown.request_stop_with(StopReason::Message("shutdown"));

        for response in responses {
            let response = response.await.unwrap().expect("a response");
            assert_eq!(body_text(response).await, r#"Some(Message("shutdown"))"#);
        }
        drop(client); // its pooled connections, which the drain waits for
        server.await.unwrap().expect("a clean drain");
    });
}

/// A gRPC server built from tonic's `server::Grpc` (what tonic's codegen
/// generates, written by hand): one unary method whose handler waits for its
/// token's stop and answers with the reason and the `grpc-timeout` it got.
fn slow_grpc_service(
    started: mpsc::UnboundedSender<()>,
    seen: mpsc::UnboundedSender<Seen>,
) -> impl Service<
    Request<Incoming>,
    Response = Response<tonic::body::Body>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<tonic::body::Body>, Infallible>> + Send,
> + Clone {
    tower::service_fn(move |request: Request<Incoming>| {
        let (started, seen) = (started.clone(), seen.clone());
        let handler = tower::service_fn(move |request: tonic::Request<String>| {
            let (started, seen) = (started.clone(), seen.clone());
            async move {
                let token = current_token();
                let header = request
                    .metadata()
                    .get("grpc-timeout")
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned);
                let _ = started.send(());
                token.stopped().await;
                let report = Seen::now(&token, header);
                let message = format!("{} stopped: {:?}", request.get_ref(), report.reason);
                let _ = seen.send(report);
                Ok::<_, tonic::Status>(tonic::Response::new(message))
            }
        });
        async move {
            let mut grpc = tonic::server::Grpc::new(TextCodec);
            Ok::<_, Infallible>(grpc.unary(handler, request).await)
        }
    })
}

const SLOW_METHOD: &str = "/stoptoken.test.Slow/Wait";

#[test]
fn a_tonic_service_behind_the_layer_is_stopped_by_a_tonic_clients_timeout() {
    const TIMEOUT: Duration = Duration::from_millis(200);
    bounded(async {
        let (started_tx, mut started) = mpsc::unbounded_channel();
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let shutdown = StopSource::new();
        let server = serve(
            Protocol::Http2,
            StopLayer::new(shutdown.token())
                .grpc_timeout(true)
                .layer(slow_grpc_service(started_tx, seen_tx)),
        )
        .await;
        let channel = client::<tonic::body::Body>(Protocol::Http2);
        let mut grpc = tonic::client::Grpc::with_origin(channel, server.url("").parse().unwrap());
        grpc.ready().await.unwrap();

        let mut request = tonic::Request::new("hello".to_owned());
        request.set_timeout(TIMEOUT); // tonic writes `grpc-timeout` itself
        let sent = Instant::now();
        let response = grpc
            .unary(request, PathAndQuery::from_static(SLOW_METHOD), TextCodec)
            .await
            .expect("a gRPC response");
        started.recv().await.unwrap();
        let saw = seen.recv().await.unwrap();

        assert_eq!(response.get_ref(), "hello stopped: Some(Deadline)");
        assert_eq!(saw.reason, Some(StopReason::Deadline));
        assert_eq!(
            parse_grpc_timeout(saw.grpc_timeout.as_deref().unwrap()),
            TIMEOUT
        );
        assert!(saw.at >= sent + TIMEOUT);
        assert!(saw.at - sent < TIMEOUT + LATE, "{:?}", saw.at - sent);
    });
}

#[test]
fn a_tonic_client_behind_a_deadline_layer_sends_the_current_tokens_budget() {
    const BUDGET: Duration = Duration::from_millis(200);
    bounded(async {
        let (started_tx, mut started) = mpsc::unbounded_channel();
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let shutdown = StopSource::new();
        let server = serve(
            Protocol::Http2,
            StopLayer::new(shutdown.token())
                .grpc_timeout(true)
                .layer(slow_grpc_service(started_tx, seen_tx)),
        )
        .await;
        let channel = DeadlineLayer::new().layer(client::<tonic::body::Body>(Protocol::Http2));
        let mut grpc = tonic::client::Grpc::with_origin(channel, server.url("").parse().unwrap());
        grpc.ready().await.unwrap();

        // The caller's budget: a deadline source, as a StopLayer would make.
        let budget = StopSource::after(BUDGET);
        let deadline = budget.deadline().unwrap();
        let response = with_stop_token(budget.token(), async {
            let request = tonic::Request::new("hello".to_owned()); // no timeout of its own
            grpc.unary(request, PathAndQuery::from_static(SLOW_METHOD), TextCodec)
                .await
        })
        .await
        .expect("a gRPC response");
        started.recv().await.unwrap();
        let saw = seen.recv().await.unwrap();

        assert_eq!(response.get_ref(), "hello stopped: Some(Deadline)");
        assert_eq!(saw.reason, Some(StopReason::Deadline));
        assert!(parse_grpc_timeout(saw.grpc_timeout.as_deref().unwrap()) <= BUDGET);
        assert!(saw.deadline.unwrap() >= deadline);
        assert!(saw.at >= deadline && saw.at - deadline < LATE);
    });
}

#[test]
fn malformed_grpc_timeout_headers_are_ignored_over_a_real_connection() {
    bounded(async {
        let handler = tower::service_fn(|_: Request<Incoming>| async {
            let left = current_token()
                .deadline()
                .map(|at| at.saturating_duration_since(Instant::now()));
            Ok::<_, Infallible>(text(match left {
                Some(left) if left > Duration::from_secs(30) => "long",
                Some(_) => "short",
                None => "none",
            }))
        });
        let shutdown = StopSource::new();
        let trusting = serve(
            Protocol::Http1,
            StopLayer::new(shutdown.token())
                .grpc_timeout(true)
                .layer(handler),
        )
        .await;
        let with_timeout = serve(
            Protocol::Http1,
            StopLayer::new(shutdown.token())
                .timeout(Duration::from_secs(60))
                .grpc_timeout(true)
                .layer(handler),
        )
        .await;
        let client = client::<Full<Bytes>>(Protocol::Http1);
        let malformed: &[&[u8]] = &[
            b"",
            b"m",
            b"5",
            b"123456789m",
            b"5x",
            b"5s",
            b"-5m",
            b"5 m",
            b"1.5S",
            b"\xff5m",
        ];
        for &value in malformed {
            let header: &[(&str, &[u8])] = &[("grpc-timeout", value)];
            let label = String::from_utf8_lossy(value);
            let response = client
                .request(get(&trusting.url("/"), header))
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{label:?}");
            assert_eq!(body_text(response).await, "none", "{label:?}");
            let response = client
                .request(get(&with_timeout.url("/"), header))
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{label:?}");
            assert_eq!(
                body_text(response).await,
                "long",
                "{label:?}: the timeout stays"
            );
        }
        // A valid header next to them is read.
        let valid: &[(&str, &[u8])] = &[("grpc-timeout", b"5S")];
        let response = client
            .request(get(&trusting.url("/"), valid))
            .await
            .unwrap();
        assert_eq!(body_text(response).await, "short");
        let response = client
            .request(get(&with_timeout.url("/"), valid))
            .await
            .unwrap();
        assert_eq!(body_text(response).await, "short"); // the earlier wins
    });
}

// The rules of the layers on a bare service (no network): budgets, the
// settings' defaults, the drop, and the shapes.

/// A service that answers with its current token.
fn token_echo() -> impl Service<Request<()>, Response = StopToken, Error = Infallible> + Clone {
    tower::service_fn(|_: Request<()>| async { Ok::<_, Infallible>(current_token()) })
}

fn token_for(layer: StopLayer, request: Request<()>) -> StopToken {
    futures::executor::block_on(layer.layer(token_echo()).oneshot(request)).unwrap()
}

fn with_header(value: &str) -> Request<()> {
    Request::builder()
        .header("grpc-timeout", value)
        .body(())
        .unwrap()
}

fn time_left(token: &StopToken) -> Option<Duration> {
    token
        .deadline()
        .map(|at| at.saturating_duration_since(Instant::now()))
}

#[test]
fn the_earlier_of_timeout_and_header_wins() {
    let server = StopSource::new();
    let hour = Duration::from_secs(3600);
    let layer = StopLayer::new(server.token()).grpc_timeout(true);

    let token = token_for(
        layer.clone().timeout(Duration::from_secs(1)),
        with_header("1H"),
    );
    assert!(time_left(&token).unwrap() <= Duration::from_secs(1));
    let token = token_for(layer.clone().timeout(hour), with_header("2S"));
    assert!(time_left(&token).unwrap() <= Duration::from_secs(2));
    let token = token_for(layer.clone(), with_header("2S"));
    assert!(time_left(&token).unwrap() > Duration::from_secs(1));
    assert!(token_for(layer, Request::new(())).deadline().is_none());
}

#[test]
fn the_header_is_ignored_by_default_and_the_last_setting_wins() {
    let server = StopSource::new();
    let ignored = token_for(StopLayer::new(server.token()), with_header("5S"));
    assert_eq!(ignored.deadline(), None);
    let off_again = StopLayer::new(server.token())
        .grpc_timeout(true)
        .grpc_timeout(false);
    assert_eq!(token_for(off_again, with_header("5S")).deadline(), None);
    let shorter = StopLayer::new(server.token())
        .timeout(Duration::from_secs(3600))
        .timeout(Duration::from_secs(2));
    assert!(time_left(&token_for(shorter, Request::new(()))).unwrap() <= Duration::from_secs(2));
}

#[test]
fn a_zero_budget_starts_the_request_stopped_with_deadline() {
    let server = StopSource::new();
    let layer = StopLayer::new(server.token()).grpc_timeout(true);
    let token = token_for(layer, with_header("0n"));
    assert_eq!(token.stop_reason(), Some(&StopReason::Deadline));
}

#[test]
fn a_budget_fires_with_deadline_and_the_server_token_keeps_going() {
    let server = StopSource::new();
    let token = token_for(
        StopLayer::new(server.token()).timeout(Duration::from_millis(20)),
        Request::new(()),
    );
    assert!(token.wait()); // the deadline thread stops it
    assert_eq!(token.stop_reason(), Some(&StopReason::Deadline));
    assert!(!server.stop_requested());
}

#[test]
fn a_completed_request_is_not_stopped_and_keeps_the_server_link() {
    let server = StopSource::new();
    let token = token_for(StopLayer::new(server.token()), Request::new(()));
    assert!(!token.stop_requested()); // completion is no stop
    assert!(token.stop_possible());
    server.request_stop_with(StopReason::Message("later"));
    assert_eq!(token.stop_reason(), Some(&StopReason::Message("later")));
}

#[test]
fn a_response_future_dropped_before_its_first_poll_stops_with_request_dropped() {
    let server = StopSource::new();
    let (tx, rx) = std::sync::mpsc::channel();
    // The closure of `service_fn` runs in `call`, where the token is current.
    let mut service =
        StopLayer::new(server.token()).layer(tower::service_fn(move |_: Request<()>| {
            let _ = tx.send(current_token());
            async { Ok::<_, Infallible>(()) }
        }));
    drop(service.call(Request::new(()))); // never polled
    let token = rx.recv().unwrap();
    assert_eq!(
        token.stop_reason(),
        Some(&StopReason::Message("request dropped"))
    );
    assert!(!server.stop_requested());
}

#[test]
fn work_done_in_call_sees_the_requests_token() {
    let server = StopSource::new();
    let mut service = StopLayer::new(server.token()).layer(tower::service_fn(|_: Request<()>| {
        let in_call = current_token();
        async move { Ok::<_, Infallible>(in_call == current_token()) }
    }));
    let same = futures::executor::block_on(service.call(Request::new(()))).unwrap();
    assert!(same);
}

#[test]
fn a_deadline_layer_keeps_a_shorter_header_and_replaces_a_longer_or_malformed_one() {
    let sent = |existing: Option<&str>, budget: Option<Duration>| -> Option<String> {
        let echo = tower::service_fn(|request: Request<()>| async move {
            Ok::<_, Infallible>(header_text(&request, "grpc-timeout"))
        });
        let client = DeadlineLayer::new().layer(echo);
        let mut request = Request::new(());
        if let Some(value) = existing {
            request
                .headers_mut()
                .insert("grpc-timeout", value.parse().unwrap());
        }
        let call = client.oneshot(request);
        let outcome = match budget {
            Some(budget) => {
                let source = StopSource::after(budget);
                futures::executor::block_on(with_stop_token(source.token(), call))
            }
            None => futures::executor::block_on(call),
        };
        outcome.unwrap()
    };
    let hour = Some(Duration::from_secs(3600));
    assert_eq!(sent(None, None), None);
    assert_eq!(sent(Some("7S"), None).as_deref(), Some("7S")); // no deadline: untouched
    assert_eq!(sent(Some("7S"), hour).as_deref(), Some("7S")); // shorter: kept
    let replaced = sent(Some("2H"), hour).unwrap();
    assert!(replaced.ends_with('m') && parse_grpc_timeout(&replaced) <= Duration::from_secs(3600));
    let replaced = sent(Some("soon"), hour).unwrap();
    assert!(parse_grpc_timeout(&replaced) <= Duration::from_secs(3600));
}

#[test]
fn a_deadline_layer_header_is_never_less_than_the_time_left_nor_more_than_the_budget() {
    let echo = tower::service_fn(|request: Request<()>| async move {
        Ok::<_, Infallible>(header_text(&request, "grpc-timeout").unwrap())
    });
    let client = DeadlineLayer::new().layer(echo);
    for budget in [
        Duration::from_micros(1_500),
        Duration::from_millis(50),
        Duration::from_millis(150),
        Duration::from_secs(120),
        Duration::from_secs(30 * 3600),
    ] {
        let source = StopSource::after(budget);
        let deadline = source.deadline().unwrap();
        let header = futures::executor::block_on(with_stop_token(
            source.token(),
            client.clone().oneshot(Request::new(())),
        ))
        .unwrap();
        let after_call = Instant::now();
        let sent = parse_grpc_timeout(&header);
        assert!(sent <= budget, "{budget:?}: {header}");
        assert!(
            sent >= deadline.saturating_duration_since(after_call),
            "{budget:?}: {header}"
        );
        if budget < Duration::from_secs(27 * 3600) {
            assert!(header.ends_with(['n', 'u', 'm']), "{header}");
        }
    }
}

#[test]
fn a_passed_deadline_is_sent_as_zero() {
    let echo = tower::service_fn(|request: Request<()>| async move {
        Ok::<_, Infallible>(header_text(&request, "grpc-timeout"))
    });
    let client = DeadlineLayer::new().layer(echo);
    // Made after its deadline: stopped at once, and `deadline()` is `None`.
    let spent = StopSource::with_deadline(Instant::now() - Duration::from_millis(1));
    assert_eq!(spent.deadline(), None);
    let header = futures::executor::block_on(with_stop_token(
        spent.token(),
        client.oneshot(Request::new(())),
    ))
    .unwrap();
    assert_eq!(header.as_deref(), Some("0n"));
}

/// A service that is `Clone + Send + Sync` with a `Send` future, to check
/// that the layers keep those.
#[derive(Clone)]
struct Ready;

impl Service<Request<()>> for Ready {
    type Response = ();
    type Error = Infallible;
    type Future = std::future::Ready<Result<(), Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        std::future::ready(Ok(()))
    }
}

#[test]
fn services_are_clone_and_futures_send_when_the_inner_ones_are() {
    fn clone_send_sync<T: Clone + Send + Sync + 'static>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let stop: StopService<Ready> = StopLayer::new(StopSource::new().token()).layer(Ready);
    let deadline: DeadlineService<StopService<Ready>> = DeadlineLayer::new().layer(stop.clone());
    clone_send_sync(&stop);
    clone_send_sync(&deadline);
    clone_send_sync(&StopLayer::new(StopToken::default()));
    clone_send_sync(&DeadlineLayer::new());
    let mut stop = stop;
    let future: ResponseFuture<_> = stop.call(Request::new(()));
    send(&future);
    let mut deadline = deadline;
    send(&deadline.call(Request::new(())));
    futures::executor::block_on(future).unwrap();
}

/// A `!Send` future stays usable behind the layer (on a local executor).
#[test]
fn a_local_future_behind_the_layer_runs_on_a_local_executor() {
    let local = tower::service_fn(|_: Request<()>| {
        let not_send = std::rc::Rc::new(());
        async move { Ok::<_, Infallible>(std::rc::Rc::strong_count(&not_send)) }
    });
    let service = StopLayer::new(StopSource::new().token()).layer(local);
    let count = futures::executor::block_on(service.oneshot(Request::new(()))).unwrap();
    assert_eq!(count, 1);
}

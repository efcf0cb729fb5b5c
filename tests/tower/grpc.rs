//! tonic's gRPC server and client, with the `grpc-timeout` header both ways.

use super::*;

/// A gRPC server built from tonic's `server::Grpc` (what tonic's codegen
/// generates, written by hand): one unary method whose handler waits for its
/// token's stop and answers with the reason and the `grpc-timeout` it got.
fn slow_grpc_service(
    started: mpsc::UnboundedSender<Instant>,
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
                let _ = started.send(Instant::now());
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

/// A server running [`slow_grpc_service`] behind a `StopLayer` that trusts
/// `grpc-timeout`, with its shutdown source (keep it: its drop makes the
/// handlers' stops impossible) and the handler's `started` and `seen` reports.
async fn slow_grpc_server() -> (
    Server,
    StopSource,
    mpsc::UnboundedReceiver<Instant>,
    mpsc::UnboundedReceiver<Seen>,
) {
    let (started_tx, started) = mpsc::unbounded_channel();
    let (seen_tx, seen) = mpsc::unbounded_channel();
    let shutdown = StopSource::new();
    let server = serve(
        Protocol::Http2,
        StopLayer::new(shutdown.token())
            .grpc_timeout(true)
            .layer(slow_grpc_service(started_tx, seen_tx)),
    )
    .await;
    (server, shutdown, started, seen)
}

#[test]
fn a_tonic_service_behind_the_layer_is_stopped_by_a_tonic_clients_timeout() {
    const TIMEOUT: Duration = Duration::from_millis(200);
    bounded(async {
        let (server, _shutdown, mut started, mut seen) = slow_grpc_server().await;
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
        let handler_started = started.recv().await.unwrap();
        let saw = seen.recv().await.unwrap();

        assert_eq!(response.get_ref(), "hello stopped: Some(Deadline)");
        assert_eq!(
            parse_grpc_timeout(saw.grpc_timeout.as_deref().unwrap()),
            TIMEOUT
        );
        // The server's deadline: the header's budget from when the layer got
        // the request, which is after `sent` and before the handler started
        // (the transit's time is not the layer's to keep).
        let deadline = saw.deadline.expect("the request's deadline");
        assert!(deadline >= sent + TIMEOUT && deadline <= handler_started + TIMEOUT);
        assert_stopped_on_time(&saw, deadline);
    });
}

#[test]
fn a_tonic_client_behind_a_deadline_layer_sends_the_current_tokens_budget() {
    const BUDGET: Duration = Duration::from_millis(200);
    bounded(async {
        let (server, _shutdown, mut started, mut seen) = slow_grpc_server().await;
        let channel = DeadlineLayer::new().layer(client::<tonic::body::Body>(Protocol::Http2));
        let mut grpc = tonic::client::Grpc::with_origin(channel, server.url("").parse().unwrap());
        grpc.ready().await.unwrap();

        // The caller's budget: a deadline source, as a StopLayer would make.
        let budget = StopSource::after(BUDGET);
        let deadline = budget.deadline().unwrap();
        let sent = Instant::now();
        let response = with_stop_token(budget.token(), async {
            let request = tonic::Request::new("hello".to_owned()); // no timeout of its own
            grpc.unary(request, PathAndQuery::from_static(SLOW_METHOD), TextCodec)
                .await
        })
        .await
        .expect("a gRPC response");
        let handler_started = started.recv().await.unwrap();
        let saw = seen.recv().await.unwrap();

        assert_eq!(response.get_ref(), "hello stopped: Some(Deadline)");
        assert!(parse_grpc_timeout(saw.grpc_timeout.as_deref().unwrap()) <= BUDGET);
        // The server's deadline: the caller's, later by at most the transit
        // (the header is relative: what was left when it was written, counted
        // again from the server's receipt) and the header's rounding.
        let server_deadline = saw.deadline.expect("the request's deadline");
        assert!(server_deadline >= deadline);
        assert!(
            server_deadline <= deadline + (handler_started - sent) + Duration::from_micros(1),
            "{:?} later than the caller's, the request took {:?} to reach the handler",
            server_deadline - deadline,
            handler_started - sent
        );
        assert_stopped_on_time(&saw, server_deadline);
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

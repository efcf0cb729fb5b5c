//! hyper 1 servers (HTTP/1 and HTTP/2) and clients, two servers chained by a
//! `DeadlineLayer` client, and an axum router behind the layer.

use super::*;

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
        assert_stopped_on_time(&backend_saw, backend_deadline);
        // The edge answered with what the backend answered.
        let response = response.await.unwrap().expect("the edge's response");
        assert_eq!(body_text(response).await, "Some(Deadline)");
        assert!(!backend_shutdown.stop_requested() && !edge_shutdown.stop_requested());
    });
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

//! The rules of the layers on a bare service (no network): budgets, the
//! settings' defaults, the drop, and the shapes.

use super::*;

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
    // The deadline thread stops it (bounded: a broken timer fails the test).
    assert!(token.wait_timeout(TEST_BOUND));
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

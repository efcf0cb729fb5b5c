//! `StopLayer`: a child token per request, current while the request runs.
//!
//! The protocol, for each call of a [`StopService`]:
//!
//! 1. The budget: the earlier of `now + timeout` and, when enabled, `now +` a
//!    valid `grpc-timeout` header (a malformed one counts as absent).
//! 2. The request's source: `StopSource::child_with_deadline(&server, at)` with
//!    a budget, `StopSource::child_of(&server)` without. The core does the
//!    rest: the server's stop reaches the request with its reason, the shared
//!    deadline thread stops it with `Deadline`, and the request's token alone
//!    keeps both links (they belong to the state).
//! 3. The inner service's `call` runs with the request's token current (a
//!    service that does work in `call` sees it too); the future it returns is
//!    wrapped in a [`ResponseFuture`], which makes the token current for each
//!    of its polls, as `task::with_stop_token` does.
//! 4. Completion: the inner future is dropped in the poll that completes it,
//!    with the token current; the source goes with the `ResponseFuture`,
//!    without a stop.
//! 5. Drop before completion (the server dropped the request: the client went
//!    away, the connection broke): the stop is requested with
//!    `Message("request dropped")` *first*, then the inner future is dropped
//!    with the token current. So whatever the handler left behind (a task
//!    spawned with a child token, a drop guard that reads `current_token()`)
//!    sees why.
//!
//! Nothing here aborts anything: a stop is a request, the handler decides.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::Request;
use tower_layer::Layer;
use tower_service::Service;

use super::grpc_timeout;
use crate::guard::request_stop_with_in_drop;
use crate::task::current::scoped;
use crate::{StopReason, StopSource, StopToken};

/// The reason of the stop of a request whose response future was dropped
/// before it completed.
const REQUEST_DROPPED: StopReason = StopReason::Message("request dropped");

/// A [`Layer`] that runs each request with a fresh child token of a server's
/// token as the [current token](crate::task::current_token).
///
/// A request's token is stopped:
///
/// - when the server's token stops, with its reason (a shutdown);
/// - when the request's budget runs out, with [`StopReason::Deadline`]: the
///   [`timeout`](StopLayer::timeout), and with
///   [`grpc_timeout(true)`](StopLayer::grpc_timeout) a valid `grpc-timeout`
///   request header; the earlier of the two wins;
/// - when the response future is dropped before it completes (the client went
///   away, the connection broke), with `StopReason::Message("request dropped")`,
///   requested before the handler's future is dropped so that what it leaves
///   behind sees the reason.
///
/// The layer never aborts the handler, never answers for it, and never fails
/// a request: a malformed `grpc-timeout` (not 1 to 8 digits and one of the
/// units `H M S m u n`) is ignored. A handler reads its token with
/// [`task::current_token()`](crate::task::current_token), checks it between
/// steps, races a step with [`task::until_stopped`](crate::task::until_stopped)
/// or passes it on: its [`deadline()`](StopToken::deadline) is the request's
/// budget, which [`DeadlineLayer`](super::DeadlineLayer) sends on to the
/// services the handler calls.
///
/// The token covers the response *future*: a streaming body that outlives it
/// and holds the token still sees the server's stop and the deadline (the
/// links belong to the token's state), not a later drop.
///
/// Cost per request: one child state (one allocation, a link in the server
/// token's list), plus one entry in the deadline thread's map when there is a
/// budget; no task, no timer of the runtime.
///
/// # Examples
///
/// ```
/// use std::convert::Infallible;
/// use std::time::Duration;
/// use http::{Request, Response};
/// use stoptoken::task::current_token;
/// use stoptoken::tower::StopLayer;
/// use stoptoken::{StopReason, StopSource};
/// use tower::{Layer, ServiceExt};
///
/// let shutdown = StopSource::new();
/// let layer = StopLayer::new(shutdown.token())
///     .timeout(Duration::from_secs(30))
///     .grpc_timeout(true);
/// let service = layer.layer(tower::service_fn(|_request: Request<()>| async {
///     let token = current_token(); // this request's token
///     Ok::<_, Infallible>(Response::new(token.deadline()))
/// }));
///
/// // The client's budget (50 ms) is earlier than the layer's (30 s): it wins.
/// let request = Request::builder().header("grpc-timeout", "50m").body(()).unwrap();
/// let response = futures::executor::block_on(service.clone().oneshot(request)).unwrap();
/// let deadline = response.into_body().unwrap();
/// assert!(deadline <= std::time::Instant::now() + Duration::from_millis(50));
///
/// // A shutdown reaches the requests in flight, with its reason.
/// let request = Request::new(());
/// shutdown.request_stop_with(StopReason::Message("shutdown"));
/// let service = StopLayer::new(shutdown.token()).layer(tower::service_fn(|_: Request<()>| async {
///     Ok::<_, Infallible>(Response::new(current_token().stop_reason().cloned()))
/// }));
/// let response = futures::executor::block_on(service.oneshot(request)).unwrap();
/// assert_eq!(response.into_body(), Some(StopReason::Message("shutdown")));
/// ```
#[derive(Clone, Debug)]
pub struct StopLayer {
    token: StopToken,
    timeout: Option<Duration>,
    grpc_timeout: bool,
}

impl StopLayer {
    /// A layer whose requests are children of `token` (the server's: stop it
    /// to stop every request in flight), with no budget and the
    /// `grpc-timeout` header ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::tower::StopLayer;
    /// use stoptoken::StopSource;
    ///
    /// let shutdown = StopSource::new();
    /// let layer = StopLayer::new(shutdown.token());
    /// # drop(layer);
    /// ```
    #[must_use]
    pub fn new(token: StopToken) -> StopLayer {
        StopLayer {
            token,
            timeout: None,
            grpc_timeout: false,
        }
    }

    /// Gives each request a budget of `timeout` from the moment the layer's
    /// service is called: its token is then stopped with
    /// [`StopReason::Deadline`]. A later call replaces the timeout; a
    /// timeout too long to represent as an [`Instant`] never fires.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use stoptoken::tower::StopLayer;
    /// use stoptoken::StopSource;
    ///
    /// let layer = StopLayer::new(StopSource::new().token()).timeout(Duration::from_secs(10));
    /// # drop(layer);
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> StopLayer {
        self.timeout = Some(timeout);
        self
    }

    /// Whether a request's `grpc-timeout` header (gRPC wire format: 1 to 8
    /// digits and a unit, `H M S m u n`) sets its budget too; off by default,
    /// the last call wins. With a [`timeout`](StopLayer::timeout) as well, the
    /// earlier of the two wins; a malformed header is ignored.
    ///
    /// Enable it where the clients are trusted to say how long they wait (a
    /// gRPC client sends the header from its call's deadline): a client can
    /// only shorten its own request's budget, not lengthen the `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::tower::StopLayer;
    /// use stoptoken::StopSource;
    ///
    /// let layer = StopLayer::new(StopSource::new().token()).grpc_timeout(true);
    /// # drop(layer);
    /// ```
    #[must_use]
    pub fn grpc_timeout(mut self, enabled: bool) -> StopLayer {
        self.grpc_timeout = enabled;
        self
    }
}

impl<S> Layer<S> for StopLayer {
    type Service = StopService<S>;

    fn layer(&self, inner: S) -> StopService<S> {
        StopService {
            inner,
            token: self.token.clone(),
            timeout: self.timeout,
            grpc_timeout: self.grpc_timeout,
        }
    }
}

/// The service of a [`StopLayer`]: runs each request of `S` with its own
/// child token as the current token.
///
/// `Clone` when `S` is (the clones share the server's token), and its
/// [`ResponseFuture`] is `Send` when `S::Future` is.
///
/// # Examples
///
/// ```
/// use std::convert::Infallible;
/// use http::{Request, Response};
/// use stoptoken::task::current_token;
/// use stoptoken::tower::{StopLayer, StopService};
/// use stoptoken::StopSource;
/// use tower::{Layer, ServiceExt};
///
/// let server = StopSource::new();
/// let service: StopService<_> = StopLayer::new(server.token()).layer(tower::service_fn(
///     |_: Request<()>| async { Ok::<_, Infallible>(Response::new(current_token().stop_possible())) },
/// ));
/// let response = futures::executor::block_on(service.oneshot(Request::new(()))).unwrap();
/// assert!(*response.body()); // a child of the server's token
/// ```
#[derive(Clone, Debug)]
pub struct StopService<S> {
    inner: S,
    token: StopToken,
    timeout: Option<Duration>,
    grpc_timeout: bool,
}

impl<S> StopService<S> {
    /// The instant at which `request`'s budget runs out, if it has one.
    fn deadline<B>(&self, request: &Request<B>) -> Option<Instant> {
        let header = if self.grpc_timeout {
            request
                .headers()
                .get(&grpc_timeout::HEADER)
                .and_then(|value| grpc_timeout::parse(value.as_bytes()))
        } else {
            None
        };
        let budget = match (self.timeout, header) {
            (Some(timeout), Some(header)) => Some(timeout.min(header)),
            (timeout, header) => timeout.or(header),
        }?;
        Instant::now().checked_add(budget)
    }
}

impl<S, B> Service<Request<B>> for StopService<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> ResponseFuture<S::Future> {
        let source = match self.deadline(&request) {
            Some(at) => StopSource::child_with_deadline(&self.token, at),
            None => StopSource::child_of(&self.token),
        };
        let mut token = Some(source.token());
        let inner = &mut self.inner;
        let future = scoped(&mut token, || inner.call(request));
        ResponseFuture {
            future: Some(future),
            token,
            source,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of a [`StopService`]: the inner service's future,
    /// polled (and dropped) with the request's token as the current token.
    ///
    /// Dropped before it completes, it first requests the request's stop
    /// with `StopReason::Message("request dropped")`, then drops the inner
    /// future. If a stop callback panics there, the panic propagates from the
    /// drop (as from any `request_stop`), or, while the thread is already
    /// unwinding, is reported on standard error and dropped.
    ///
    /// # Panics
    ///
    /// If polled again after it has completed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use std::future::Future;
    /// use std::task::{Context, Waker};
    /// use http::{Request, Response};
    /// use stoptoken::task::current_token;
    /// use stoptoken::tower::StopLayer;
    /// use stoptoken::{StopReason, StopSource};
    /// use tower::{Layer, Service};
    ///
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let mut service = StopLayer::new(StopSource::new().token()).layer(tower::service_fn(
    ///     move |_: Request<()>| {
    ///         let tx = tx.clone();
    ///         async move {
    ///             let _ = tx.send(current_token()); // e.g. handed to a spawned task
    ///             std::future::pending::<Result<Response<()>, Infallible>>().await
    ///         }
    ///     },
    /// ));
    /// let mut response = Box::pin(service.call(Request::new(())));
    /// assert!(response.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
    /// drop(response); // the client went away
    /// let token = rx.recv().unwrap();
    /// assert_eq!(token.stop_reason(), Some(&StopReason::Message("request dropped")));
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F> {
        // Invariant: `None` once it has completed (dropped in that poll).
        #[pin]
        future: Option<F>,
        // The request's token, current for each poll; `None` while installed.
        token: Option<StopToken>,
        source: StopSource,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let mut future = this.future;
            if future.is_some() {
                request_stop_with_in_drop(this.source, REQUEST_DROPPED, "a StopLayer response future");
                scoped(this.token, || future.set(None));
            }
        }
    }
}

impl<F: Future> Future for ResponseFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let mut future = this.future;
        scoped(this.token, || {
            let Some(running) = future.as_mut().as_pin_mut() else {
                panic!("stoptoken::tower::ResponseFuture polled after it completed");
            };
            let output = running.poll(cx);
            if output.is_ready() {
                // Dropped in place (it is pinned), while the token is current.
                future.set(None);
            }
            output
        })
    }
}

impl<F> core::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("completed", &self.future.is_none())
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

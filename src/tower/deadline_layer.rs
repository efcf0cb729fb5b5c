//! `DeadlineLayer`: the client side of a request's budget, the `grpc-timeout`
//! header written from the current token's deadline.
//!
//! Each call reads [`current_token()`](crate::task::current_token) (so the
//! service must be called from inside the request being served, which is
//! where a handler calls its clients) and its [`deadline()`](StopToken::deadline),
//! the earliest deadline linked into the token's state at any depth: the
//! `StopLayer` budget of the request being served, or any deadline source
//! the caller made. The time left is written rounded up to its unit, so the
//! next server never stops sooner than this one would; it keeps a
//! `grpc-timeout` the request already carries if that one is shorter (a
//! tonic call's own timeout, say).

use core::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderValue, Request};
use tower_layer::Layer;
use tower_service::Service;

use super::grpc_timeout;
use crate::task::current_token;
use crate::StopToken;

/// A [`Layer`] for clients that sets the `grpc-timeout` header of each
/// outgoing [`http::Request`] from the current token's deadline, so that a
/// budget set at the edge follows a request through every service it calls.
///
/// The value is the time left until [`current_token()`](crate::task::current_token)'s
/// [`deadline()`](StopToken::deadline), rounded up to its unit: nanoseconds
/// below 0.1 s, microseconds below 100 s, milliseconds below about 27.7 hours
/// (seconds, minutes or hours beyond), never more than 8 digits. So it is
/// never less than the time left, and at most one unit more. A deadline that
/// has passed is sent as `0n`, and so is the budget of a token already stopped
/// by a deadline whose instant it no longer reports. No deadline, no header
/// (an existing one is left as it is); an existing header that is shorter
/// than the time left is kept, a longer or malformed one replaced.
///
/// Its service's future is the inner one's, unchanged.
///
/// # Examples
///
/// ```
/// use std::convert::Infallible;
/// use std::time::Duration;
/// use http::{Request, Response};
/// use stoptoken::task::with_stop_token;
/// use stoptoken::tower::DeadlineLayer;
/// use stoptoken::StopSource;
/// use tower::{Layer, ServiceExt};
///
/// // A client that shows the header it would send.
/// let client = DeadlineLayer::new().layer(tower::service_fn(|request: Request<()>| async move {
///     Ok::<_, Infallible>(Response::new(request.headers().get("grpc-timeout").cloned()))
/// }));
///
/// let budget = StopSource::after(Duration::from_millis(50)); // say, a StopLayer's
/// let sent = futures::executor::block_on(with_stop_token(budget.token(), async {
///     client.clone().oneshot(Request::new(())).await.unwrap().into_body()
/// }))
/// .unwrap();
/// let nanos: u64 = sent.to_str().unwrap().trim_end_matches('n').parse().unwrap();
/// assert!(nanos <= 50_000_000); // what is left of the 50 ms
///
/// // Outside any deadline: no header.
/// let sent = futures::executor::block_on(client.oneshot(Request::new(()))).unwrap();
/// assert_eq!(sent.into_body(), None);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct DeadlineLayer {
    _private: (),
}

impl DeadlineLayer {
    /// The layer; it has no settings.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::tower::DeadlineLayer;
    /// use tower::Layer;
    ///
    /// let client = DeadlineLayer::new().layer(tower::service_fn(|request: http::Request<()>| async {
    ///     Ok::<_, std::convert::Infallible>(request)
    /// }));
    /// # drop(client);
    /// ```
    #[must_use]
    pub fn new() -> DeadlineLayer {
        DeadlineLayer { _private: () }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = DeadlineService<S>;

    fn layer(&self, inner: S) -> DeadlineService<S> {
        DeadlineService { inner }
    }
}

/// The service of a [`DeadlineLayer`]: sets `grpc-timeout` on each request
/// from the current token's deadline, then calls `S`.
///
/// `Clone` when `S` is; its future is `S::Future`.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use http::Request;
/// use stoptoken::task::with_stop_token;
/// use stoptoken::tower::{DeadlineLayer, DeadlineService};
/// use stoptoken::StopSource;
/// use tower::{Layer, ServiceExt};
///
/// let echo = tower::service_fn(|request: Request<()>| async {
///     Ok::<_, std::convert::Infallible>(request)
/// });
/// let client: DeadlineService<_> = DeadlineLayer::new().layer(echo);
/// let budget = StopSource::with_deadline(Instant::now() + Duration::from_secs(5));
/// let sent = futures::executor::block_on(with_stop_token(budget.token(), client.oneshot(Request::new(()))))
///     .unwrap();
/// let value = sent.headers()["grpc-timeout"].to_str().unwrap();
/// assert!(value.ends_with('u')); // microseconds between 0.1 s and 100 s
/// ```
#[derive(Clone, Debug)]
pub struct DeadlineService<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for DeadlineService<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> S::Future {
        if let Some(left) = time_left(&current_token()) {
            set_budget(request.headers_mut(), left);
        }
        self.inner.call(request)
    }
}

/// The time left until `token`'s deadline: zero once it has passed, also when
/// the token was stopped by a deadline it no longer reports (one that had
/// passed when its state was made); `None` without a deadline.
fn time_left(token: &StopToken) -> Option<Duration> {
    match token.deadline() {
        Some(at) => Some(at.saturating_duration_since(Instant::now())),
        None if token
            .stop_reason()
            .is_some_and(|reason| reason.is_deadline()) =>
        {
            Some(Duration::ZERO)
        }
        None => None,
    }
}

/// Writes `left` as the `grpc-timeout` of `headers`, unless they carry a
/// valid one that is no longer.
fn set_budget(headers: &mut HeaderMap, left: Duration) {
    let shorter = headers
        .get(&grpc_timeout::HEADER)
        .and_then(|value| grpc_timeout::parse(value.as_bytes()))
        .is_some_and(|theirs| theirs <= left);
    if shorter {
        return;
    }
    // Always valid (ASCII digits and a unit); the check costs nothing.
    if let Ok(value) = HeaderValue::from_bytes(grpc_timeout::format(left).as_bytes()) {
        headers.insert(grpc_timeout::HEADER.clone(), value);
    }
}

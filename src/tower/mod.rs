//! Stops across the request boundary: a token per HTTP or gRPC request, and a
//! time budget that travels with the request (feature `tower`).
//!
//! - [`StopLayer`] (servers): each request runs with a fresh child token of the
//!   server's token as its [current token](crate::task::current_token). It is
//!   stopped by the server's stop (its reason), by the request's budget (a
//!   [`timeout`](StopLayer::timeout) and, when
//!   [enabled](StopLayer::grpc_timeout), the `grpc-timeout` header; reason
//!   [`Deadline`](crate::StopReason::Deadline)), and by the drop of the
//!   response future before it completes, which is how a server says the
//!   client went away (reason `Message("request dropped")`).
//! - [`DeadlineLayer`] (clients): sets `grpc-timeout` on each outgoing request
//!   from the current token's [`deadline()`](crate::StopToken::deadline), so a
//!   budget set at the edge reaches every service the request calls, over any
//!   number of hops, as Go's `context.Context` deadlines do.
//!
//! Both are plain [`tower_layer::Layer`]s over services of [`http::Request`]:
//! they work with hyper 1 / hyper-util servers and clients, axum routers and
//! tonic services and channels. The feature adds `tower-layer`,
//! `tower-service`, `http` and `pin-project-lite` to the dependencies, nothing else.
//!
//! Stopping is cooperative: the layers never abort a handler, never answer
//! for it and never fail a request. A handler checks its token between steps
//! (`current_token().stop_requested()`, or [`until_stopped`](crate::task::until_stopped)
//! around a step, or [`sleep`](crate::task) that wakes on the stop) and
//! decides what to answer.
//!
//! # Examples
//!
//! An edge server with a 2 s budget per request calls a backend through a
//! client with a `DeadlineLayer`; the backend's `StopLayer` reads the header,
//! so its handler is stopped when the edge's budget runs out. The header is
//! relative (the time left, as in gRPC), so the backend's deadline is the
//! edge's plus the time the request spent on the way: never sooner, later by
//! one hop's latency.
//!
//! ```
//! use std::convert::Infallible;
//! use std::time::Duration;
//! use http::{Request, Response};
//! use stoptoken::task::current_token;
//! use stoptoken::tower::{DeadlineLayer, StopLayer};
//! use stoptoken::StopSource;
//! use tower::{Layer, ServiceExt};
//!
//! let shutdown = StopSource::new();
//!
//! // The backend: trusts the caller's `grpc-timeout`.
//! let backend = StopLayer::new(shutdown.token())
//!     .grpc_timeout(true)
//!     .layer(tower::service_fn(|_: Request<()>| async {
//!         let budget = current_token().deadline(); // the edge's, minus the hop
//!         Ok::<_, Infallible>(Response::new(budget))
//!     }));
//!
//! // The edge: a budget of its own, and a client that passes it on. In a real
//! // deployment the client is a hyper, reqwest-over-tower or tonic channel.
//! let client = DeadlineLayer::new().layer(backend);
//! let edge = StopLayer::new(shutdown.token())
//!     .timeout(Duration::from_secs(2))
//!     .layer(tower::service_fn(move |_: Request<()>| {
//!         let client = client.clone();
//!         async move {
//!             let edge_budget = current_token().deadline().unwrap();
//!             let backend_budget = client.oneshot(Request::new(())).await?.into_body().unwrap();
//!             // Never sooner than the edge's; later by this hop's time only.
//!             assert!(backend_budget >= edge_budget);
//!             assert!(backend_budget < edge_budget + Duration::from_millis(100));
//!             Ok::<_, Infallible>(Response::new(()))
//!         }
//!     }));
//! futures::executor::block_on(edge.oneshot(Request::new(()))).unwrap();
//! ```

mod deadline_layer;
mod grpc_timeout;
mod stop_layer;

pub use deadline_layer::{DeadlineLayer, DeadlineService};
pub use stop_layer::{ResponseFuture, StopLayer, StopService};

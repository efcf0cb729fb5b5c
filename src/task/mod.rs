//! Async cancellation: tokens that flow through `.await` (the C++ Capy model
//! in Rust).
//!
//! In Capy, every coroutine can ask for the stop token of the operation it
//! belongs to (`co_await this_coro::stop_token`) without it being passed down
//! by hand. Here:
//!
//! - [`with_stop_token`] runs a future with a token as its *current* token, and
//!   [`current_token`] returns it from any depth of `.await` inside (a
//!   disengaged token outside; [`try_current_token`] returns `None` there). The
//!   token is installed in a thread-local for each poll, so it follows a task
//!   across a multi-threaded runtime's threads, but not into a task that a plain
//!   `tokio::spawn` launches (see [`current_token`]).
//! - [`until_stopped`] / [`until_stopped_with`] cut a future short when the
//!   token is stopped (`Err(Stopped)`, the inner future dropped).
//! - [`FutureExt`] gives every future both as methods,
//!   `fut.until_stopped(&token)` and `fut.with_stop_token(token)`, returning
//!   the named futures [`UntilStopped`] and [`WithStopToken`].
//! - [`when_all`](fn@when_all) / [`when_all_iter`] and [`when_any`](fn@when_any) / [`when_any_iter`]
//!   run children concurrently in one future, each with a child token of the
//!   current token: a failure (or the winner) stops the siblings, every child
//!   is awaited before the combinator returns, a stop of the parent reaches
//!   every child, and a child never stops its parent.
//! - `sleep` is a timer that wakes early on a stop (see [below](#sleeping)).
//! - `spawn` / `run_async` / `StopHandle` launch a task on tokio with its own
//!   child token (feature `tokio`); see [structured
//!   lifetimes](#structured-lifetimes) for a task spawned inside a combinator.
//! - `CancelOnStop`, `StopOnCancel` and `with_cancellation_token` bridge with
//!   `tokio_util::sync::CancellationToken` (feature `tokio-util`).
//!
//! Everything without a feature is runtime-agnostic: it works under tokio,
//! smol/async-std and `futures::executor::block_on`, with no dependency, no
//! `unsafe` but the pin projections of [`UntilStopped`] and [`WithStopToken`]
//! (each commented on its type's invariant), and no allocation except where noted (the combinators' stop
//! group, queue of woken children and per-child wakers, the boxed children of
//! the iterator forms).
//!
//! A stop is a *request*: a future that is asked to stop keeps being polled
//! until it returns, and decides what to return. Only [`until_stopped`] (and
//! `sleep`, built on it) drops the future it guards.
//!
//! # Structured lifetimes
//!
//! A token that a combinator makes for its children lives no longer than the
//! combinator: when a [`when_all`](fn@when_all) / [`when_any`](fn@when_any)
//! ends (it completes, or it is dropped unfinished), it first requests a stop
//! on its children's token, then drops the source behind it.
//! `with_cancellation_token` does the same with its scope's token. For the
//! children the stop changes nothing (they have all finished, or been
//! dropped); it is for what is linked *below* that token and may outlive the
//! call: a task spawned from a child with `task::spawn`, a
//! `StopSource::child_of(&current_token())`, a token a child kept or
//! returned. All of them see the stop, as in Capy's structured concurrency: a
//! child's work does not outlive its `when_all` unasked. While the combinator
//! runs, every stop that reaches the children reaches them too, the
//! combinator's own current token's included (a server's shutdown, say).
//!
//! The alternative, linking a task spawned inside a child to the token
//! *above* the combinator, was rejected: a sibling's failure or a `when_any`
//! winner would no longer reach the work that child started, and the link
//! would depend on where `spawn` is called rather than on the token that is
//! current there. Without either rule, the combinator's source would go away
//! with the combinator and leave such a task with a token that can never be
//! stopped, cut off from the outer stop. A task meant to outlive the
//! combinator is launched with `task::run_async` and a token from outside
//! (for instance one captured before the combinator); a task whose work
//! belongs to the child is best awaited by the child.
//!
//! # Sleeping
//!
//! The crate has no timer; `sleep(duration) -> Result<(), Stopped>` exists when
//! one of these features brings one:
//!
//! | feature | timer | runs under |
//! |---|---|---|
//! | `tokio` | `tokio::time::sleep` (honours `tokio::time::pause`) | a tokio runtime with time enabled |
//! | `timer` | `futures_timer::Delay` (one global helper thread) | any executor |
//! | both | tokio's inside a tokio runtime with time enabled, `futures-timer` elsewhere | any executor |
//!
//! With both, a tokio runtime built without `enable_time` is detected by
//! catching the panic of `tokio::time::sleep` (tokio has no query for it),
//! which the panic hook still reports; see `sleep`.
//!
//! # Examples
//!
//! ```
//! use stoptoken::task::{current_token, when_all, with_stop_token};
//! use stoptoken::{StopSource, Stopped};
//!
//! async fn chunked_work(chunks: u32) -> Result<u32, Stopped> {
//!     let token = current_token(); // whoever runs us decides when we stop
//!     for done in 0..chunks {
//!         if token.stop_requested() {
//!             return Err(Stopped);
//!         }
//!         let _ = done; // one chunk of work
//!     }
//!     Ok(chunks)
//! }
//!
//! let source = StopSource::new();
//! let both = futures::executor::block_on(with_stop_token(
//!     source.token(),
//!     when_all((chunked_work(3), chunked_work(4))),
//! ));
//! assert_eq!(both, Ok((3, 4)));
//!
//! source.request_stop();
//! let stopped = futures::executor::block_on(with_stop_token(source.token(), chunked_work(3)));
//! assert_eq!(stopped, Err(Stopped));
//! ```

pub(crate) mod current;
mod future_ext;
mod group;
mod until;
mod when_all;
mod when_any;
mod woken;

#[cfg(feature = "tokio-util")]
mod interop;
#[cfg(any(feature = "tokio", feature = "timer"))]
mod sleep;
#[cfg(feature = "tokio")]
mod tokio;

pub use current::{current_token, try_current_token, with_stop_token, WithStopToken};
pub use future_ext::FutureExt;
pub use until::{until_stopped, until_stopped_with, UntilStopped};
pub use when_all::{when_all, when_all_iter, WhenAll};
pub use when_any::{when_any, when_any_iter, WhenAny};

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use self::tokio::{run_async, spawn, StopHandle};
#[cfg(feature = "tokio-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio-util")))]
pub use interop::{with_cancellation_token, CancelOnStop, StopOnCancel};
#[cfg(any(feature = "tokio", feature = "timer"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "tokio", feature = "timer"))))]
pub use sleep::sleep;

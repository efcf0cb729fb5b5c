//! Cooperative cancellation in the C++20 `<stop_token>` model.
//!
//! A [`StopSource`] asks for a stop; [`StopToken`]s observe it; a
//! [`StopCallback`] runs synchronously, on the requesting thread, at the moment of
//! the request. [`InplaceStopSource`] is the non-owning, allocation-free form
//! (C++26), [`NeverStopToken`] the token that is never stopped, and
//! [`StoppableToken`] the trait that generic code is written against.
//!
//! | C++                                   | stoptoken                                   |
//! |---------------------------------------|---------------------------------------------|
//! | `std::stop_source`                    | [`StopSource`]                              |
//! | `std::stop_source(std::nostopstate)`  | [`StopSource::no_state`]                    |
//! | `std::stop_token`                     | [`StopToken`]                               |
//! | `std::stop_callback<F>`               | [`StopCallback<F>`] (or pinned [`PinnedCallback`]) |
//! | `std::inplace_stop_source/token/callback` | [`InplaceStopSource`], [`InplaceStopToken`], [`InplaceStopCallback`] |
//! | `std::never_stop_token`               | [`NeverStopToken`]                          |
//! | `std::stoppable_token`, `unstoppable_token` | [`StoppableToken`], [`UnstoppableToken`] |
//! | `std::jthread`                        | [`JThread`]                                 |
//! | `std::condition_variable_any::wait(lock, stoken, pred)` | [`thread::Condvar`]         |
//! | `std::this_thread::sleep_for` that wakes on a stop | [`sleep`]                      |
//! | Capy `this_coro::stop_token`          | [`task::current_token`]                     |
//!
//! Beyond C++: [`StopSource::drop_guard`] (a [`StopGuard`] that stops when
//! dropped, tokio-util's `DropGuard`), [`task::FutureExt`] (`fut.until_stopped(&token)`),
//! reasons ([`StopReason`]), links, deadlines and blocking waits; the README has
//! the full tables, from C++ and from tokio-util.
//!
//! # Examples
//!
//! ```
//! use std::sync::mpsc;
//! use stoptoken::{StopCallback, StopSource};
//!
//! let source = StopSource::new();
//! let token = source.token();
//! let (tx, rx) = mpsc::channel();
//! let _on_stop = StopCallback::new(&token, move || tx.send("callback ran").unwrap());
//!
//! let worker = std::thread::spawn(move || {
//!     while !token.stop_requested() {
//!         std::thread::yield_now(); // a unit of work
//!     }
//! });
//! source.request_stop(); // runs the callback here, then returns
//! assert_eq!(rx.try_recv(), Ok("callback ran"));
//! worker.join().unwrap();
//! ```
//!
//! # Guarantees
//!
//! - Everything a thread did before its `request_stop` happens-before any call
//!   that observes `stop_requested() == true`, and before each callback runs.
//! - A registered callback runs exactly once, unless it is deregistered before the
//!   stop request; it never runs after its registration's `drop` has returned.
//! - No lock is held while a callback runs: callbacks may register and drop other
//!   callbacks and use any source or token.
//! - The safe API stays sound when values are leaked with [`std::mem::forget`]:
//!   a leaked registration keeps its memory (and, for shared states, the state)
//!   alive forever, and may still run.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod callback;
#[cfg(feature = "crossbeam-channel")]
#[cfg_attr(docsrs, doc(cfg(feature = "crossbeam-channel")))]
pub mod channel;
mod deadline;
pub mod group;
mod guard;
mod inplace;
pub mod io;
mod link;
mod never;
mod panic_message;
#[cfg(all(unix, feature = "io"))]
#[cfg_attr(docsrs, doc(cfg(all(unix, feature = "io"))))]
#[path = "io/process.rs"]
pub mod process;
mod reason;
mod sealed;
#[cfg(feature = "signal")]
#[cfg_attr(docsrs, doc(cfg(feature = "signal")))]
pub mod signal;
mod source;
mod state;
mod stoppable;
mod stopped;
mod sync;
pub mod task;
pub mod thread;
mod token;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;

pub use callback::StopCallback;
pub use group::{ShutdownReport, StopGroup, Tracked};
pub use guard::StopGuard;
pub use inplace::{InplaceStopCallback, InplaceStopSource, InplaceStopToken};
pub use never::{NeverStopCallback, NeverStopToken};
pub use reason::StopReason;
pub use source::StopSource;
pub use state::{CallbackToken, PinnedCallback, StopFuture};
pub use stoppable::{StoppableToken, UnstoppableToken};
pub use stopped::Stopped;
pub use thread::{sleep, JThread};
pub use token::StopToken;

/// The README's code, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

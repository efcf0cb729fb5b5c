//! Stop-aware threads and blocking waits that wake on a stop.
//!
//! - [`JThread`]: a thread that owns a [`StopSource`](crate::StopSource), hands
//!   its token to the thread's function, and on drop requests the stop and joins
//!   (C++ `std::jthread`); [`Builder`] names it and sets its stack size.
//! - [`scope`]: `std::thread::scope` whose threads get a
//!   [`StopToken`](crate::StopToken) and are all stopped and joined at the end.
//! - [`sleep`]: a sleep that returns `Err(Stopped)` as soon as a stop is requested.
//! - [`Condvar`]: a condition variable whose waits also end on a stop (C++
//!   `std::condition_variable_any` with its `stop_token` waits), usable with
//!   any `std::sync::Mutex`; a stop may be requested while holding that mutex.
//!   Its waits are [`Condvar::wait_while`], [`Condvar::wait_timeout_while`] and
//!   [`Condvar::wait_deadline_while`] (std's names and polarity: they wait while
//!   the condition holds).
//! - Deprecated: [`wait_until`] and [`wait_timeout_until`], the same wait over
//!   a user's `std::sync::{Mutex, Condvar}`; a stop must not be requested while
//!   holding the mutex (see their `# Deadlocks`). Use [`Condvar`].

mod builder;
mod condvar;
mod jthread;
mod scope;
mod sleep;
mod wait;

pub use builder::Builder;
pub use condvar::Condvar;
pub use jthread::{JThread, JOINED_ON_ITS_OWN_THREAD};
pub use scope::{scope, Scope};
pub use sleep::sleep;
#[allow(deprecated)]
pub use wait::{wait_timeout_until, wait_until};

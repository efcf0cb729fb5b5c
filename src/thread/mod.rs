//! Stop-aware threads and blocking waits that wake on a stop.
//!
//! - [`JThread`]: a thread that owns a [`StopSource`](crate::StopSource), hands
//!   its token to the thread's function, and on drop requests the stop and joins
//!   (C++ `std::jthread`); [`Builder`] names it and sets its stack size.
//! - [`scope`]: `std::thread::scope` whose threads get a
//!   [`StopToken`](crate::StopToken) and are all stopped and joined at the end.
//! - [`sleep`]: a sleep that returns `Err(Stopped)` as soon as a stop is requested.
//! - [`wait_until`] and [`wait_timeout_until`]: a condition-variable wait over
//!   `std::sync::{Mutex, Condvar}` that also wakes on a stop (C++
//!   `condition_variable_any::wait(lock, stoken, pred)`).

mod builder;
mod condvar;
mod jthread;
mod scope;
mod sleep;

pub use builder::Builder;
pub use condvar::{wait_timeout_until, wait_until};
pub use jthread::JThread;
pub use scope::{scope, Scope};
pub use sleep::sleep;

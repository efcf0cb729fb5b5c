//! Spawning and joining a thread that is handed a stop token.

use std::hint::black_box;
use std::time::Duration;

use stoptoken::StopSource;

use crate::harness::timed;

/// Whether [`jthread_spawn_join`] measures a real `stoptoken::JThread` or the
/// emulation (`false` while the crate has no `JThread`).
pub const JTHREAD_IS_REAL: bool = false;

/// What a `JThread` costs at least, emulated with the public API (the crate has
/// no `JThread` yet): a new `StopSource`, `std::thread::spawn` of a closure that
/// receives a token, then `request_stop` and `join`, as `JThread`'s drop does.
pub fn jthread_spawn_join(n: u64) -> Duration {
    timed(n, || {
        let source = StopSource::new();
        let token = source.token();
        let thread = std::thread::spawn(move || black_box(token.stop_requested()));
        source.request_stop();
        black_box(thread.join().expect("the spawned thread panicked"));
    })
}

/// The baseline: `std::thread::spawn` of an empty closure, then `join`.
pub fn std_spawn_join(n: u64) -> Duration {
    timed(n, || {
        let thread = std::thread::spawn(|| black_box(()));
        thread.join().expect("the spawned thread panicked");
    })
}

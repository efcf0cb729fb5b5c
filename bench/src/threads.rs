//! Spawning and joining a thread that is handed a stop token.

use std::hint::black_box;
use std::time::Duration;

use stoptoken::JThread;

use crate::harness::timed;

/// Whether [`jthread_spawn_join`] measures a real `stoptoken::JThread`.
pub const JTHREAD_IS_REAL: bool = true;

/// `JThread::spawn` of a closure that reads its token, then the drop, which
/// requests the stop and joins.
pub fn jthread_spawn_join(n: u64) -> Duration {
    timed(n, || {
        let thread = JThread::spawn(|token| black_box(token.stop_requested()));
        drop(black_box(thread));
    })
}

/// The baseline: `std::thread::spawn` of an empty closure, then `join`.
pub fn std_spawn_join(n: u64) -> Duration {
    timed(n, || {
        let thread = std::thread::spawn(|| black_box(()));
        thread.join().expect("the spawned thread panicked");
    })
}

//! Stop groups (issue 14): counting a unit of work, against tokio-util's
//! `TaskTracker`, which counts tasks (no names, no threads, no report).

use std::future::ready;
use std::hint::black_box;
use std::time::Duration;

use stoptoken::StopGroup;
use tokio_util::task::TaskTracker;

use crate::harness::timed;

/// `group.track(name)` and drop the `Tracked`: a registry insert and remove,
/// no token asked for (the child token is made at the first `token()`).
pub fn track_drop(n: u64) -> Duration {
    let group = StopGroup::new();
    timed(n, || drop(black_box(black_box(&group).track("unit"))))
}

/// `group.track(name)`, `token()` (makes the unit's child token), drop.
pub fn track_token_drop(n: u64) -> Duration {
    let group = StopGroup::new();
    timed(n, || {
        let unit = black_box(&group).track("unit");
        black_box(unit.token());
        drop(unit);
    })
}

/// tokio-util: `tracker.track_future(ready(()))` and drop the tracked future.
pub fn tokio_track_future(n: u64) -> Duration {
    let tracker = TaskTracker::new();
    timed(n, || {
        drop(black_box(black_box(&tracker).track_future(ready(()))))
    })
}

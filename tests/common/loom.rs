//! Helpers shared by the loom models (`tests/loom_*.rs` include this file with
//! `#[path = "common/loom.rs"] mod common;`).
#![allow(dead_code)] // each model file uses only some of them

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;

/// Runs `f` under loom with `preemptions` as the bound, unless
/// `LOOM_MAX_PREEMPTIONS` sets another.
pub fn model_bounded(preemptions: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(preemptions);
    }
    builder.check(f);
}

/// Runs `f` under loom with 3 preemptions (or `LOOM_MAX_PREEMPTIONS`).
pub fn model(f: impl Fn() + Sync + Send + 'static) {
    model_bounded(3, f);
}

/// A callback that adds one to `count`.
pub fn counting(count: &Arc<AtomicUsize>) -> impl FnOnce() + Send + 'static {
    let count = count.clone();
    move || {
        count.fetch_add(1, Ordering::SeqCst);
    }
}

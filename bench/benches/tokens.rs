//! Criterion benches of the same operations the `compare` binary measures
//! (`cargo bench -p stoptoken-bench`); each group compares the Rust
//! implementations of one operation. Kept short (0.5 s warm-up, 1.5 s of
//! measurement) so the whole run stays around a minute.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use stoptoken_bench::{contended, latency, stoptoken_ops as st, threads, tokio_ops, Bench};

fn group(c: &mut Criterion, name: &str, benches: &[(&str, Bench)]) {
    let mut group = c.benchmark_group(name);
    for &(id, bench) in benches {
        group.bench_function(id, |b| b.iter_custom(bench));
    }
    group.finish();
}

fn single_thread(c: &mut Criterion) {
    group(
        c,
        "poll",
        &[("stoptoken", st::poll), ("tokio-util", tokio_ops::poll)],
    );
    group(
        c,
        "token_clone_drop",
        &[
            ("stoptoken", st::token_clone_drop),
            ("tokio-util", tokio_ops::token_clone_drop),
        ],
    );
    group(
        c,
        "source_new_drop",
        &[
            ("stoptoken", st::source_new_drop),
            ("tokio-util", tokio_ops::source_new_drop),
        ],
    );
    group(
        c,
        "cb_register_drop",
        &[
            ("stoptoken by-value", st::cb_register_drop),
            ("stoptoken pinned", st::cb_register_drop_pinned),
            (
                "stoptoken pinned borrowed",
                st::cb_register_drop_pinned_borrowed,
            ),
            ("stoptoken inplace by-value", st::inplace_cb_register_drop),
            (
                "stoptoken inplace pinned",
                st::inplace_cb_register_drop_pinned,
            ),
            ("tokio-util cancelled()", tokio_ops::cancelled_register_drop),
        ],
    );
    group(
        c,
        "stopped_future_register_drop",
        &[
            ("stoptoken", st::stopped_future_register_drop),
            ("tokio-util", tokio_ops::cancelled_register_drop),
        ],
    );
    group(
        c,
        "source_new_request_stop_drop",
        &[
            ("stoptoken", st::source_new_request_stop_drop),
            ("tokio-util", tokio_ops::source_new_request_stop_drop),
        ],
    );
    group(
        c,
        "request_stop_1000",
        &[
            ("stoptoken", st::request_stop_1000),
            ("stoptoken inplace", st::inplace_request_stop_1000),
            ("tokio-util", tokio_ops::request_stop_1000),
        ],
    );
    group(
        c,
        "child_token",
        &[
            ("stoptoken", st::child_token),
            ("tokio-util", tokio_ops::child_token),
        ],
    );
}

fn threads(c: &mut Criterion) {
    group(
        c,
        "contended_register",
        &[
            ("stoptoken by-value", contended::stoptoken_by_value),
            ("stoptoken pinned", contended::stoptoken_pinned),
            ("tokio-util", contended::tokio_cancelled),
        ],
    );
    group(
        c,
        "spawn_join",
        &[
            ("stoptoken jthread", threads::jthread_spawn_join),
            ("std thread", threads::std_spawn_join),
        ],
    );
    group(
        c,
        "cancel_latency",
        &[
            ("stoptoken park", latency::stoptoken_park),
            (
                "stoptoken stopped().await",
                latency::stoptoken_stopped_await,
            ),
            ("tokio-util cancelled().await", latency::tokio_cancelled),
        ],
    );
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = config();
    targets = single_thread, threads
}
criterion_main!(benches);

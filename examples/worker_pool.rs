//! A pool of `JThread` workers in a `StopGroup`, taking jobs from a queue
//! through `thread::Condvar`; `shutdown` stops them all at once, so the pool
//! drains in about one worker's wind-down time, not one per worker as a
//! `Vec<JThread>` dropped one handle at a time does.
//!
//! Prints the jobs done, the time the group took to stop and drain, the time
//! a `Vec<JThread>` of the same workers takes to drop, and the report. Exits
//! with 1 if the report is not clean or the group took a wind-down per worker.
//!
//! Run: `cargo run --release --example worker_pool`

use std::collections::VecDeque;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use stoptoken::thread::Condvar;
use stoptoken::{JThread, StopGroup, StopToken};

const WORKERS: u32 = 4;
/// What each worker needs after the stop: flushing its buffers, say.
const WIND_DOWN: Duration = Duration::from_millis(100);

/// The shared queue of jobs (job `n` takes `n` microseconds).
#[derive(Default)]
struct Queue {
    jobs: Mutex<VecDeque<u64>>,
    ready: Condvar,
}

/// A worker: takes jobs until the stop, then winds down.
fn work(queue: &Queue, done: &AtomicU64, token: &StopToken) {
    loop {
        let (mut jobs, ready) = queue
            .ready
            .wait_while(&queue.jobs, token, |jobs| jobs.is_empty())
            .expect("no worker panics while holding the queue");
        if !ready || token.stop_requested() {
            break; // stopped: the jobs left stay in the queue
        }
        let job = jobs.pop_front();
        drop(jobs);
        if let Some(micros) = job {
            std::thread::sleep(Duration::from_micros(micros));
            // Relaxed: only a count; the group's drain (a mutex) orders it
            // before main's read.
            done.fetch_add(1, Relaxed);
        }
    }
    std::thread::sleep(WIND_DOWN);
}

fn main() -> std::io::Result<ExitCode> {
    let queue = Arc::new(Queue::default());
    let done = Arc::new(AtomicU64::new(0));
    let group = StopGroup::new();
    for i in 0..WORKERS {
        let (queue, done) = (queue.clone(), done.clone());
        group
            .spawn_thread(format!("worker {i}"), move |token| {
                work(&queue, &done, &token)
            })?
            .detach(); // the group still counts it
    }
    for job in 0..4000u64 {
        queue.jobs.lock().expect("unpoisoned").push_back(job % 500);
        queue.ready.notify_one();
    }
    std::thread::sleep(Duration::from_millis(200)); // let them work a while

    let started = Instant::now();
    let report = group.shutdown(Duration::from_secs(5));
    let group_time = started.elapsed();
    let left = queue.jobs.lock().expect("unpoisoned").len();
    println!(
        "jobs done: {}, left in the queue: {left}",
        done.load(Relaxed)
    );
    println!(
        "StopGroup: {WORKERS} workers with a {} ms wind-down each stopped and drained in {} ms",
        WIND_DOWN.as_millis(),
        group_time.as_millis()
    );

    // The same workers as a Vec<JThread>: each drop stops one, then joins it.
    let workers: Vec<JThread<()>> = (0..WORKERS)
        .map(|_| {
            let (queue, done) = (queue.clone(), done.clone());
            JThread::spawn(move |token| work(&queue, &done, &token))
        })
        .collect();
    let started = Instant::now();
    drop(workers);
    println!(
        "Vec<JThread>: the same workers dropped one at a time in {} ms",
        started.elapsed().as_millis()
    );

    println!(
        "report: finished={} unfinished={:?} panicked={:?} clean={}",
        report.finished(),
        report.unfinished(),
        report.panicked(),
        report.is_clean()
    );
    let fast = group_time < WIND_DOWN * WORKERS;
    Ok(if report.is_clean() && fast {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

//! Deadline sources: a job with a time budget inside a service that may shut
//! down first, all served by one shared timer thread.
//!
//! `StopSource::with_deadline` / `after` put one entry in the process-wide
//! deadline thread's ordered map (no thread per source); dropping the source
//! removes it. `child_with_deadline` stops at the deadline *or* on the parent's
//! stop, and the reason says which.
//!
//! Run: `cargo run --release --example deadline`

use std::time::{Duration, Instant};

use stoptoken::{sleep, StopReason, StopSource, StopToken, Stopped};

/// Work in 1 ms steps until done or stopped.
fn job(token: &StopToken, steps: u32) -> Result<u32, Stopped> {
    for done in 0..steps {
        if sleep(Duration::from_millis(1), token).is_err() {
            println!("   stopped after {done} steps");
            return Err(Stopped);
        }
    }
    Ok(steps)
}

fn main() {
    let service = StopSource::new();

    // 1. A 30 ms budget for a job that would take far longer: the deadline wins.
    let start = Instant::now();
    let budget =
        StopSource::child_with_deadline(&service.token(), start + Duration::from_millis(30));
    let result = job(&budget.token(), 10_000);
    println!(
        "1. 30 ms budget: {result:?} after {:?}, reason {:?}",
        start.elapsed(),
        budget.stop_reason()
    );

    // 2. The service shuts down before a long budget runs out: the parent wins.
    let budget =
        StopSource::child_with_deadline(&service.token(), Instant::now() + Duration::from_secs(60));
    let token = budget.token();
    let worker = std::thread::spawn(move || job(&token, 10_000));
    std::thread::sleep(Duration::from_millis(5));
    service.request_stop_with(StopReason::Message("service shutting down"));
    println!(
        "2. shutdown during a 60 s budget: {:?}, reason {:?}",
        worker.join().unwrap(),
        budget.stop_reason()
    );

    // 3. A thousand deadlines, one timer thread; a dropped source cancels its entry.
    let start = Instant::now();
    let sources: Vec<StopSource> = (0..1000u64)
        .map(|i| StopSource::after(Duration::from_millis(10 + i % 10)))
        .collect();
    let cancelled: Vec<StopSource> = (0..1000)
        .map(|_| StopSource::after(Duration::from_secs(3600)))
        .collect();
    drop(cancelled); // 1000 entries removed from the timer
    for source in &sources {
        assert!(source.token().wait());
    }
    println!(
        "3. 1000 deadline sources (10-19 ms) all stopped after {:?}, all with reason Deadline: {}",
        start.elapsed(),
        sources
            .iter()
            .all(|s| s.stop_reason() == Some(&StopReason::Deadline))
    );

    // 4. Blocking code waits on the token itself.
    let token = StopSource::after(Duration::from_millis(5)).token();
    println!(
        "4. token of a dropped deadline source: wait() = {} (no source left, no stop can come)",
        token.wait()
    );
    let source = StopSource::after(Duration::from_millis(5));
    println!("   token of a live one: wait() = {}", source.token().wait());
}

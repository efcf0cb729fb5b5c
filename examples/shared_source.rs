//! An external StopSource shared by several threads (the C++ example where one
//! `std::stop_source` is passed to several jthreads). Each JThread also has its
//! own source: its `request_stop` only reaches the token it handed to its own
//! function, not the external one. Prints which threads each request reached.
//!
//! Run: `cargo run --example shared_source`

use std::sync::mpsc;
use stoptoken::{JThread, StopSource, StopToken};

fn main() {
    let external = StopSource::new();
    let (tx, rx) = mpsc::channel();
    let workers: Vec<JThread<()>> = (0..3)
        .map(|id| {
            let shared: StopToken = external.token();
            let tx = tx.clone();
            JThread::spawn(move |own| {
                // Wait until either the shared source or the thread's own source stops.
                while !shared.stop_requested() && !own.stop_requested() {
                    std::thread::yield_now();
                }
                let by = if own.stop_requested() {
                    "its own JThread source"
                } else {
                    "the shared source"
                };
                tx.send(format!("worker {id} stopped by {by}")).unwrap();
            })
        })
        .collect();
    drop(tx);

    // The JThread's own request_stop reaches worker 0 only ...
    workers[0].request_stop();
    println!("{}", rx.recv().unwrap());
    // ... and the shared source reaches the others.
    external.request_stop();
    let mut rest: Vec<String> = rx.iter().collect();
    rest.sort();
    for line in rest {
        println!("{line}");
    }
    println!(
        "workers[1].stop_token() was never stopped: {}",
        !workers[1].stop_token().stop_requested()
    );
}

//! The classic C++20 jthread example: a worker loop that checks its stop token,
//! stopped by the JThread's destructor (here: `drop`).
//!
//! Prints "worker: round 1" to "worker: round 3" first and "main: the worker
//! was stopped and joined" last; in between, "worker: stopping after N rounds"
//! (N >= 3). The worker's stop callback may also print "stop requested" in
//! between, on either side of the worker's line, or not at all: `drop` runs it
//! on the main thread inside `request_stop`, which sets the stop flag before it
//! runs callbacks, so the worker may see the flag, leave its loop and drop its
//! callback first (a callback dropped before it ran never runs).
//!
//! Run: `cargo run --example jthread_worker`

use std::sync::mpsc;
use stoptoken::{JThread, StopCallback};

fn main() {
    let (progress_tx, progress_rx) = mpsc::channel();
    let worker = JThread::spawn(move |token| {
        let _announce = StopCallback::new(&token, || println!("stop requested"));
        let mut rounds = 0u64;
        while !token.stop_requested() {
            rounds += 1;
            if rounds <= 3 {
                println!("worker: round {rounds}");
                progress_tx.send(rounds).unwrap();
            }
            std::thread::yield_now();
        }
        println!("worker: stopping after {rounds} rounds");
    });
    // Let the worker get going, then leave the scope: drop stops and joins it.
    for _ in 0..3 {
        progress_rx.recv().unwrap();
    }
    drop(worker);
    println!("main: the worker was stopped and joined");
}

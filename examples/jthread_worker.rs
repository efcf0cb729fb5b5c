//! The classic C++20 jthread example: a worker loop that checks its stop token,
//! stopped by the JThread's destructor (here: `drop`). Prints the worker's
//! progress, then "stop requested", then how many rounds it did.
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

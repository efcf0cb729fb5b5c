//! A producer/consumer queue over `std::sync::{Mutex, Condvar}` whose consumer
//! waits with `stoptoken::thread::wait_until`, so it wakes on new items or on a
//! stop request (the C++ `condition_variable_any::wait(lock, stoken, pred)`
//! example). Prints what is consumed, then the shutdown.
//!
//! Run: `cargo run --example producer_consumer`

use std::collections::VecDeque;
use std::sync::{mpsc, Arc, Condvar, Mutex};

use stoptoken::thread::wait_until;
use stoptoken::JThread;

fn main() {
    let queue = Arc::new((Mutex::new(VecDeque::new()), Condvar::new()));
    let (ack_tx, ack_rx) = mpsc::channel();
    let q = queue.clone();
    let consumer = JThread::spawn(move |token| {
        let (mutex, condvar) = &*q;
        loop {
            let (mut items, ready) = wait_until(mutex, condvar, &token, |items| !items.is_empty())
                .expect("the producer never panics while holding the lock");
            if !ready {
                println!("consumer: stop requested, queue empty: shutting down");
                return;
            }
            while let Some(item) = items.pop_front() {
                println!("consumer: got {item}");
                ack_tx.send(item).unwrap();
            }
        }
    });

    for item in 1..=5 {
        queue.0.lock().unwrap().push_back(item);
        queue.1.notify_all();
        ack_rx.recv().unwrap(); // one at a time, for a readable output
    }
    println!("producer: done, dropping the consumer (stop + join)");
    drop(consumer);
}

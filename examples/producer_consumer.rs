//! A producer/consumer queue: a `std::sync::Mutex<VecDeque>` paired with a
//! `stoptoken::thread::Condvar`, whose wait wakes on new items or on a stop
//! request (C++ `condition_variable_any::wait(lock, stoken, pred)`). The
//! producer closes the queue and stops the consumer under one lock of the
//! queue, which this condvar allows.
//!
//! Prints "consumer: got 1" to "consumer: got 5", then "producer: done,
//! closing the queue", then the consumer's shutdown line, then "producer: the
//! consumer was joined".
//!
//! Run: `cargo run --example producer_consumer`

use std::collections::VecDeque;
use std::sync::{mpsc, Arc, Mutex};

use stoptoken::thread::Condvar;
use stoptoken::JThread;

struct Queue {
    items: VecDeque<u32>,
    closed: bool,
}

fn main() {
    let queue = Queue {
        items: VecDeque::new(),
        closed: false,
    };
    let shared = Arc::new((Mutex::new(queue), Condvar::new()));
    let (ack_tx, ack_rx) = mpsc::channel();
    let s = shared.clone();
    let consumer = JThread::spawn(move |token| {
        let (mutex, condvar) = &*s;
        loop {
            let (mut queue, ready) = condvar
                .wait_while(mutex, &token, |queue| queue.items.is_empty())
                .expect("the producer never panics while holding the lock");
            if !ready {
                assert!(queue.closed, "the producer closes before it stops us");
                println!("consumer: stop requested, queue empty and closed: shutting down");
                return;
            }
            while let Some(item) = queue.items.pop_front() {
                println!("consumer: got {item}");
                ack_tx.send(item).unwrap();
            }
        }
    });

    let (mutex, condvar) = &*shared;
    for item in 1..=5 {
        mutex.lock().unwrap().items.push_back(item);
        condvar.notify_one();
        ack_rx.recv().unwrap(); // one at a time, for a readable output
    }
    println!("producer: done, closing the queue");
    let mut queue = mutex.lock().unwrap();
    queue.closed = true;
    // The stop callback runs here, on this thread, which holds the queue's
    // lock: fine with `thread::Condvar` (not with the deprecated free `wait_until`).
    consumer.request_stop();
    drop(queue);
    consumer.join().unwrap();
    println!("producer: the consumer was joined");
}

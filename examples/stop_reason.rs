//! Stop reasons: why did we stop? The first request's reason is published with
//! the stop, so every thread that sees the stop can read it, without a lock.
//!
//! Run: `cargo run --release --example stop_reason`

use std::time::Duration;

use stoptoken::{JThread, StopCallback, StopReason, StopSource, StopToken};

#[derive(Debug)]
struct Maintenance {
    window_minutes: u32,
}

fn main() {
    // 1. A plain request records `Requested`; no reason before the stop.
    let source = StopSource::new();
    let token = source.token();
    print!("1. before: {:?}", token.stop_reason());
    source.request_stop();
    println!(", after request_stop(): {:?}", token.stop_reason());

    // 2. The first reason wins; later requests (and their reasons) lose.
    let source = StopSource::new();
    source.request_stop_with(StopReason::Message("operator pressed stop"));
    source.request_stop_with(StopReason::Deadline);
    println!(
        "2. two requests, the first reason stays: {}",
        source.stop_reason().unwrap()
    );

    // 3. Workers read the reason to decide how to wind down.
    let source = StopSource::new();
    let workers: Vec<JThread<String>> = (0..3)
        .map(|i| {
            let token = source.token();
            JThread::spawn(move |_own: StopToken| {
                token.wait();
                match token.stop_reason() {
                    Some(StopReason::Deadline) => {
                        format!("worker {i}: out of time, saving a checkpoint")
                    }
                    Some(reason) => match reason.downcast_ref::<Maintenance>() {
                        Some(m) => format!(
                            "worker {i}: maintenance for {} min, draining",
                            m.window_minutes
                        ),
                        None => format!("worker {i}: stopping ({reason})"),
                    },
                    None => unreachable!("wait() returned without a stop"),
                }
            })
        })
        .collect();
    source.request_stop_with(StopReason::custom(Maintenance { window_minutes: 15 }));
    for worker in workers {
        println!("3. {}", worker.join().unwrap());
    }

    // 4. Callbacks see the reason of the request that runs them; children and
    //    any-of sources take the reason of the stop that reached them.
    let parent = StopSource::new();
    let child = StopSource::child_of(&parent.token());
    let seen = child.token();
    let _callback = StopCallback::new(&child.token(), move || {
        println!("4. child callback: reason {:?}", seen.stop_reason());
    });
    parent.request_stop_with(StopReason::Signal(2));

    // 5. A deadline says so.
    let timed = StopSource::after(Duration::from_millis(1));
    timed.token().wait();
    println!("5. deadline source: {:?}", timed.stop_reason());
}

//! Any-of sources: a request handler that must stop when the server shuts
//! down *or* its client disconnects, whichever comes first, and a fan-in of 16
//! worker failures into one "abort the batch" source.
//!
//! Each `StopSource::any_of` registers one link per input (one allocation for
//! all of them) and removes every link when its last source is dropped: no
//! thread, no task, no polling.
//!
//! Run: `cargo run --release --example any_of`

use std::time::Duration;

use stoptoken::{sleep, JThread, StopReason, StopSource, StopToken, Stopped};

fn handle_request(id: u32, token: StopToken) -> Result<u32, Stopped> {
    let mut chunks = 0;
    loop {
        sleep(Duration::from_millis(2), &token)?; // one chunk of streaming
        chunks += 1;
        if chunks == 1000 {
            println!("request {id}: finished all chunks");
            return Ok(chunks);
        }
    }
}

fn main() {
    // 1. Two inputs: server shutdown, client disconnect.
    let shutdown = StopSource::new();
    let client_gone = StopSource::new();
    let request = StopSource::any_of([shutdown.token(), client_gone.token()]);
    let token = request.token();
    let handler = JThread::spawn(move |_own: StopToken| handle_request(1, token));
    std::thread::sleep(Duration::from_millis(10)); // let it stream a little
    client_gone.request_stop_with(StopReason::Message("client disconnected"));
    println!(
        "1. client disconnected -> request stopped={}, reason={:?}, result={:?}; server still up: {}",
        request.stop_requested(),
        request.stop_reason(),
        handler.join().unwrap(),
        !shutdown.stop_requested()
    );

    // 2. The same, with the server shutting down instead.
    let client_gone = StopSource::new();
    let request = StopSource::any_of([shutdown.token(), client_gone.token()]);
    shutdown.request_stop_with(StopReason::Signal(15));
    println!(
        "2. server shutdown -> request stopped with reason {:?}",
        request.stop_reason()
    );

    // 3. Sixteen workers; the first failure aborts the batch (any-of 16).
    let failures: Vec<StopSource> = (0..16).map(|_| StopSource::new()).collect();
    let batch = StopSource::any_of(failures.iter().map(StopSource::token));
    let batch_token = batch.token();
    let workers: Vec<_> = (0..16u32)
        .map(|i| {
            let my_failure = failures[i as usize].clone();
            let batch_token = batch_token.clone();
            std::thread::spawn(move || {
                if i == 11 {
                    my_failure
                        .request_stop_with(StopReason::custom(format!("worker {i}: disk full")));
                    return Err(i);
                }
                // The others wait for the batch to be aborted.
                batch_token.wait();
                Ok(i)
            })
        })
        .collect();
    let results: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let why = batch
        .stop_reason()
        .and_then(|r| r.downcast_ref::<String>().cloned());
    println!(
        "3. any_of over 16 inputs: aborted by {why:?}; {} workers saw the abort",
        results.iter().filter(|r| r.is_ok()).count()
    );
    drop(batch); // removes all 16 links
    println!("   dropped the batch source: its 16 links are gone");
}

//! Graceful shutdown on Ctrl-C or SIGTERM: a worker ticks every 100 ms until
//! the signal arrives, then finishes its current tick and the program exits
//! normally (exit code 0). A second Ctrl-C ends the program at once.
//!
//! Prints `ready: pid <N>, press Ctrl-C or run kill -TERM <N>`, a line per
//! tick, then `stop requested on thread 'stoptoken-signal'` and
//! `worker finished after <T> ticks: clean exit`.
//!
//! Run: `cargo run --example graceful_shutdown --features signal`

use std::time::Duration;

use stoptoken::signal::stop_on_shutdown_signals;
use stoptoken::{sleep, StopCallback};

fn main() -> std::io::Result<()> {
    let source = stop_on_shutdown_signals()?;
    let token = source.token();

    // Runs on the signal watcher thread, inside its request_stop. The worker
    // may see the stop before this callback has run (the stop flag is set
    // first, then the callbacks run), so the callback reports back on a
    // channel and `main` waits for it: a `StopCallback` dropped before its
    // turn is deregistered and never runs.
    let (announced, announcement) = std::sync::mpsc::channel();
    let _announce = StopCallback::new(&token, move || {
        let thread = std::thread::current();
        println!(
            "stop requested on thread '{}'",
            thread.name().unwrap_or("?")
        );
        let _ = announced.send(());
    });

    let worker = std::thread::spawn(move || {
        let mut ticks = 0u64;
        // `sleep` returns Err(Stopped) as soon as the stop is requested.
        while sleep(Duration::from_millis(100), &token).is_ok() {
            ticks += 1;
            println!("tick {ticks}");
        }
        ticks
    });

    let pid = std::process::id();
    println!("ready: pid {pid}, press Ctrl-C or run kill -TERM {pid}");
    let ticks = worker.join().expect("the worker does not panic");
    // The worker only ends on a stop, so the callback runs: wait for it.
    announcement.recv().expect("the stop callback runs once");
    println!("worker finished after {ticks} ticks: clean exit");
    Ok(())
}

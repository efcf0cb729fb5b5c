//! A short tour of stoptoken, one step per line of output: a source and its
//! tokens, a stop callback, a child source, an inplace (static) source, generic
//! code over `StoppableToken` with all three token kinds, a `JThread` stopped by
//! its drop, a `sleep` cut short, a condvar wait woken by a stop, a
//! `stopped()` future, a stop reason read by a waiting thread, an any-of source
//! and a deadline source. It finishes in well under a second.
//!
//! Run: `cargo run --release --example tour`

use std::future::Future;
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use stoptoken::thread::Condvar;
use stoptoken::{
    sleep, InplaceStopCallback, InplaceStopSource, JThread, NeverStopToken, StopCallback,
    StopReason, StopSource, StoppableToken,
};

static SHUTDOWN: InplaceStopSource = InplaceStopSource::new();

/// Written once against the trait; works with every token kind.
fn count_until_stopped(token: &impl StoppableToken, limit: u32) -> u32 {
    (0..limit).take_while(|_| !token.stop_requested()).count() as u32
}

fn main() {
    let started = Instant::now();

    // 1. A source asks, tokens observe.
    let source = StopSource::new();
    let token = source.token();
    println!(
        "1. new source: stop_requested={}, stop_possible={}",
        token.stop_requested(),
        token.stop_possible()
    );

    // 2. A stop callback runs on the requesting thread, inside request_stop.
    let (tx, rx) = mpsc::channel();
    let _on_stop = StopCallback::new(&token, move || {
        tx.send(std::thread::current().name().unwrap_or("?").to_owned())
            .unwrap();
    });
    let child = StopSource::child_of(&token);
    println!(
        "2. first request_stop -> {}, second -> {}",
        source.request_stop(),
        source.request_stop()
    );
    println!("   the callback ran on thread {:?}", rx.recv().unwrap());

    // 3. A child source follows its parent.
    println!(
        "3. child_of: the parent's stop reached the child: {}",
        child.stop_requested()
    );

    // 4. An inplace source in a static: no allocation at all.
    let _log = InplaceStopCallback::new(SHUTDOWN.token(), || {
        println!("4. static inplace source stopped (callback)")
    });
    SHUTDOWN.request_stop();

    // 5. Generic code, three token kinds.
    let fresh = StopSource::new();
    println!(
        "5. generic count: running shared={}, stopped inplace={}, never={}",
        count_until_stopped(&fresh.token(), 3),
        count_until_stopped(&SHUTDOWN.token(), 3),
        count_until_stopped(&NeverStopToken, 3)
    );

    // 6. A JThread's drop requests the stop and joins.
    let (done_tx, done_rx) = mpsc::channel();
    let worker = JThread::spawn(move |token| {
        let mut rounds = 0u64;
        while !token.stop_requested() {
            rounds += 1;
            std::thread::yield_now();
        }
        done_tx.send(rounds).unwrap();
    });
    drop(worker);
    // `drop` joined the thread, so its report is already in the channel.
    let rounds = done_rx
        .try_recv()
        .expect("the worker reported before the join ended");
    println!(
        "6. JThread dropped: its worker loop saw the stop after {rounds} rounds and was joined"
    );

    // 7. A one-hour sleep cut short by a stop.
    let sleeper = JThread::spawn(|token| sleep(Duration::from_secs(3600), &token));
    sleeper.request_stop();
    println!(
        "7. sleep(1 hour) after a stop -> {:?}",
        sleeper.join().unwrap()
    );

    // 8. A condvar wait woken by a stop instead of a notification.
    let pair = Arc::new((Mutex::new(Vec::<u32>::new()), Condvar::new()));
    let p = pair.clone();
    let consumer = JThread::spawn(move |token| {
        let (mutex, condvar) = &*p;
        let (_items, ready) = condvar
            .wait_while(mutex, &token, |items| items.is_empty())
            .unwrap();
        ready
    });
    consumer.request_stop();
    println!(
        "8. condvar wait with an empty queue, then a stop -> predicate held: {}",
        consumer.join().unwrap()
    );

    // 9. A stopped() future, polled by a tiny executor on this thread.
    let async_source = StopSource::new();
    let async_token = async_source.token();
    let stopper = std::thread::spawn(move || async_source.request_stop());
    block_on(async_token.stopped());
    stopper.join().unwrap();
    println!("9. the stopped() future completed after a stop from another thread");

    // 10. A stop reason: published with the stop, read by any token.
    let reasoned = StopSource::new();
    let watcher = reasoned.token();
    let watching = std::thread::spawn(move || {
        watcher.wait(); // parks until the stop
        watcher.stop_reason().cloned()
    });
    reasoned.request_stop_with(StopReason::Message("config reloaded"));
    println!(
        "10. a waiting thread woke; reason: {:?}",
        watching.join().unwrap()
    );

    // 11. Any-of: one source stopped by whichever of several stops first.
    let shutdown = StopSource::new();
    let client_gone = StopSource::new();
    let request = StopSource::any_of([shutdown.token(), client_gone.token()]);
    client_gone.request_stop_with(StopReason::Message("client hung up"));
    println!(
        "11. any_of(shutdown, client_gone): stopped={} with reason {:?}; shutdown untouched={}",
        request.stop_requested(),
        request.stop_reason(),
        !shutdown.stop_requested()
    );

    // 12. A deadline: the shared timer thread stops the source at its instant.
    let deadline_start = Instant::now();
    let budget = StopSource::after(Duration::from_millis(20));
    let stopped = budget.token().wait();
    println!(
        "12. a 20 ms deadline source stopped={stopped} after {:?}, reason {:?}",
        deadline_start.elapsed(),
        budget.stop_reason()
    );

    println!("tour finished in {:?}", started.elapsed());
}

/// Polls a future to completion on this thread, parking between polls.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

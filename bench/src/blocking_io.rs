//! Blocking I/O that a stop wakes (`stoptoken::io::Stoppable`): how soon a
//! blocked `read` or `accept` returns after `request_stop`, against the
//! park/unpark floor, and what the wrapper costs on a loopback stream.
//!
//! Latency: one long-lived waiter thread; per trial it gets a fresh token,
//! says it is about to block, and blocks; the requester spins 200 us (so that
//! it really is blocked), reads the clock and requests the stop; the waiter
//! reads the clock as soon as the call returns. The floor is the same trial
//! with the waiter parked (`thread::park`) and a `StopCallback` that unparks
//! it: the cost of waking a thread at all.
//!
//! Throughput: a writer thread sends 64 KiB chunks over loopback TCP as fast
//! as it can with plain blocking writes; the reader reads into a 64 KiB
//! buffer, through `Stoppable` or through the plain `TcpStream`. Runs come in
//! pairs, one of each, back to back; the medians and the median of the
//! pairs' ratios are reported.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use stoptoken::io::{is_stopped, Stoppable};
use stoptoken::{StopCallback, StopSource, StopToken};

use crate::harness::median;

/// Percentiles of a set of latency samples, in microseconds.
#[derive(Clone, Copy, Debug)]
pub struct Latency {
    /// The median.
    pub median_us: f64,
    /// The 99th percentile.
    pub p99_us: f64,
}

fn percentiles(mut samples: Vec<Duration>) -> Latency {
    samples.sort();
    let at = |q: f64| {
        let index = ((samples.len() - 1) as f64 * q).round() as usize;
        samples[index].as_secs_f64() * 1e6
    };
    Latency {
        median_us: at(0.5),
        p99_us: at(0.99),
    }
}

/// `trials` stop-to-return latencies of a waiter that `block`s on a fresh
/// token each trial (`block` sets the flag just before it blocks and returns
/// when the call came back, with the instant it did).
fn stop_latency(
    trials: usize,
    mut block: impl FnMut(StopToken, &AtomicBool) -> Instant + Send + 'static,
) -> Latency {
    let (tokens_tx, tokens) = mpsc::channel::<StopToken>();
    let (woke_tx, woke) = mpsc::channel::<Instant>();
    let ready = Arc::new(AtomicBool::new(false));
    let waiter = {
        let ready = ready.clone();
        thread::spawn(move || {
            for token in tokens {
                let _ = woke_tx.send(block(token, &ready));
            }
        })
    };
    let mut samples = Vec::with_capacity(trials);
    for trial in 0..trials + 5 {
        let source = StopSource::new();
        // Relaxed: only this thread stores `false`, before the waiter gets the token.
        ready.store(false, Ordering::Relaxed);
        tokens_tx.send(source.token()).expect("the waiter is gone");
        // Acquire: pairs with the waiter's Release store; only a signal.
        while !ready.load(Ordering::Acquire) {
            thread::yield_now();
        }
        // Spun, not slept: a requester that slept would first have to wake
        // up itself, and the figures would swing with the idle states of its core.
        let blocked_at = Instant::now();
        while blocked_at.elapsed() < Duration::from_micros(200) {
            std::hint::spin_loop();
        }
        let start = Instant::now();
        source.request_stop();
        let returned = woke.recv().expect("the waiter is gone");
        if trial >= 5 {
            // The first few warm up.
            samples.push(returned.saturating_duration_since(start));
        }
    }
    drop(tokens_tx);
    waiter.join().expect("the waiter panicked");
    percentiles(samples)
}

/// A connected loopback pair: (client, server side).
fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let client = TcpStream::connect(listener.local_addr().expect("address")).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    (client, server)
}

/// A `read` through `Stoppable` on a socket that never sends.
pub fn read_latency(trials: usize) -> Latency {
    let (client, server) = tcp_pair();
    let latency = stop_latency(trials, move |token, ready| {
        let mut stream = Stoppable::new(&server, token);
        // Release: pairs with the requester's Acquire load; only a signal.
        ready.store(true, Ordering::Release);
        let result = stream.read(&mut [0u8; 64]);
        let returned = Instant::now();
        assert!(result.as_ref().is_err_and(is_stopped), "{result:?}");
        returned
    });
    drop(client);
    latency
}

/// An `accept` through `Stoppable` on a listener nobody connects to.
pub fn accept_latency(trials: usize) -> Latency {
    let mut listener = Some(TcpListener::bind("127.0.0.1:0").expect("bind"));
    let latency = stop_latency(trials, move |token, ready| {
        let wrapped = Stoppable::new(listener.take().expect("kept"), token);
        // Release: pairs with the requester's Acquire load; only a signal.
        ready.store(true, Ordering::Release);
        let result = wrapped.accept();
        let returned = Instant::now();
        assert!(result.as_ref().is_err_and(is_stopped), "{result:?}");
        listener = Some(wrapped.into_inner());
        returned
    });
    latency
}

/// The floor: a parked thread that a `StopCallback` unparks.
pub fn park_latency(trials: usize) -> Latency {
    stop_latency(trials, |token, ready| {
        let me = thread::current();
        let _wake = StopCallback::new(&token, move || me.unpark());
        // Release: pairs with the requester's Acquire load; only a signal.
        ready.store(true, Ordering::Release);
        while !token.stop_requested() {
            thread::park();
        }
        Instant::now()
    })
}

/// Loopback throughput of 64 KiB reads through the plain `TcpStream` and
/// through `Stoppable`, over `pairs` pairs of runs of `mib` MiB each (the two
/// runs of a pair back to back, in alternating order, so that both see the
/// same load on a shared machine).
#[derive(Clone, Copy, Debug)]
pub struct Throughput {
    /// Median MiB/s of the plain stream.
    pub plain: f64,
    /// Median MiB/s through `Stoppable`.
    pub stoppable: f64,
    /// Median over the pairs of plain MiB/s / `Stoppable` MiB/s: the time
    /// through `Stoppable` relative to the plain stream.
    pub ratio: f64,
}

/// Measures [`Throughput`].
pub fn throughput(mib: usize, pairs: usize) -> Throughput {
    let (mut plain, mut wrapped, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for pair in 0..pairs {
        let (p, s) = if pair % 2 == 0 {
            let p = one_transfer(mib, false);
            (p, one_transfer(mib, true))
        } else {
            let s = one_transfer(mib, true);
            (one_transfer(mib, false), s)
        };
        plain.push(p);
        wrapped.push(s);
        ratios.push(p / s);
    }
    Throughput {
        plain: median(&mut plain),
        stoppable: median(&mut wrapped),
        ratio: median(&mut ratios),
    }
}

fn one_transfer(mib: usize, stoppable: bool) -> f64 {
    const CHUNK: usize = 64 * 1024;
    let total = mib * 1024 * 1024;
    let (mut client, server) = tcp_pair();
    let writer = thread::spawn(move || {
        let chunk = vec![0x5a_u8; CHUNK];
        let mut sent = 0;
        while sent < total {
            client.write_all(&chunk).expect("write");
            sent += CHUNK;
        }
    });
    let source = StopSource::new();
    let mut buf = vec![0u8; CHUNK];
    let start = Instant::now();
    let mut received = 0;
    if stoppable {
        let mut stream = Stoppable::new(server, source.token());
        while received < total {
            received += stream.read(&mut buf).expect("read");
        }
    } else {
        let mut stream = server;
        while received < total {
            received += stream.read(&mut buf).expect("read");
        }
    }
    let took = start.elapsed();
    writer.join().expect("the writer panicked");
    received as f64 / (1024.0 * 1024.0) / took.as_secs_f64()
}

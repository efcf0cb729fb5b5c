//! A soak test: several threads hammer shared stop states with random
//! interleavings of registrations (`StopCallback` and pinned `PinnedCallback`),
//! deregistrations, token clones and drops, `StopSource::child_of`, `stopped()`
//! futures polled with a counting waker, and `request_stop`. After each round it
//! checks that no callback was lost, run twice, run after its drop returned, or
//! leaked. Each round is followed by a stop group round: threads add units
//! (tracked ones and short threads) and end them while a `shutdown`, a
//! blocking `wait_timeout` and a `drained()` future drain the group; it checks
//! that late units start stopped, that every drain returns, and that the
//! group's count of finished units matches the units ended.
//! Prints one progress line per second and a final summary
//! `rounds=…, operations=…, violations=0`; exits with code 1 on any violation.
//!
//! Run: `cargo run --release --example soak -- --seconds 10`
//! Options: `--seconds N` (default 10), `--rounds N` (stop after N rounds),
//! `--seed N` (default fixed), `--threads N` (default 4), `--ops N` (operations
//! per thread per round, default 2000).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Context, Wake, Waker};
use std::time::{Duration, Instant};

use stoptoken::{
    PinnedCallback, StopCallback, StopFuture, StopGroup, StopSource, StopToken, Tracked,
};

/// Number of closures alive (created and not yet dropped); back to 0 after each round.
static LIVE_CLOSURES: AtomicUsize = AtomicUsize::new(0);
static VIOLATIONS: AtomicU64 = AtomicU64::new(0);
static OPERATIONS: AtomicU64 = AtomicU64::new(0);
static FIRST_VIOLATIONS: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// The seed of the running round: `--seed` and `--rounds` reproduce it.
static ROUND_SEED: AtomicU64 = AtomicU64::new(0);

fn violation(message: String) {
    let message = format!("{message} (round seed {})", ROUND_SEED.load(SeqCst));
    if VIOLATIONS.fetch_add(1, SeqCst) < 20 {
        eprintln!("VIOLATION: {message}");
        if let Ok(mut first) = FIRST_VIOLATIONS.lock() {
            first.push(message);
        }
    }
}

/// xorshift64*: small, fast, and reproducible from a seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // Spread the seed so that seeds 0, 1, 2 give unrelated streams.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What one callback has done, shared between its closure and its owner.
#[derive(Default)]
struct Track {
    /// Times the closure started.
    runs: AtomicU32,
    /// The closure is running right now.
    running: AtomicBool,
    /// The owner's drop of the registration has returned.
    dropped: AtomicBool,
}

/// Counts the closure in `LIVE_CLOSURES` while it exists.
struct LiveGuard;

impl LiveGuard {
    fn new() -> LiveGuard {
        LIVE_CLOSURES.fetch_add(1, SeqCst);
        LiveGuard
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        LIVE_CLOSURES.fetch_sub(1, SeqCst);
    }
}

type Closure = Box<dyn FnOnce() + Send>;

fn tracked_closure(track: &Arc<Track>) -> Closure {
    let track = track.clone();
    let guard = LiveGuard::new();
    Box::new(move || {
        let _guard = guard;
        if track.dropped.load(SeqCst) {
            violation("a callback started after its registration's drop returned".into());
        }
        track.running.store(true, SeqCst);
        if track.runs.fetch_add(1, SeqCst) != 0 {
            violation("a callback ran twice".into());
        }
        // Long enough for a concurrent drop to find it running.
        for _ in 0..64 {
            std::hint::spin_loop();
        }
        track.running.store(false, SeqCst);
    })
}

/// Held only to be dropped: dropping it deregisters the callback.
enum Registration {
    ByValue {
        _callback: StopCallback<Closure>,
    },
    Pinned {
        _callback: Pin<Box<PinnedCallback<StopToken, Closure>>>,
    },
}

struct Held {
    registration: Registration,
    track: Arc<Track>,
    state: usize,
}

impl Held {
    /// Drops the registration and checks that no run of the callback is still
    /// going on, or can start, once the drop has returned.
    fn deregister(self) {
        let Held {
            registration,
            track,
            ..
        } = self;
        drop(registration);
        if track.running.load(SeqCst) {
            violation("a registration's drop returned while its callback was running".into());
        }
        track.dropped.store(true, SeqCst);
        if track.runs.load(SeqCst) > 1 {
            violation("a callback ran more than once".into());
        }
    }
}

struct CountingWaker {
    wakes: AtomicU32,
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
    }
}

struct Watched {
    future: Pin<Box<StopFuture<StopToken>>>,
    counter: Arc<CountingWaker>,
    waker: Waker,
    last_pending: bool,
    state: usize,
}

impl Watched {
    fn poll(&mut self, sources: &[StopSource]) {
        let mut cx = Context::from_waker(&self.waker);
        let ready = self.future.as_mut().poll(&mut cx).is_ready();
        if ready && !sources[self.state].stop_requested() {
            violation("a stopped() future completed without a stop".into());
        }
        self.last_pending = !ready;
    }
}

/// One thread's share of a round: what it holds, and its random choices.
struct Worker<'a> {
    rng: Rng,
    sources: &'a [StopSource],
    firsts: &'a [AtomicU32],
    held: Vec<Held>,
    tokens: Vec<StopToken>,
    children: Vec<(StopSource, Vec<Held>)>,
    futures: Vec<Watched>,
    ops: u64,
}

impl Worker<'_> {
    fn register(&mut self, token: &StopToken, state: usize, pinned: bool) -> Held {
        let track = Arc::new(Track::default());
        let stopped_before = token.stop_requested();
        let closure = tracked_closure(&track);
        let registration = if pinned {
            let mut callback = Box::pin(PinnedCallback::new(token.clone(), closure));
            callback.as_mut().register();
            Registration::Pinned {
                _callback: callback,
            }
        } else {
            Registration::ByValue {
                _callback: StopCallback::new(token, closure),
            }
        };
        if stopped_before && track.runs.load(SeqCst) != 1 {
            violation("a callback registered after the stop did not run at once".into());
        }
        Held {
            registration,
            track,
            state,
        }
    }

    fn step(&mut self) {
        self.ops += 1;
        let n = self.sources.len();
        // Out of 1000: stops are rare, so most of a round runs before them.
        match self.rng.below(1000) {
            0..=299 => {
                let state = self.rng.below(n);
                let pinned = self.rng.below(2) == 0;
                let held = self.register(&self.sources[state].token(), state, pinned);
                self.held.push(held);
            }
            300..=499 if !self.held.is_empty() => {
                let i = self.rng.below(self.held.len());
                self.held.swap_remove(i).deregister();
            }
            500..=599 => {
                let state = self.rng.below(n);
                self.tokens.push(self.sources[state].token());
                if self.tokens.len() > 8 {
                    let i = self.rng.below(self.tokens.len());
                    let token = self.tokens.swap_remove(i);
                    let copy = token.clone();
                    if copy != token {
                        violation("a token's clone differs from it".into());
                    }
                }
            }
            600..=699 => {
                if self.children.len() < 4 {
                    let state = self.rng.below(n);
                    // Read before: a stop that starts after it may still be
                    // running the parent's callbacks when `child_of` returns.
                    let parent_stopped = self.sources[state].stop_requested();
                    let child = StopSource::child_of(&self.sources[state].token());
                    if parent_stopped && !child.stop_requested() {
                        violation("child_of a stopped parent is not stopped".into());
                    }
                    let token = child.token();
                    let callbacks = (0..self.rng.below(3))
                        .map(|_| {
                            let pinned = self.rng.below(2) == 0;
                            self.register(&token, state, pinned)
                        })
                        .collect();
                    self.children.push((child, callbacks));
                } else {
                    let i = self.rng.below(self.children.len());
                    let (child, callbacks) = self.children.swap_remove(i);
                    callbacks.into_iter().for_each(Held::deregister);
                    drop(child);
                }
            }
            700..=849 => {
                if self.futures.len() < 4 {
                    let state = self.rng.below(n);
                    let counter = Arc::new(CountingWaker {
                        wakes: AtomicU32::new(0),
                    });
                    let mut watched = Watched {
                        future: Box::pin(self.sources[state].token().into_stopped()),
                        waker: Waker::from(counter.clone()),
                        counter,
                        last_pending: false,
                        state,
                    };
                    watched.poll(self.sources);
                    self.futures.push(watched);
                } else {
                    let i = self.rng.below(self.futures.len());
                    if self.rng.below(2) == 0 {
                        self.futures[i].poll(self.sources);
                    } else {
                        self.futures.swap_remove(i);
                    }
                }
            }
            850..=854 => {
                let state = self.rng.below(n);
                self.request_stop(state);
            }
            _ => {
                let state = self.rng.below(n);
                let stopped = self.sources[state].stop_requested();
                if !self.sources[state].stop_possible() {
                    violation("a state with a live source reports !stop_possible".into());
                }
                if stopped && !self.sources[state].token().stop_requested() {
                    violation("a token disagrees with its source on stop_requested".into());
                }
            }
        }
    }

    fn request_stop(&mut self, state: usize) {
        if self.sources[state].request_stop() {
            self.firsts[state].fetch_add(1, SeqCst);
            // We made the first request and it has returned: every callback we
            // registered on this state, and still hold, has run.
            for held in self.held.iter().filter(|h| h.state == state) {
                if held.track.runs.load(SeqCst) != 1 {
                    violation("request_stop returned true before a held callback ran".into());
                }
            }
        }
    }

    /// After every source was stopped: everything still held ran exactly once,
    /// every pending future was woken exactly once. Then drops it all.
    fn finish(self) {
        for held in self
            .held
            .iter()
            .chain(self.children.iter().flat_map(|c| &c.1))
        {
            if held.track.runs.load(SeqCst) != 1 {
                violation(format!(
                    "a held callback ran {} times after the stop",
                    held.track.runs.load(SeqCst)
                ));
            }
        }
        for (child, _) in &self.children {
            if !child.stop_requested() {
                violation("a child was not stopped by its parent's stop".into());
            }
        }
        for mut watched in self.futures {
            let pending = watched.last_pending;
            let wakes = watched.counter.wakes.load(SeqCst);
            if pending && wakes != 1 {
                violation(format!(
                    "a pending stopped() future was woken {wakes} times"
                ));
            }
            watched.poll(self.sources);
            if watched.last_pending {
                violation("a stopped() future is pending after the stop".into());
            }
        }
        self.held.into_iter().for_each(Held::deregister);
        for (child, callbacks) in self.children {
            callbacks.into_iter().for_each(Held::deregister);
            drop(child);
        }
        OPERATIONS.fetch_add(self.ops, SeqCst);
    }
}

struct Options {
    seconds: u64,
    rounds: Option<u64>,
    seed: u64,
    threads: usize,
    ops: usize,
}

fn parse_options() -> Options {
    let mut options = Options {
        seconds: 10,
        rounds: None,
        seed: 0x5EED,
        threads: 4,
        ops: 2000,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).and_then(|v| v.parse::<u64>().ok());
        let Some(value) = value else {
            eprintln!("usage: soak [--seconds N] [--rounds N] [--seed N] [--threads N] [--ops N]");
            std::process::exit(2);
        };
        match args[i].as_str() {
            "--seconds" => options.seconds = value,
            "--rounds" => options.rounds = Some(value),
            "--seed" => options.seed = value,
            "--threads" => options.threads = value.max(2) as usize,
            "--ops" => options.ops = value as usize,
            other => {
                eprintln!("unknown option {other}");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    options
}

const ROOTS: usize = 8;

fn round(seed: u64, threads: usize, ops: usize) {
    let mut rng = Rng::new(seed);
    // ROOTS roots, then as many children, each of a random earlier state (so chains form).
    let mut sources: Vec<StopSource> = (0..ROOTS).map(|_| StopSource::new()).collect();
    for _ in 0..ROOTS {
        let parent = rng.below(sources.len());
        let child = StopSource::child_of(&sources[parent].token());
        sources.push(child);
    }
    let sources = &sources[..];
    let start = Barrier::new(threads);
    let stopped_all = Barrier::new(threads + 1);
    let ops_done = Barrier::new(threads + 1);
    // How many `request_stop` calls returned true, per state.
    let firsts: Vec<AtomicU32> = sources.iter().map(|_| AtomicU32::new(0)).collect();
    let firsts = &firsts[..];
    std::thread::scope(|s| {
        let mut workers = Vec::new();
        for t in 0..threads {
            let seed = rng.next() ^ t as u64;
            let (start, ops_done, stopped_all) = (&start, &ops_done, &stopped_all);
            workers.push(s.spawn(move || {
                let mut worker = Worker {
                    rng: Rng::new(seed),
                    sources,
                    firsts,
                    held: Vec::new(),
                    tokens: Vec::new(),
                    children: Vec::new(),
                    futures: Vec::new(),
                    ops: 0,
                };
                start.wait();
                for _ in 0..ops {
                    worker.step();
                }
                ops_done.wait();
                stopped_all.wait();
                worker.finish();
            }));
        }
        ops_done.wait();
        for (source, first) in sources.iter().zip(firsts) {
            if source.request_stop() {
                first.fetch_add(1, SeqCst);
            }
        }
        stopped_all.wait();
        // Joined, not just waited for, so no thread outlives the round.
        for worker in workers {
            if worker.join().is_err() {
                violation("a worker thread panicked".into());
            }
        }
    });
    for (i, (source, first)) in sources.iter().zip(firsts).enumerate() {
        // Roots are only stopped by a `request_stop` on them; children may be
        // stopped by their parent instead.
        let expected = if i < ROOTS { 1..=1 } else { 0..=1 };
        if !expected.contains(&first.load(SeqCst)) {
            violation(format!("state {i}: {} first requests", first.load(SeqCst)));
        }
        if !source.stop_requested() || source.request_stop() {
            violation("a state is not stopped, or accepted a second first request".into());
        }
    }
}

/// How long a drain of the group round may take before it counts as hung.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);

/// A stop group round: `threads` threads add and end units (tracked ones, and
/// now and then a short thread) at random, while a `shutdown`, a blocking
/// `wait_timeout` and a `drained()` future, started partway, drain the group.
fn group_round(seed: u64, threads: usize, ops: usize) {
    let mut rng = Rng::new(seed ^ 0x67_726f_7570);
    let group = StopGroup::new();
    // Units ended normally, as their owners count them.
    let ended = AtomicUsize::new(0);
    let start = Barrier::new(threads + 1);
    let (group, ended, start) = (&group, &ended, &start);
    std::thread::scope(|s| {
        let adders: Vec<_> = (0..threads)
            .map(|t| {
                let seed = rng.next() ^ t as u64;
                s.spawn(move || {
                    let mut rng = Rng::new(seed);
                    let mut held: Vec<Tracked> = Vec::new();
                    start.wait();
                    for _ in 0..ops {
                        OPERATIONS.fetch_add(1, SeqCst);
                        let stopped_before = group.stop_requested();
                        match rng.below(20) {
                            0..=9 => {
                                let unit = group.track("tracked");
                                if stopped_before && !unit.token().stop_requested() {
                                    violation("a unit added after the stop is not stopped".into());
                                }
                                held.push(unit);
                            }
                            10..=18 if !held.is_empty() => {
                                drop(held.swap_remove(rng.below(held.len())));
                                ended.fetch_add(1, SeqCst);
                            }
                            10..=18 => {}
                            _ => match group.spawn_thread("thread", |token| token.stop_requested())
                            {
                                Ok(thread) => {
                                    let saw_stop = thread.join().unwrap_or(false);
                                    ended.fetch_add(1, SeqCst);
                                    if stopped_before && !saw_stop {
                                        violation(
                                            "a thread added after the stop is not stopped".into(),
                                        );
                                    }
                                }
                                Err(e) => violation(format!("spawn_thread failed: {e}")),
                            },
                        }
                    }
                    ended.fetch_add(held.len(), SeqCst);
                })
            })
            .collect();
        start.wait();
        // The drains start partway through the adders' work.
        for _ in 0..rng.below(ops) {
            std::thread::yield_now();
        }
        let drain = s.spawn(|| group.shutdown(DRAIN_LIMIT));
        let waiter = s.spawn(|| group.wait_timeout(DRAIN_LIMIT));
        let future = s.spawn(|| futures::executor::block_on(group.drained()));
        for adder in adders {
            if adder.join().is_err() {
                violation("a group round adder panicked".into());
            }
        }
        // Every unit has ended: each drain must return, and not by its limit.
        match drain.join() {
            Ok(report) if report.elapsed() < DRAIN_LIMIT && report.panicked().is_empty() => {}
            Ok(report) => violation(format!("a drain timed out or saw a panic: {report:?}")),
            Err(_) => violation("the drain panicked".into()),
        }
        if !waiter.join().unwrap_or(false) {
            violation("wait_timeout did not see the drain".into());
        }
        if future.join().is_err() {
            violation("the drained() future panicked".into());
        }
    });
    let report = group.shutdown(Duration::ZERO);
    if !report.is_clean() || !group.is_empty() {
        violation(format!("units left after the group round: {report:?}"));
    }
    if report.finished() != ended.load(SeqCst) {
        violation(format!(
            "the group counted {} finished units, their owners {}",
            report.finished(),
            ended.load(SeqCst)
        ));
    }
}

fn main() {
    let options = parse_options();
    println!(
        "soak: seconds={} rounds={:?} seed={} threads={} ops/thread/round={}",
        options.seconds, options.rounds, options.seed, options.threads, options.ops
    );
    let start = Instant::now();
    let deadline = start + Duration::from_secs(options.seconds);
    let mut next_report = start + Duration::from_secs(1);
    let mut rounds = 0u64;
    loop {
        if options.rounds.is_some_and(|r| rounds >= r)
            || (options.rounds.is_none() && Instant::now() >= deadline)
        {
            break;
        }
        let seed = options.seed.wrapping_mul(1_000_003).wrapping_add(rounds);
        ROUND_SEED.store(seed, SeqCst);
        round(seed, options.threads, options.ops);
        group_round(seed, options.threads, options.ops / 4);
        let live = LIVE_CLOSURES.load(SeqCst);
        if live != 0 {
            violation(format!("round {rounds}: {live} closures leaked"));
            LIVE_CLOSURES.store(0, SeqCst);
        }
        rounds += 1;
        if Instant::now() >= next_report {
            println!(
                "[{:>4}s] rounds={rounds}, operations={}, violations={}",
                start.elapsed().as_secs(),
                OPERATIONS.load(SeqCst),
                VIOLATIONS.load(SeqCst)
            );
            next_report += Duration::from_secs(1);
        }
    }
    let violations = VIOLATIONS.load(SeqCst);
    println!(
        "rounds={rounds}, operations={}, violations={violations}",
        OPERATIONS.load(SeqCst)
    );
    if violations != 0 {
        if let Ok(first) = FIRST_VIOLATIONS.lock() {
            eprintln!("first violations: {first:#?}");
        }
        std::process::exit(1);
    }
}

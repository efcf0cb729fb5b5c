//! Propagation has no depth limit (contract part 7): stopping a root runs the
//! callbacks of every state linked below it, at any depth, exactly once each,
//! before the root's `request_stop` returns, with no recursion on the stack;
//! dropping such a tree, in any order, does not recurse either.
//!
//! Each test runs its stop (and its drops) on a thread with a 256 KiB stack, or
//! on the deadline thread, where a recursion per level would overflow long
//! before a million levels.
#![cfg(not(miri))] // a million states: far too slow under the interpreter

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use stoptoken::{StopCallback, StopReason, StopSource, StopToken};

const SMALL_STACK: usize = 256 * 1024;

/// Runs `f` on a new thread with a 256 KiB stack.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .expect("spawn a small-stack thread")
        .join()
        .expect("the small-stack thread panicked")
}

/// A chain of `depth` token-only states below `root`, each made by `level(i,
/// parent)`, with a callback every `every` levels that counts its runs in
/// `runs[i / every]`.
struct Chain {
    tokens: Vec<StopToken>,
    callbacks: Vec<StopCallback<Box<dyn FnOnce() + Send>>>,
    runs: Arc<Vec<AtomicU8>>,
}

fn chain(
    root: &StopToken,
    depth: usize,
    every: usize,
    level: impl Fn(usize, &StopToken) -> StopToken,
) -> Chain {
    let runs: Arc<Vec<AtomicU8>> = Arc::new(
        (0..depth.div_ceil(every))
            .map(|_| AtomicU8::new(0))
            .collect(),
    );
    let mut tokens = Vec::with_capacity(depth);
    let mut callbacks = Vec::new();
    let mut parent = root.clone();
    for i in 0..depth {
        let token = level(i, &parent);
        if i % every == 0 {
            let runs = runs.clone();
            let slot = i / every;
            let callback: Box<dyn FnOnce() + Send> = Box::new(move || {
                runs[slot].fetch_add(1, Ordering::Relaxed);
            });
            callbacks.push(StopCallback::new(&token, callback));
        }
        parent = token.clone();
        tokens.push(token);
    }
    Chain {
        tokens,
        callbacks,
        runs,
    }
}

impl Chain {
    fn assert_each_ran_once(&self) {
        let wrong = self
            .runs
            .iter()
            .enumerate()
            .find(|(_, runs)| runs.load(Ordering::Relaxed) != 1);
        assert!(
            wrong.is_none(),
            "callback {wrong:?} did not run exactly once"
        );
    }
}

/// A pseudo-random order of `0..n` (a fixed-seed xorshift shuffle).
fn shuffled(n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..n).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    order
}

#[test]
fn a_million_deep_child_chain_stops_from_a_256_kib_stack() {
    const DEPTH: usize = 1_000_000;
    let root = StopSource::new();
    let chain = chain(&root.token(), DEPTH, 10, |_, parent| {
        StopSource::child_of(parent).token()
    });
    let leaf = chain.tokens.last().unwrap().clone();
    assert!(leaf.stop_possible());
    let (root, chain) = on_small_stack(move || {
        assert!(root.request_stop_with(StopReason::Message("root")));
        // Every callback ran before `request_stop` returned.
        chain.assert_each_ran_once();
        (root, chain)
    });
    assert_eq!(leaf.stop_reason(), Some(&StopReason::Message("root")));
    // Root first: the leaf is the last handle to go, and takes the whole chain
    // with it, one state after the other.
    on_small_stack(move || {
        drop(root);
        drop(chain);
        drop(leaf);
    });
}

#[test]
fn a_mixed_chain_of_links_any_of_and_deadlines_stops_from_a_256_kib_stack() {
    const DEPTH: usize = 300_000;
    let root = StopSource::new();
    let bystander = StopSource::new();
    let far = Instant::now() + Duration::from_secs(3600);
    let chain = chain(&root.token(), DEPTH, 3, |i, parent| match i % 3 {
        0 => StopSource::child_of(parent).token(),
        1 => StopSource::any_of([parent.clone(), bystander.token()]).token(),
        _ => StopSource::child_with_deadline(parent, far).token(),
    });
    let chain = on_small_stack(move || {
        assert!(root.request_stop());
        chain.assert_each_ran_once();
        chain
    });
    assert!(!bystander.stop_requested());
    // Any order: a fixed shuffle of the handles, on a small stack.
    on_small_stack(move || {
        let Chain {
            tokens, callbacks, ..
        } = chain;
        drop(callbacks);
        let mut tokens: Vec<Option<StopToken>> = tokens.into_iter().map(Some).collect();
        for i in shuffled(tokens.len()) {
            tokens[i] = None;
        }
    });
}

#[test]
fn the_deadline_thread_stops_a_million_deep_chain() {
    const DEPTH: usize = 1_000_000;
    let root = StopSource::after(Duration::from_millis(1));
    let chain = chain(&root.token(), DEPTH, 100, |_, parent| {
        StopSource::child_of(parent).token()
    });
    drop(root); // the token-only root keeps its deadline
    let leaf = chain.tokens.last().unwrap().clone();
    assert!(
        leaf.wait_timeout(Duration::from_secs(60)),
        "the deadline stop never reached the leaf"
    );
    assert_eq!(leaf.stop_reason(), Some(&StopReason::Deadline));
    chain.assert_each_ran_once();
    // Leaf first: no cascade at all.
    on_small_stack(move || {
        let Chain {
            mut tokens,
            callbacks,
            ..
        } = chain;
        drop(callbacks);
        drop(leaf);
        while tokens.pop().is_some() {}
    });
}

#[test]
fn a_million_deep_chain_is_abandoned_without_recursion() {
    const DEPTH: usize = 1_000_000;
    let root = StopSource::new();
    let chain = chain(&root.token(), DEPTH, DEPTH, |_, parent| {
        StopSource::child_of(parent).token()
    });
    let leaf = chain.tokens.last().unwrap().clone();
    let waiter = {
        let leaf = leaf.clone();
        std::thread::spawn(move || leaf.wait_timeout(Duration::from_secs(60)))
    };
    // The root's last source goes without a stop: no state of the chain can
    // stop any more, and the waiter on the leaf is told so.
    on_small_stack(move || drop(root));
    assert!(!leaf.stop_possible());
    assert!(!waiter.join().unwrap(), "the wait on the leaf saw a stop");
    on_small_stack(move || drop((chain, leaf)));
}

#[cfg(feature = "tokio")]
#[test]
fn ten_thousand_nested_spawned_tasks_stop_from_a_256_kib_stack() {
    use stoptoken::task::{current_token, spawn, StopHandle};

    const DEPTH: usize = 10_000;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    // Each task spawns the next one (its token a child of its own) and then
    // waits for its stop; the handles come back to the test in order.
    let (tx, rx) = std::sync::mpsc::channel::<StopHandle<()>>();
    fn nest(level: usize, tx: std::sync::mpsc::Sender<StopHandle<()>>) -> StopHandle<()> {
        spawn(async move {
            if level > 0 {
                let _ = tx.send(nest(level - 1, tx.clone()));
            }
            drop(tx);
            current_token().stopped().await;
        })
    }
    let root = {
        let _runtime = runtime.enter();
        nest(DEPTH, tx)
    };
    let handles: Vec<StopHandle<()>> = (0..DEPTH)
        .map(|_| {
            rx.recv_timeout(Duration::from_secs(60))
                .expect("a nested task never started")
        })
        .collect();
    let root_token = root.stop_token();
    let root = on_small_stack(move || {
        assert!(root.request_stop());
        root
    });
    assert!(root_token.stop_requested());
    assert!(handles
        .iter()
        .all(|handle| handle.stop_token().stop_requested()));
    runtime.block_on(async move {
        root.await.unwrap();
        for handle in handles {
            handle.await.unwrap();
        }
    });
}

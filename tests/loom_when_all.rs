//! loom models of the per-child wakers of `when_all` / `when_any`: children
//! woken from another thread while the combinator takes and polls its batches.
//!
//! Run with:
//! `RUSTFLAGS="--cfg stoptoken_loom" cargo test --release --test loom_when_all`
#![cfg(stoptoken_loom)]

#[path = "common/loom.rs"]
mod common;

use common::{block_on, model};

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use loom::sync::{Arc, Mutex};
use loom::thread;
use stoptoken::task::{when_all, when_any};

/// A signal that another thread fires: `(fired, the waiting child's waker)`.
type Signal = Arc<Mutex<(bool, Option<Waker>)>>;

fn fire(signal: &Signal) {
    let waker = {
        let mut state = signal.lock().unwrap();
        state.0 = true;
        state.1.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// A child that returns `outcome` once its signal fired.
struct AwaitSignal<T>(Signal, Option<T>);

impl<T: Unpin> Future for AwaitSignal<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = &mut *self;
        let mut state = this.0.lock().unwrap();
        if state.0 {
            return Poll::Ready(this.1.take().expect("polled after it completed"));
        }
        state.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

fn signal() -> Signal {
    Arc::new(Mutex::new((false, None)))
}

/// Two children fired from another thread while the combinator takes its
/// batches and polls them: neither wake is lost, whatever the interleaving.
#[test]
fn children_woken_from_another_thread_during_polls_are_never_lost() {
    model(|| {
        let (first, second) = (signal(), signal());
        let firer = {
            let (first, second) = (first.clone(), second.clone());
            thread::spawn(move || {
                fire(&second);
                fire(&first);
            })
        };
        let all = when_all((
            AwaitSignal(first, Some(Ok::<_, ()>(1))),
            AwaitSignal(second, Some(Ok(2))),
        ));
        assert_eq!(block_on(all), Ok((1, 2)));
        firer.join().unwrap();
    });
}

/// The winner fired from another thread stops the group; the loser, which
/// only sees the stop by being polled again, is polled again.
#[test]
fn the_stop_after_a_winner_woken_from_another_thread_reaches_the_loser() {
    model(|| {
        let winner = signal();
        let firer = {
            let winner = winner.clone();
            thread::spawn(move || fire(&winner))
        };
        // Keeps no waker: the stop alone does not wake it.
        let loser = std::future::poll_fn(|_| {
            if stoptoken::task::current_token().stop_requested() {
                Poll::Ready(Err::<u8, ()>(()))
            } else {
                Poll::Pending
            }
        });
        let any = when_any((AwaitSignal(winner, Some(Ok(1))), loser));
        assert_eq!(block_on(any), Ok(1));
        firer.join().unwrap();
    });
}

//! `channel::stopped_receiver` in `crossbeam_channel::select!` loops, on real
//! threads; every wait is bounded (`common/bounded.rs`).
#![cfg(feature = "crossbeam-channel")]

#[path = "common/bounded.rs"]
mod bounded;

use std::time::Duration;

use crossbeam_channel::{select, unbounded, RecvError, TryRecvError};
use stoptoken::channel::stopped_receiver;
use stoptoken::{StopSource, StopToken};

#[test]
fn a_select_loop_takes_its_jobs_and_ends_at_the_stop() {
    let source = StopSource::new();
    let token = source.token();
    let (jobs, queue) = unbounded::<u32>();
    let (done_tx, done) = unbounded::<u32>();
    let worker = bounded::spawn(move || {
        let stopped = stopped_receiver(&token);
        loop {
            select! {
                recv(queue) -> job => done_tx.send(job.unwrap()).unwrap(),
                recv(stopped) -> signal => return signal,
            }
        }
    });
    for job in 0..3 {
        jobs.send(job).unwrap();
        assert_eq!(done.recv_timeout(bounded::BOUND), Ok(job));
    }
    worker.until_blocked("the select");
    source.request_stop();
    assert_eq!(worker.join("the stopped worker"), Err(RecvError));
}

#[test]
fn a_stop_before_the_call_gives_a_receiver_that_is_ready_at_once() {
    let source = StopSource::new();
    source.request_stop();
    let stopped = stopped_receiver(&source.token());
    assert_eq!(stopped.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn every_receiver_and_clone_of_one_token_is_released_by_the_stop() {
    let source = StopSource::new();
    let token = source.token();
    let receivers: Vec<_> = (0..100).map(|_| stopped_receiver(&token)).collect();
    let clones: Vec<_> = receivers.iter().map(Clone::clone).collect();
    let waiters: Vec<_> = clones
        .into_iter()
        .take(4)
        .map(|receiver| bounded::spawn(move || receiver.recv()))
        .collect();
    for waiter in &waiters {
        waiter.until_blocked("a receiver");
    }
    assert!(receivers
        .iter()
        .all(|r| r.try_recv() == Err(TryRecvError::Empty)));
    source.request_stop();
    for waiter in waiters {
        assert_eq!(waiter.join("a released receiver"), Err(RecvError));
    }
    assert!(receivers
        .iter()
        .all(|r| r.try_recv() == Err(TryRecvError::Disconnected)));
}

#[test]
fn receivers_of_different_tokens_are_independent() {
    let (first, second) = (StopSource::new(), StopSource::new());
    let (a, b) = (
        stopped_receiver(&first.token()),
        stopped_receiver(&second.token()),
    );
    first.request_stop();
    assert_eq!(a.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(b.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_child_tokens_receiver_is_released_by_the_parents_stop() {
    let parent = StopSource::new();
    let child = StopSource::child_of(&parent.token()).token();
    let stopped = stopped_receiver(&child);
    let waiter = bounded::spawn(move || stopped.recv());
    waiter.until_blocked("the receiver");
    parent.request_stop();
    assert_eq!(waiter.join("the released receiver"), Err(RecvError));
}

#[test]
fn receivers_made_in_every_round_of_a_loop_all_work() {
    let source = StopSource::new();
    let token = source.token();
    for _ in 0..10_000 {
        let stopped = stopped_receiver(&token);
        assert_eq!(stopped.try_recv(), Err(TryRecvError::Empty));
    }
    let last = stopped_receiver(&token);
    source.request_stop();
    assert_eq!(last.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn a_disengaged_token_gives_a_receiver_that_is_never_ready() {
    let never = stopped_receiver(&StopToken::default());
    assert_eq!(never.try_recv(), Err(TryRecvError::Empty));
    let (jobs, queue) = unbounded::<u32>();
    jobs.send(1).unwrap();
    select! {
        recv(queue) -> job => assert_eq!(job, Ok(1)),
        recv(never) -> _ => panic!("a disengaged token's receiver was ready"),
        default(Duration::from_secs(5)) => panic!("the job was not taken"),
    }
}

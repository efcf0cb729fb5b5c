//! Inplace and never-stopping tokens (C++26) and the `StoppableToken` trait.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;

use stoptoken::{
    InplaceStopCallback, InplaceStopSource, InplaceStopToken, NeverStopToken, StopCallback,
    StopSource, StopToken, StoppableToken, UnstoppableToken,
};

static SHUTDOWN: InplaceStopSource = InplaceStopSource::new();

fn traits<T: Send + Sync + Copy + Clone + Default + PartialEq + Eq + std::fmt::Debug>() {}

#[test]
fn tokens_have_the_contracted_traits() {
    traits::<InplaceStopToken<'static>>();
    traits::<NeverStopToken>();
    fn source<T: Send + Sync + Default>() {}
    source::<InplaceStopSource>();
    assert_eq!(std::mem::size_of::<NeverStopToken>(), 0);
}

#[test]
fn static_inplace_source_works() {
    let token = SHUTDOWN.token();
    let (tx, rx) = mpsc::channel();
    let _callback = InplaceStopCallback::new(token, move || tx.send("stopped").unwrap());
    let waiter = thread::spawn(move || rx.recv().unwrap());
    assert!(SHUTDOWN.request_stop());
    assert_eq!(waiter.join().unwrap(), "stopped");
    assert!(token.stop_requested());
    assert!(!SHUTDOWN.request_stop());
}

#[test]
fn inplace_token_equality_and_engagement() {
    let a = InplaceStopSource::new();
    let b = InplaceStopSource::new();
    assert_eq!(a.token(), a.token());
    assert_ne!(a.token(), b.token());
    assert_ne!(a.token(), InplaceStopToken::default());
    assert_eq!(InplaceStopToken::default(), InplaceStopToken::default());
    assert!(a.token().stop_possible());
    assert!(a.stop_possible());
    assert!(!InplaceStopToken::default().stop_possible());
    assert!(!InplaceStopToken::default().stop_requested());
}

#[test]
fn inplace_callback_rules_match_shared_ones() {
    let source = InplaceStopSource::new();
    let count = Arc::new(AtomicUsize::new(0));
    let bump = |count: &Arc<AtomicUsize>| {
        let count = count.clone();
        move || {
            count.fetch_add(1, Ordering::SeqCst);
        }
    };
    let kept = InplaceStopCallback::new(source.token(), bump(&count));
    drop(InplaceStopCallback::new(source.token(), bump(&count))); // deregistered
    let unengaged = InplaceStopCallback::new(InplaceStopToken::default(), bump(&count));
    thread::scope(|s| {
        s.spawn(|| assert!(source.request_stop()));
    });
    assert_eq!(count.load(Ordering::SeqCst), 1);
    let _late = InplaceStopCallback::new(source.token(), bump(&count)); // runs at once
    assert_eq!(count.load(Ordering::SeqCst), 2);
    drop((kept, unengaged));
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn never_stop_token_is_constant_false_and_keeps_its_callback_unrun() {
    const NEVER: NeverStopToken = NeverStopToken::new();
    const _: () = assert!(!NEVER.stop_requested() && !NEVER.stop_possible());
    let guard = Arc::new(());
    let held = guard.clone();
    let callback = NEVER.on_stop(move || {
        drop(held);
        unreachable!()
    });
    assert_eq!(Arc::strong_count(&guard), 2);
    drop(callback);
    assert_eq!(Arc::strong_count(&guard), 1);
}

/// Written once against the trait, used with all three token kinds.
fn count_until_stopped<T: StoppableToken>(token: &T, limit: u32) -> u32 {
    let mut n = 0;
    while n < limit && !token.stop_requested() {
        n += 1;
    }
    n
}

fn on_stop_counts<T: StoppableToken>(
    token: &T,
    count: &Arc<AtomicUsize>,
) -> T::Callback<impl FnOnce() + Send + 'static> {
    let count = count.clone();
    token.on_stop(move || {
        count.fetch_add(1, Ordering::SeqCst);
    })
}

#[test]
fn generic_code_works_with_all_three_token_kinds() {
    let shared = StopSource::new();
    let inplace = InplaceStopSource::new();
    let count = Arc::new(AtomicUsize::new(0));
    let c1 = on_stop_counts(&shared.token(), &count);
    let c2 = on_stop_counts(&inplace.token(), &count);
    let c3 = on_stop_counts(&NeverStopToken, &count);
    assert_eq!(count_until_stopped(&shared.token(), 10), 10);
    assert_eq!(count_until_stopped(&NeverStopToken, 10), 10);
    shared.request_stop();
    inplace.request_stop();
    assert_eq!(count_until_stopped(&shared.token(), 10), 0);
    assert_eq!(count_until_stopped(&inplace.token(), 10), 0);
    assert_eq!(count.load(Ordering::SeqCst), 2);
    drop((c1, c2, c3));
}

fn unstoppable<T: UnstoppableToken>(token: T) -> bool {
    token.stop_possible()
}

#[test]
fn only_never_stop_token_is_unstoppable() {
    assert!(!unstoppable(NeverStopToken));
    fn stoppable<T: StoppableToken>() {}
    stoppable::<StopToken>();
    stoppable::<InplaceStopToken<'_>>();
}

#[test]
fn shared_callback_type_is_the_trait_callback() {
    let source = StopSource::new();
    let callback: StopCallback<_> = source.token().on_stop(|| {});
    drop(callback);
}

//! The familiar conveniences (contract part 11): `StopSource::drop_guard`,
//! `task::FutureExt` and its named futures, `task::try_current_token`.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures::executor::block_on;
use stoptoken::task::{
    current_token, try_current_token, until_stopped, until_stopped_with, with_stop_token,
    FutureExt, UntilStopped, WithStopToken,
};
use stoptoken::{StopCallback, StopGuard, StopSource, StopToken, Stopped};

// --- StopGuard ---------------------------------------------------------------

#[test]
fn dropping_a_guard_requests_the_stop() {
    let source = StopSource::new();
    let token = source.token();
    let guard = source.drop_guard();
    assert!(!token.stop_requested());
    drop(guard);
    assert!(token.stop_requested());
}

#[test]
fn dropping_the_last_source_makes_a_stop_impossible_but_a_guard_stops() {
    let plain = StopSource::new();
    let abandoned = plain.token();
    drop(plain);
    assert!(!abandoned.stop_possible());
    assert!(!abandoned.stop_requested());

    let guarded = StopSource::new().drop_guard();
    let token = guarded.source().token();
    drop(guarded);
    assert!(token.stop_requested());
}

#[test]
fn disarm_returns_the_source_without_a_stop() {
    let guard = StopSource::new().drop_guard();
    let token = guard.source().token();
    let source = guard.disarm();
    assert!(!token.stop_requested());
    assert_eq!(source.token(), token);
    drop(source);
    assert!(!token.stop_requested());
    assert!(!token.stop_possible());
}

#[test]
fn a_guard_runs_the_callbacks_in_its_drop() {
    let source = StopSource::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let _callback = StopCallback::new(&source.token(), move || {
        counted.fetch_add(1, Ordering::Relaxed);
    });
    drop(source.drop_guard());
    assert_eq!(runs.load(Ordering::Relaxed), 1);
}

#[test]
fn a_guard_stops_on_unwind_and_a_panicking_callback_does_not_abort() {
    let source = StopSource::new();
    let token = source.token();
    let _panics = StopCallback::new(&token, || panic!("callback panic during unwind"));
    let outcome = catch_unwind(AssertUnwindSafe(move || {
        let _guard = source.drop_guard();
        panic!("the scope fails");
    }));
    assert!(outcome.is_err());
    assert!(token.stop_requested());
}

#[test]
fn a_guard_of_a_disengaged_source_does_nothing() {
    let guard = StopSource::no_state().drop_guard();
    assert!(!guard.source().stop_possible());
    drop(guard);
}

#[test]
fn stop_guard_debug_shows_its_source() {
    let guard = StopSource::new().drop_guard();
    let text = format!("{guard:?}");
    assert!(text.starts_with("StopGuard"), "{text}");
    assert!(text.contains("stop_requested: false"), "{text}");
    let _: &StopGuard = &guard;
}

// --- FutureExt and the named futures ------------------------------------------

#[test]
fn until_stopped_method_completes_when_no_stop_comes() {
    let source = StopSource::new();
    let token = source.token();
    assert_eq!(block_on(async { 5 }.until_stopped(&token)), Ok(5));
    assert_eq!(block_on(async { 6 }.until_stopped(token)), Ok(6));
}

#[test]
fn until_stopped_method_drops_the_future_unpolled_when_already_stopped() {
    let source = StopSource::new();
    source.request_stop();
    let polled = AtomicUsize::new(0);
    let work = std::future::poll_fn(|_| {
        polled.fetch_add(1, Ordering::Relaxed);
        Poll::Ready(())
    });
    assert_eq!(block_on(work.until_stopped(source.token())), Err(Stopped));
    assert_eq!(polled.load(Ordering::Relaxed), 0);
}

/// Counts its drops, to check when the inner future goes.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn until_stopped_drops_the_inner_future_before_returning_err() {
    let source = StopSource::new();
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = DropCounter(Arc::clone(&drops));
    let mut cut = pin!(async move {
        let _guard = guard;
        std::future::pending::<()>().await
    }
    .until_stopped(source.token()));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(cut.as_mut().poll(&mut cx).is_pending());
    assert_eq!(drops.load(Ordering::Relaxed), 0);
    source.request_stop();
    assert_eq!(cut.as_mut().poll(&mut cx), Poll::Ready(Err(Stopped)));
    assert_eq!(drops.load(Ordering::Relaxed), 1);
}

#[test]
fn until_stopped_is_woken_by_a_stop_from_another_thread() {
    let source = StopSource::new();
    let token = source.token();
    let (started_tx, started) = std::sync::mpsc::channel();
    let stopper = std::thread::spawn(move || {
        started.recv().unwrap();
        source.request_stop();
    });
    let outcome = block_on(async move {
        started_tx.send(()).unwrap();
        std::future::pending::<()>().until_stopped(&token).await
    });
    assert_eq!(outcome, Err(Stopped));
    stopper.join().unwrap();
}

#[test]
fn free_until_stopped_reads_the_current_token_at_the_first_poll() {
    let source = StopSource::new();
    let work: UntilStopped<_> = until_stopped(std::future::pending::<()>());
    source.request_stop();
    assert_eq!(
        block_on(with_stop_token(source.token(), work)),
        Err(Stopped)
    );
    // Outside any `with_stop_token` it just runs the future.
    assert_eq!(block_on(until_stopped(async { 1 })), Ok(1));
}

#[test]
fn until_stopped_with_returns_the_named_future() {
    let source = StopSource::new();
    let named: UntilStopped<std::future::Ready<u8>> =
        until_stopped_with(source.token(), std::future::ready(3));
    assert_eq!(block_on(named), Ok(3));
}

#[test]
#[should_panic(expected = "polled after it completed")]
fn until_stopped_panics_when_polled_after_completion() {
    let mut done = pin!(async { 1 }.until_stopped(StopToken::default()));
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(done.as_mut().poll(&mut cx), Poll::Ready(Ok(1)));
    let _ = done.as_mut().poll(&mut cx);
}

#[test]
fn with_stop_token_method_installs_the_token() {
    let source = StopSource::new();
    let named: WithStopToken<_> = async { current_token() }.with_stop_token(source.token());
    assert_eq!(block_on(named), source.token());
}

#[test]
fn with_stop_token_drops_an_unpolled_future_with_the_token_current() {
    struct SeesToken(Arc<AtomicUsize>);
    impl Drop for SeesToken {
        fn drop(&mut self) {
            if current_token().stop_requested() {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    let source = StopSource::new();
    source.request_stop();
    let seen = Arc::new(AtomicUsize::new(0));
    let held = SeesToken(Arc::clone(&seen));
    let unpolled = async move {
        let _held = held;
    }
    .with_stop_token(source.token());
    drop(unpolled);
    assert_eq!(seen.load(Ordering::Relaxed), 1);
}

#[test]
fn the_methods_compose_and_the_named_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let source = StopSource::new();
    let token = source.token();
    let work = async { current_token() == StopToken::default() }
        .with_stop_token(token.clone())
        .until_stopped(&token);
    assert_send(&work);
    assert_eq!(block_on(work), Ok(false));
}

#[test]
fn named_futures_have_debug() {
    let source = StopSource::new();
    let until = async {}.until_stopped(source.token());
    let with = async {}.with_stop_token(source.token());
    assert!(format!("{until:?}").starts_with("UntilStopped"));
    assert!(format!("{with:?}").starts_with("WithStopToken"));
}

// --- try_current_token -------------------------------------------------------

#[test]
fn try_current_token_is_none_outside_and_some_inside() {
    assert_eq!(try_current_token(), None);
    let source = StopSource::new();
    let inside = block_on(with_stop_token(source.token(), async {
        std::future::ready(()).await;
        try_current_token()
    }));
    assert_eq!(inside, Some(source.token()));
    assert_eq!(try_current_token(), None);
}

#[test]
fn try_current_token_tells_a_disengaged_current_token_from_none() {
    let inside = block_on(with_stop_token(StopToken::default(), async {
        try_current_token()
    }));
    assert_eq!(inside, Some(StopToken::default()));
}

#[test]
fn a_future_spawned_onto_another_executor_loses_the_current_token() {
    let source = StopSource::new();
    let (seen_tx, seen) = std::sync::mpsc::channel();
    block_on(with_stop_token(source.token(), async move {
        assert!(try_current_token().is_some());
        // A plain spawn: the future runs on another thread, outside the wrapper.
        std::thread::spawn(move || seen_tx.send(block_on(async { try_current_token() })))
            .join()
            .unwrap()
            .unwrap();
    }));
    assert_eq!(seen.recv().unwrap(), None);
}

// --- Debug on every public type ----------------------------------------------

fn assert_debug<T: std::fmt::Debug>() {}

#[test]
fn every_public_type_implements_debug() {
    type Callback = fn();
    assert_debug::<stoptoken::StopSource>();
    assert_debug::<stoptoken::StopToken>();
    assert_debug::<stoptoken::StopCallback<Callback>>();
    assert_debug::<stoptoken::PinnedCallback<StopToken, Callback>>();
    assert_debug::<stoptoken::PinnedCallback<&'static StopToken, Callback>>();
    assert_debug::<stoptoken::StopFuture<StopToken>>();
    assert_debug::<stoptoken::StopFuture<&'static StopToken>>();
    assert_debug::<stoptoken::StopGuard>();
    assert_debug::<stoptoken::StopReason>();
    assert_debug::<stoptoken::Stopped>();
    assert_debug::<stoptoken::InplaceStopSource>();
    assert_debug::<stoptoken::InplaceStopToken<'static>>();
    assert_debug::<stoptoken::InplaceStopCallback<'static, Callback>>();
    assert_debug::<stoptoken::NeverStopToken>();
    assert_debug::<stoptoken::NeverStopCallback<Callback>>();
    assert_debug::<stoptoken::JThread<()>>();
    assert_debug::<stoptoken::thread::Builder>();
    assert_debug::<stoptoken::thread::Condvar>();
    assert_debug::<stoptoken::thread::Scope<'static, 'static>>();
    assert_debug::<stoptoken::StopGroup>();
    assert_debug::<stoptoken::Tracked>();
    assert_debug::<stoptoken::ShutdownReport>();
    assert_debug::<stoptoken::group::Drained<'static>>();
    assert_debug::<UntilStopped<std::future::Pending<()>>>();
    assert_debug::<WithStopToken<std::future::Pending<()>>>();
    #[cfg(feature = "tokio")]
    assert_debug::<stoptoken::task::StopHandle<()>>();
    #[cfg(feature = "tokio-util")]
    {
        assert_debug::<stoptoken::task::CancelOnStop>();
        assert_debug::<stoptoken::task::StopOnCancel>();
    }
    #[cfg(all(unix, feature = "io"))]
    assert_debug::<stoptoken::io::Stoppable<std::net::TcpStream>>();
    #[cfg(feature = "tower")]
    {
        assert_debug::<stoptoken::tower::StopLayer>();
        assert_debug::<stoptoken::tower::StopService<()>>();
        assert_debug::<stoptoken::tower::DeadlineLayer>();
        assert_debug::<stoptoken::tower::DeadlineService<()>>();
        assert_debug::<stoptoken::tower::ResponseFuture<std::future::Pending<()>>>();
    }
}

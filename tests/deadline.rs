//! Deadline sources: one shared timer thread stops them at their instant, with
//! `StopReason::Deadline`; dropping the last source cancels the entry.

use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use stoptoken::{StopCallback, StopReason, StopSource};

#[test]
fn a_deadline_stops_the_source_no_earlier_than_its_instant() {
    let deadline = Instant::now() + Duration::from_millis(20);
    let source = StopSource::with_deadline(deadline);
    let token = source.token();
    assert!(token.wait());
    assert!(Instant::now() >= deadline, "the deadline fired early");
    assert_eq!(token.stop_reason(), Some(&StopReason::Deadline));
    assert!(token.stop_reason().unwrap().is_deadline());
}

#[test]
fn after_is_a_deadline_from_now() {
    let start = Instant::now();
    let source = StopSource::after(Duration::from_millis(5));
    assert!(source.token().wait());
    assert!(start.elapsed() >= Duration::from_millis(5));
    assert_eq!(source.stop_reason(), Some(&StopReason::Deadline));
}

#[test]
fn a_passed_deadline_stops_before_returning() {
    let past = Instant::now();
    let source = StopSource::with_deadline(past);
    assert_eq!(source.stop_reason(), Some(&StopReason::Deadline));
    let source = StopSource::after(Duration::ZERO);
    assert!(source.stop_requested());
}

#[test]
fn a_request_before_the_deadline_keeps_its_reason() {
    let source = StopSource::after(Duration::from_secs(3600));
    source.request_stop_with(StopReason::Message("early"));
    assert_eq!(source.stop_reason(), Some(&StopReason::Message("early")));
}

#[test]
fn an_unrepresentable_timeout_never_fires() {
    let source = StopSource::after(Duration::MAX);
    assert!(!source.token().wait_timeout(Duration::from_millis(1)));
    assert!(source.stop_possible());
}

#[test]
fn all_deadlines_fire_on_one_thread_in_deadline_order() {
    let start = Instant::now();
    let fired = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    // Registered in reverse order of their deadlines, which are far enough
    // ahead for the registrations to finish first even under miri.
    let sources: Vec<_> = (0..16u64)
        .rev()
        .map(|i| {
            let source = StopSource::with_deadline(start + Duration::from_millis(1000 + i));
            assert!(!source.stop_requested(), "registering took too long");
            let (fired, tx) = (fired.clone(), tx.clone());
            let callback = StopCallback::new(&source.token(), move || {
                fired.lock().unwrap().push(i);
                let thread = std::thread::current();
                tx.send((thread.id(), thread.name().map(str::to_owned)))
                    .unwrap();
            });
            (source, callback)
        })
        .collect();
    let threads: Vec<_> = (0..16).map(|_| rx.recv().unwrap()).collect();
    assert!(threads.iter().all(|t| t == &threads[0]), "{threads:?}");
    assert_eq!(threads[0].1.as_deref(), Some("stoptoken-deadline"));
    assert_eq!(*fired.lock().unwrap(), (0..16).collect::<Vec<_>>());
    drop(sources);
}

// That the entry is removed (and the state freed) with the last handle is
// checked in tests/alloc.rs, which counts allocations.
#[test]
fn a_token_alone_keeps_the_deadline() {
    let token = StopSource::after(Duration::from_millis(10)).token();
    assert!(token.stop_possible(), "the deadline can still fire");
    assert!(token.wait());
    assert_eq!(token.stop_reason(), Some(&StopReason::Deadline));
    let child = StopSource::child_with_deadline(&StopSource::new().token(), Instant::now()).token();
    assert_eq!(
        child.stop_reason(),
        Some(&StopReason::Deadline),
        "a passed deadline"
    );
}

#[test]
fn a_child_with_a_deadline_stops_at_whichever_comes_first() {
    let parent = StopSource::new();
    let child =
        StopSource::child_with_deadline(&parent.token(), Instant::now() + Duration::from_millis(5));
    assert!(child.token().wait());
    assert_eq!(child.stop_reason(), Some(&StopReason::Deadline));
    assert!(!parent.stop_requested());

    let child = StopSource::child_with_deadline(
        &parent.token(),
        Instant::now() + Duration::from_secs(3600),
    );
    parent.request_stop_with(StopReason::Signal(15));
    assert_eq!(child.stop_reason(), Some(&StopReason::Signal(15)));
}

#[test]
fn a_panicking_callback_does_not_end_the_timer_thread() {
    // The callback panics only on the timer thread. If the deadline came
    // before the registration (a slow machine, or miri), the callback ran
    // inside `new` on this thread instead: try again with a longer delay.
    let here = std::thread::current().id();
    let mut delay = Duration::from_millis(1);
    loop {
        let source = StopSource::after(delay);
        let _panics = StopCallback::new(&source.token(), move || {
            if std::thread::current().id() != here {
                panic!("callback panic (expected)");
            }
        });
        assert!(source.token().wait());
        if !format!("{_panics:?}").contains("registered: false") {
            break; // it ran, and panicked, on the timer thread
        }
        assert!(delay < Duration::from_secs(60), "never registered in time");
        delay *= 8;
    }
    let next = StopSource::after(Duration::from_millis(1));
    assert!(next.token().wait(), "the timer thread died with the panic");
}

#[test]
fn callbacks_on_the_timer_thread_may_create_and_drop_deadline_sources() {
    let (tx, rx) = mpsc::channel();
    let source = StopSource::after(Duration::from_millis(1));
    let _nested = StopCallback::new(&source.token(), move || {
        let inner = StopSource::after(Duration::from_secs(3600));
        drop(inner); // cancels through the timer's mutex: no deadlock
        let soon = StopSource::after(Duration::from_millis(1));
        tx.send(soon).unwrap();
    });
    let soon = rx.recv().unwrap();
    assert!(soon.token().wait());
}

#[test]
fn deadline_is_the_earliest_linked_through_any_chain() {
    let soon = Instant::now() + Duration::from_secs(60);
    let later = soon + Duration::from_secs(60);
    let outer = StopSource::with_deadline(later);
    let budget = StopSource::child_with_deadline(&outer.token(), soon);
    assert_eq!(outer.deadline(), Some(later));
    assert_eq!(budget.deadline(), Some(soon), "its own is earlier");
    let tighter_parent = StopSource::child_with_deadline(&budget.token(), later);
    assert_eq!(
        tighter_parent.deadline(),
        Some(soon),
        "the parent's is earlier"
    );
    let plain = StopSource::new();
    let any = StopSource::any_of([plain.token(), StopSource::child_of(&budget.token()).token()]);
    assert_eq!(
        any.token().deadline(),
        Some(soon),
        "through any_of and child_of"
    );
    assert_eq!(StopSource::child_of(&plain.token()).deadline(), None);
    assert_eq!(stoptoken::StopToken::default().deadline(), None);
    assert_eq!(StopSource::no_state().deadline(), None);
}

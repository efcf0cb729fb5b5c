//! `StopSource::any_of`: stopped by the first of its inputs, with that input's
//! reason; its links all go with its last source.

use std::sync::mpsc;

use stoptoken::{StopCallback, StopReason, StopSource, StopToken};

#[test]
fn any_input_stops_it_with_its_reason() {
    for stopped in 0..4 {
        let inputs: Vec<StopSource> = (0..4).map(|_| StopSource::new()).collect();
        let any = StopSource::any_of(inputs.iter().map(StopSource::token));
        assert!(!any.stop_requested());
        inputs[stopped].request_stop_with(StopReason::Signal(stopped as i32));
        assert!(any.stop_requested());
        assert_eq!(any.stop_reason(), Some(&StopReason::Signal(stopped as i32)));
        for (i, input) in inputs.iter().enumerate() {
            assert_eq!(input.stop_requested(), i == stopped, "a stop went sideways");
        }
    }
}

#[test]
fn the_first_input_to_stop_wins() {
    let (a, b) = (StopSource::new(), StopSource::new());
    let any = StopSource::any_of([&a.token(), &b.token()]);
    b.request_stop_with(StopReason::Message("b"));
    a.request_stop_with(StopReason::Message("a"));
    assert_eq!(any.stop_reason(), Some(&StopReason::Message("b")));
}

#[test]
fn an_input_already_stopped_stops_it_at_once() {
    let (a, b) = (StopSource::new(), StopSource::new());
    b.request_stop_with(StopReason::Deadline);
    let any = StopSource::any_of([a.token(), b.token()]);
    assert_eq!(any.stop_reason(), Some(&StopReason::Deadline));
}

#[test]
fn its_own_stop_reaches_no_input() {
    let (a, b) = (StopSource::new(), StopSource::new());
    let any = StopSource::any_of([a.token(), b.token()]);
    assert!(any.request_stop());
    assert!(!a.stop_requested() && !b.stop_requested());
}

#[test]
fn no_engaged_input_gives_a_plain_source() {
    let any = StopSource::any_of(Vec::<StopToken>::new());
    assert!(any.stop_possible() && any.token().stop_possible());
    let any = StopSource::any_of([StopToken::default()]);
    assert!(any.request_stop());
}

#[test]
fn its_callbacks_run_on_the_stopping_inputs_thread() {
    let (a, b) = (StopSource::new(), StopSource::new());
    let any = StopSource::any_of([a.token(), b.token()]);
    let (tx, rx) = mpsc::channel();
    let _callback = StopCallback::new(&any.token(), move || {
        tx.send(std::thread::current().name().map(str::to_owned))
            .unwrap();
    });
    std::thread::Builder::new()
        .name("stopper".into())
        .spawn(move || b.request_stop())
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(rx.recv().unwrap().as_deref(), Some("stopper"));
}

#[test]
fn a_token_alone_keeps_the_links() {
    let inputs: Vec<StopSource> = (0..16).map(|_| StopSource::new()).collect();
    let any = StopSource::any_of(inputs.iter().map(StopSource::token));
    let token = any.token();
    drop(any);
    // The links belong to the state: the token keeps them (that they are
    // removed and freed with the last handle is checked in tests/alloc.rs).
    assert!(token.stop_possible());
    inputs[3].request_stop_with(StopReason::Message("three"));
    assert!(token.stop_requested());
    assert_eq!(token.stop_reason(), Some(&StopReason::Message("three")));
}

#[test]
fn abandoned_inputs_leave_a_token_only_any_of_unstoppable() {
    let inputs: Vec<StopSource> = (0..4).map(|_| StopSource::new()).collect();
    let token = StopSource::any_of(inputs.iter().map(StopSource::token)).token();
    let mut inputs = inputs.into_iter();
    for input in inputs.by_ref().take(3) {
        drop(input);
        assert!(
            token.stop_possible(),
            "an input that can still stop remains"
        );
    }
    drop(inputs);
    assert!(!token.stop_possible(), "every input was abandoned");
    assert!(
        !token.wait(),
        "a wait on an abandoned state returns at once"
    );
}

#[test]
fn clones_keep_the_links() {
    let input = StopSource::new();
    let any = StopSource::any_of([input.token()]);
    let clone = any.clone();
    drop(any);
    input.request_stop();
    assert!(clone.stop_requested());
}

#[test]
fn tokens_see_a_stop_from_another_thread() {
    let inputs: Vec<StopSource> = (0..2).map(|_| StopSource::new()).collect();
    let any = StopSource::any_of(inputs.iter().map(StopSource::token));
    let token = any.token();
    let waiter = std::thread::spawn(move || (token.wait(), token.stop_reason().cloned()));
    let stopper = inputs[1].clone();
    std::thread::spawn(move || stopper.request_stop_with(StopReason::Message("late")))
        .join()
        .unwrap();
    assert_eq!(
        waiter.join().unwrap(),
        (true, Some(StopReason::Message("late")))
    );
}

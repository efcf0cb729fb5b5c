//! The C++20 behaviours of `std::stop_source` / `std::stop_token`, restated.

use stoptoken::{StopSource, StopToken, Stopped};

fn assert_send_sync_clone<T: Send + Sync + Clone + Default + PartialEq + Eq + std::fmt::Debug>() {}

#[test]
fn sources_and_tokens_have_the_contracted_traits() {
    assert_send_sync_clone::<StopSource>();
    assert_send_sync_clone::<StopToken>();
    fn error<E: std::error::Error + Clone + Copy + Eq>() {}
    error::<Stopped>();
    assert_eq!(std::mem::size_of::<Stopped>(), 0);
}

#[test]
fn new_source_is_engaged_and_not_stopped() {
    let source = StopSource::new();
    assert!(source.stop_possible());
    assert!(!source.stop_requested());
    let token = source.token();
    assert!(token.stop_possible());
    assert!(!token.stop_requested());
    assert!(StopSource::default().stop_possible());
}

#[test]
fn no_state_source_is_disengaged() {
    let source = StopSource::no_state();
    assert!(!source.stop_possible());
    assert!(!source.stop_requested());
    assert!(!source.request_stop());
    assert_eq!(source.token(), StopToken::default());
    assert!(!source.token().stop_possible());
}

#[test]
fn default_token_is_disengaged() {
    let token = StopToken::default();
    assert!(!token.stop_possible());
    assert!(!token.stop_requested());
    assert_eq!(token, StopToken::default());
}

#[test]
fn only_the_first_request_returns_true() {
    let source = StopSource::new();
    let copy = source.clone();
    assert!(copy.request_stop());
    assert!(!source.request_stop());
    assert!(!copy.request_stop());
    assert!(source.stop_requested());
}

#[test]
fn clone_shares_the_state_and_equality_is_identity() {
    let a = StopSource::new();
    let b = a.clone();
    let c = StopSource::new();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_ne!(a, StopSource::no_state());
    assert_eq!(StopSource::no_state(), StopSource::no_state());
    assert_eq!(a.token(), b.token());
    assert_ne!(a.token(), c.token());
    assert_ne!(a.token(), StopToken::default());
    b.request_stop();
    assert!(a.stop_requested());
    assert!(a.token().stop_requested());
}

#[test]
fn swap_exchanges_states() {
    let mut a = StopSource::new();
    let mut b = StopSource::no_state();
    let token = a.token();
    std::mem::swap(&mut a, &mut b);
    assert!(!a.stop_possible());
    assert!(b.stop_possible());
    assert_eq!(b.token(), token);
    let mut t1 = token.clone();
    let mut t2 = StopToken::default();
    std::mem::swap(&mut t1, &mut t2);
    assert_eq!(t2, token);
    assert_eq!(t1, StopToken::default());
}

#[test]
fn stop_possible_turns_false_when_last_source_goes_without_a_stop() {
    let source = StopSource::new();
    let second = source.clone();
    let token = source.token();
    drop(source);
    assert!(token.stop_possible(), "a source remains");
    drop(second);
    assert!(!token.stop_possible());
    assert!(!token.stop_requested());
}

#[test]
fn stop_possible_stays_true_after_sources_go_if_stop_was_requested() {
    let source = StopSource::new();
    let token = source.token();
    source.request_stop();
    drop(source);
    assert!(token.stop_possible());
    assert!(token.stop_requested());
}

#[test]
fn token_keeps_the_state_alive() {
    let token = {
        let source = StopSource::new();
        source.request_stop();
        source.token()
    };
    let copy = token.clone();
    drop(token);
    assert!(copy.stop_requested());
}

#[test]
fn stop_is_visible_across_threads_with_prior_writes() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let source = StopSource::new();
    let token = source.token();
    let data = Arc::new(AtomicUsize::new(0));
    let seen = data.clone();
    let reader = std::thread::spawn(move || {
        while !token.stop_requested() {
            std::hint::spin_loop();
        }
        // Relaxed on purpose: the stop request's Release/Acquire orders it.
        seen.load(Ordering::Relaxed)
    });
    data.store(42, Ordering::Relaxed);
    source.request_stop();
    assert_eq!(reader.join().unwrap(), 42);
}

#[test]
fn debug_output_names_the_state() {
    let source = StopSource::new();
    assert!(format!("{source:?}").contains("stop_requested: false"));
    assert_eq!(
        format!("{:?}", StopSource::no_state()),
        "StopSource(no state)"
    );
    assert_eq!(format!("{:?}", StopToken::default()), "StopToken(no state)");
    source.request_stop();
    assert!(format!("{:?}", source.token()).contains("stop_requested: true"));
}

#[test]
fn child_of_follows_the_parent_but_not_the_other_way() {
    let parent = StopSource::new();
    let child = StopSource::child_of(&parent.token());
    let grandchild = StopSource::child_of(&child.token());
    assert!(grandchild.request_stop());
    assert!(!child.stop_requested());
    assert!(parent.request_stop());
    assert!(child.stop_requested());
    // Already stopped by its own request: the parent's stop does not make a
    // second "first" request.
    assert!(!grandchild.request_stop());
}

#[test]
fn child_of_a_parent_whose_sources_are_gone_is_just_a_fresh_source() {
    let parent = StopSource::new();
    let token = parent.token();
    drop(parent);
    let child = StopSource::child_of(&token);
    assert!(child.stop_possible());
    assert!(!child.stop_requested());
    assert!(child.request_stop());
}

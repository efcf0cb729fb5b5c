//! Model-based test: random single-threaded sequences of operations on stop
//! sources, tokens, callbacks and `child_of` links run against both the real
//! implementation and a small reference model (a list of states, each with its
//! flag, its live-source count, its live links, its registered callbacks
//! and its linked children). After every operation every observable result is compared:
//! `request_stop`'s return value, `stop_requested` and `stop_possible` of every
//! live source and token, and how many times each callback ran.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::Arc;

use proptest::prelude::*;
use stoptoken::{StopCallback, StopSource, StopToken};

#[derive(Clone, Debug)]
enum Op {
    NewSource,
    NoStateSource,
    CloneSource(usize),
    DropSource(usize),
    Token(usize),
    DefaultToken,
    CloneToken(usize),
    DropToken(usize),
    Register(usize),
    DropCallback(usize),
    RequestStop(usize),
    ChildOf(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let i = 0..16usize;
    prop_oneof![
        1 => Just(Op::NewSource),
        1 => Just(Op::NoStateSource),
        2 => i.clone().prop_map(Op::CloneSource),
        3 => i.clone().prop_map(Op::DropSource),
        2 => i.clone().prop_map(Op::Token),
        1 => Just(Op::DefaultToken),
        1 => i.clone().prop_map(Op::CloneToken),
        2 => i.clone().prop_map(Op::DropToken),
        5 => i.clone().prop_map(Op::Register),
        3 => i.clone().prop_map(Op::DropCallback),
        3 => i.clone().prop_map(Op::RequestStop),
        2 => i.prop_map(Op::ChildOf),
    ]
}

/// The reference model of one stop state.
#[derive(Default)]
struct State {
    stopped: bool,
    sources: usize,
    /// Links to parents that can still stop (links belong to the state: they
    /// last as long as any handle of it, which the model need not track, since
    /// a state with no handle is not observed any more).
    live_links: usize,
    /// Callbacks registered and not yet run or dropped, by id.
    registered: Vec<usize>,
    /// Children linked to this state.
    children: Vec<usize>,
}

#[derive(Default)]
struct Model {
    states: Vec<State>,
    /// Expected run count of every callback ever made, by id.
    runs: Vec<u32>,
}

impl Model {
    fn stop_possible(&self, state: Option<usize>) -> bool {
        state.is_some_and(|s| {
            let s = &self.states[s];
            s.stopped || s.sources + s.live_links > 0
        })
    }

    fn stop_requested(&self, state: Option<usize>) -> bool {
        state.is_some_and(|s| self.states[s].stopped)
    }

    fn request_stop(&mut self, state: usize) -> bool {
        if self.states[state].stopped {
            return false;
        }
        self.states[state].stopped = true;
        for id in std::mem::take(&mut self.states[state].registered) {
            self.runs[id] += 1;
        }
        for child in std::mem::take(&mut self.states[state].children) {
            self.request_stop(child);
        }
        true
    }

    fn new_state(&mut self) -> usize {
        self.states.push(State {
            sources: 1,
            ..State::default()
        });
        self.states.len() - 1
    }

    fn drop_source(&mut self, state: usize) {
        self.states[state].sources -= 1;
        self.abandon_if_unstoppable(state);
    }

    /// A state that can no longer stop takes its children's links with it.
    fn abandon_if_unstoppable(&mut self, state: usize) {
        if self.stop_possible(Some(state)) {
            return;
        }
        for child in std::mem::take(&mut self.states[state].children) {
            self.states[child].live_links -= 1;
            self.abandon_if_unstoppable(child);
        }
    }
}

type Closure = Box<dyn FnOnce() + Send>;

/// The real objects, each tagged with its model state (`None`: disengaged).
#[derive(Default)]
struct Real {
    sources: Vec<(StopSource, Option<usize>)>,
    tokens: Vec<(StopToken, Option<usize>)>,
    /// Live registrations: the callback's id and its model state.
    callbacks: Vec<(StopCallback<Closure>, usize, Option<usize>)>,
    /// Actual run count of every callback ever made, by id.
    runs: Vec<Arc<AtomicU32>>,
}

fn pick(len: usize, i: usize) -> Option<usize> {
    (len > 0).then(|| i % len)
}

fn apply(op: &Op, model: &mut Model, real: &mut Real) -> Result<(), TestCaseError> {
    match *op {
        Op::NewSource => {
            let state = model.new_state();
            real.sources.push((StopSource::new(), Some(state)));
        }
        Op::NoStateSource => real.sources.push((StopSource::no_state(), None)),
        Op::CloneSource(i) => {
            if let Some(i) = pick(real.sources.len(), i) {
                let (source, state) = &real.sources[i];
                let (source, state) = (source.clone(), *state);
                prop_assert!(source == real.sources[i].0);
                if let Some(s) = state {
                    model.states[s].sources += 1;
                }
                real.sources.push((source, state));
            }
        }
        Op::DropSource(i) => {
            if let Some(i) = pick(real.sources.len(), i) {
                let (source, state) = real.sources.swap_remove(i);
                drop(source);
                if let Some(s) = state {
                    model.drop_source(s);
                }
            }
        }
        Op::Token(i) => {
            if let Some(i) = pick(real.sources.len(), i) {
                let (source, state) = &real.sources[i];
                real.tokens.push((source.token(), *state));
            }
        }
        Op::DefaultToken => real.tokens.push((StopToken::default(), None)),
        Op::CloneToken(i) => {
            if let Some(i) = pick(real.tokens.len(), i) {
                let (token, state) = real.tokens[i].clone();
                prop_assert!(token == real.tokens[i].0);
                real.tokens.push((token, state));
            }
        }
        Op::DropToken(i) => {
            if let Some(i) = pick(real.tokens.len(), i) {
                real.tokens.swap_remove(i);
            }
        }
        Op::Register(i) => {
            if let Some(i) = pick(real.tokens.len(), i) {
                let id = model.runs.len();
                let runs = Arc::new(AtomicU32::new(0));
                let count = runs.clone();
                let (token, state) = &real.tokens[i];
                let callback: Closure = Box::new(move || {
                    count.fetch_add(1, SeqCst);
                });
                let registration = StopCallback::new(token, callback);
                model.runs.push(0);
                real.runs.push(runs);
                match *state {
                    Some(s) if model.states[s].stopped => model.runs[id] = 1,
                    Some(s) if model.stop_possible(Some(s)) => model.states[s].registered.push(id),
                    _ => {}
                }
                real.callbacks.push((registration, id, *state));
            }
        }
        Op::DropCallback(i) => {
            if let Some(i) = pick(real.callbacks.len(), i) {
                let (registration, id, state) = real.callbacks.swap_remove(i);
                drop(registration);
                if let Some(s) = state {
                    model.states[s].registered.retain(|&r| r != id);
                }
            }
        }
        Op::RequestStop(i) => {
            if let Some(i) = pick(real.sources.len(), i) {
                let (source, state) = &real.sources[i];
                let expected = state.is_some_and(|s| model.request_stop(s));
                prop_assert_eq!(source.request_stop(), expected, "request_stop's result");
            }
        }
        Op::ChildOf(i) => {
            if let Some(i) = pick(real.tokens.len(), i) {
                let (token, parent) = &real.tokens[i];
                let child = StopSource::child_of(token);
                let state = model.new_state();
                match *parent {
                    Some(p) if model.states[p].stopped => model.states[state].stopped = true,
                    Some(p) if model.stop_possible(Some(p)) => {
                        model.states[p].children.push(state);
                        model.states[state].live_links += 1;
                    }
                    _ => {}
                }
                real.sources.push((child, Some(state)));
            }
        }
    }
    Ok(())
}

fn compare(model: &Model, real: &Real) -> Result<(), TestCaseError> {
    for (source, state) in &real.sources {
        prop_assert_eq!(
            source.stop_requested(),
            model.stop_requested(*state),
            "source stop_requested"
        );
        prop_assert_eq!(
            source.stop_possible(),
            state.is_some(),
            "source stop_possible"
        );
    }
    for (token, state) in &real.tokens {
        prop_assert_eq!(
            token.stop_requested(),
            model.stop_requested(*state),
            "token stop_requested"
        );
        prop_assert_eq!(
            token.stop_possible(),
            model.stop_possible(*state),
            "token stop_possible"
        );
    }
    for (id, runs) in real.runs.iter().enumerate() {
        prop_assert_eq!(runs.load(SeqCst), model.runs[id], "runs of callback {}", id);
    }
    Ok(())
}

proptest! {
    // No regression file in the tree: a failure prints its shrunk sequence.
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_operations_match_the_reference_model(ops in prop::collection::vec(op(), 1..40)) {
        let mut model = Model::default();
        let mut real = Real::default();
        // One or two states to start from; `NewSource` and `ChildOf` add more.
        apply(&Op::NewSource, &mut model, &mut real)?;
        apply(&Op::Token(0), &mut model, &mut real)?;
        for op in &ops {
            apply(op, &mut model, &mut real)?;
            compare(&model, &real)?;
        }
        // Dropping everything runs nothing more.
        let runs: Vec<u32> = real.runs.iter().map(|r| r.load(SeqCst)).collect();
        drop(real.callbacks);
        drop(real.sources);
        drop(real.tokens);
        let after: Vec<u32> = real.runs.iter().map(|r| r.load(SeqCst)).collect();
        prop_assert_eq!(runs, after);
        // Every closure was dropped: only our own handle to each count remains.
        for runs in &real.runs {
            prop_assert_eq!(Arc::strong_count(runs), 1);
        }
    }
}

/// The model itself must be able to disagree: a fixed sequence whose expected
/// results are known by hand.
#[test]
fn model_matches_a_hand_checked_sequence() {
    let mut model = Model::default();
    let mut real = Real::default();
    let ops = [
        Op::NewSource,
        Op::Token(0),
        Op::Register(0),
        Op::ChildOf(0),
        Op::Token(1),
        Op::Register(1),
        Op::RequestStop(0),
    ];
    for op in &ops {
        apply(op, &mut model, &mut real).unwrap();
        compare(&model, &real).unwrap();
    }
    assert_eq!(model.runs, vec![1, 1]);
    assert!(real.sources[1].0.stop_requested());
}

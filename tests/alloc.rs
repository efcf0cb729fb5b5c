//! The allocation rules of the contract, checked with a counting allocator.
//! (A separate test binary, because it installs its own global allocator.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::pin::pin;
use std::time::Duration;

use stoptoken::{
    InplaceStopCallback, InplaceStopSource, NeverStopToken, PinnedCallback, StopCallback,
    StopSource, StopToken, StoppableToken,
};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    /// Allocations made minus deallocations made on this thread.
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; the thread-local counters and
// hook are const-initialised and have no destructor, so touching them never
// allocates. A hook's stop request allocates nothing in these tests (see
// `plain_requests_with_a_reason_allocate_nothing`), and if it did, the hook is
// already taken, so it would not run again.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        LIVE.with(|live| live.set(live.get() + 1));
        // SAFETY: same contract as ours.
        let block = unsafe { System.alloc(layout) };
        if let Some(hook) = NEXT_ALLOCATION.with(Cell::take) {
            // SAFETY: a hook is only set while `stop_during_the_next_allocation`
            // borrows its source, and is cleared before that borrow ends.
            unsafe { (hook.run)(hook.source) };
        }
        block
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.with(|live| live.set(live.get() - 1));
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A source whose stop [`stop_during_the_next_allocation`] requests.
trait Stoppable {
    fn stop(&self);
}

impl Stoppable for StopSource {
    fn stop(&self) {
        self.request_stop();
    }
}

impl Stoppable for InplaceStopSource {
    fn stop(&self) {
        self.request_stop();
    }
}

/// What the next allocation on this thread runs: `run(source)`.
#[derive(Clone, Copy)]
struct Hook {
    source: *const (),
    run: unsafe fn(*const ()),
}

thread_local! {
    /// Set only inside `stop_during_the_next_allocation`, whose borrow keeps
    /// the source alive; taken by the allocation that runs it.
    static NEXT_ALLOCATION: Cell<Option<Hook>> = const { Cell::new(None) };
}

/// Runs `f`; the first allocation that `f` makes on this thread requests a
/// stop on `source`, as another thread could at that moment.
fn stop_during_the_next_allocation<S: Stoppable, R>(source: &S, f: impl FnOnce() -> R) -> R {
    /// # Safety
    /// `source` points to a live `S`.
    unsafe fn run<S: Stoppable>(source: *const ()) {
        // SAFETY: the caller guarantees that `source` points to a live `S`.
        unsafe { (*source.cast::<S>()).stop() }
    }
    /// Clears the hook when `f` returns or unwinds, while `source` is alive.
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            NEXT_ALLOCATION.with(|hook| hook.set(None));
        }
    }
    let hook = Hook {
        source: (source as *const S).cast(),
        run: run::<S>,
    };
    NEXT_ALLOCATION.with(|next| next.set(Some(hook)));
    let _clear = Clear;
    f()
}

/// How many allocations `f` made on this thread.
///
/// The thread's spare block for stop states is taken out first (by a state
/// held meanwhile), so that every state `f` makes counts as an allocation.
fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let hold = StopSource::new();
    let before = ALLOCATIONS.with(Cell::get);
    let result = f();
    let count = ALLOCATIONS.with(Cell::get) - before;
    drop(hold);
    (count, result)
}

/// Makes sure the thread keeps a spare block for stop states: a state made
/// and dropped leaves one (if the thread had one already, its block is freed).
fn fill_the_state_spare() {
    drop(StopSource::new());
}

/// How many blocks `f` left allocated (made and not freed) on this thread.
///
/// The thread's spare block for stop states is full before and after `f`,
/// so it counts for nothing: a state that `f` made from the spare and leaked
/// shows as the allocation of the refill.
fn left_allocated(f: impl FnOnce()) -> isize {
    fill_the_state_spare();
    let before = LIVE.with(Cell::get);
    f();
    fill_the_state_spare();
    LIVE.with(Cell::get) - before
}

#[test]
fn a_dropped_state_is_kept_as_the_threads_spare_and_reused() {
    std::thread::spawn(|| {
        let made = || ALLOCATIONS.with(Cell::get);
        let live = || LIVE.with(Cell::get);
        let (made_before, live_before) = (made(), live());
        // A new thread has no spare: the first state allocates, and its
        // block stays as the thread's spare when it is dropped.
        let first = StopSource::new();
        assert_eq!(made(), made_before + 1);
        drop(first);
        assert_eq!(live(), live_before + 1, "the block is kept, not freed");
        // The next state takes it; a second one at the same time allocates.
        let again = StopSource::new();
        assert_eq!(made(), made_before + 1, "the spare is reused");
        let second = StopSource::new();
        assert_eq!(made(), made_before + 2);
        // Dropping both keeps one block and frees the other.
        drop((again, second));
        assert_eq!(live(), live_before + 1);
        // A leaked state shows through the refill of `left_allocated`.
        assert_eq!(left_allocated(|| std::mem::forget(StopSource::new())), 1);
    })
    .join()
    .unwrap();
}

#[test]
fn any_of_takes_at_most_two_allocations_for_any_number_of_inputs_and_frees_them() {
    let inputs: Vec<StopSource> = (0..16).map(|_| StopSource::new()).collect();
    let tokens: Vec<StopToken> = inputs.iter().map(StopSource::token).collect();
    for n in [1, 2, 16] {
        let (count, any) = allocations(|| StopSource::any_of(&tokens[..n]));
        // The state, with the link inside it (one input, as `child_of`); or
        // the state and the links (one block for all N).
        let expected = if n == 1 { 1 } else { 2 };
        assert_eq!(count, expected, "any_of over {n} inputs");
        drop(any);
    }
    let left = left_allocated(|| {
        let any = StopSource::any_of(&tokens);
        let token = any.token();
        drop(any); // the links stay with the token...
        assert!(token.stop_possible());
        drop(token); // ...and go, with the state, with the last handle
    });
    assert_eq!(left, 0, "an any_of source left memory behind");
    let left = left_allocated(|| {
        let any = StopSource::any_of(&tokens);
        inputs[5].request_stop_with(stoptoken::StopReason::Message("five"));
        assert!(any.stop_requested());
    });
    assert_eq!(left, 0, "a stopped any_of source left memory behind");
}

#[test]
fn dropping_a_deadline_source_removes_its_timer_entry() {
    // Starts the timer thread and sizes its map.
    drop(StopSource::after(Duration::from_secs(3600)));
    let left = left_allocated(|| {
        for _ in 0..10 {
            let source = StopSource::after(Duration::from_secs(3600));
            let token = source.token();
            drop(source); // the token keeps the entry...
            assert!(token.stop_possible());
            drop(token); // ...and the last handle removes it and frees the state
        }
    });
    assert_eq!(left, 0, "a dropped deadline source stayed in the timer");
}

#[test]
fn ten_thousand_token_only_children_leave_nothing_behind() {
    let parent = StopSource::new();
    let left = left_allocated(|| {
        let children: Vec<StopToken> = (0..10_000)
            .map(|_| StopSource::child_of(&parent.token()).token())
            .collect();
        assert!(children.iter().all(StopToken::stop_possible));
        drop(children);
    });
    assert_eq!(left, 0, "token-only children left memory behind");
    // Nothing is left in the parent's list either: its stop runs nothing.
    let (count, stopped) = allocations(|| parent.request_stop());
    assert!(stopped);
    assert_eq!(count, 0);
}

#[test]
fn token_only_child_chain_is_freed_from_either_end() {
    for leaf_first in [true, false] {
        let left = left_allocated(|| {
            let root = StopSource::new();
            let mut tokens = vec![root.token()];
            for _ in 0..1000 {
                let child = StopSource::child_of(tokens.last().unwrap()).token();
                tokens.push(child);
            }
            drop(root);
            if leaf_first {
                tokens.reverse();
            }
            drop(tokens);
        });
        assert_eq!(
            left, 0,
            "a chain dropped leaf_first={leaf_first} left memory behind"
        );
    }
}

#[test]
fn plain_requests_with_a_reason_allocate_nothing() {
    let source = StopSource::new();
    let inplace = InplaceStopSource::new();
    let (count, ()) = allocations(|| {
        assert!(source.request_stop_with(stoptoken::StopReason::Message("why")));
        assert!(inplace.request_stop_with(stoptoken::StopReason::Signal(2)));
        assert!(source.token().stop_reason().is_some());
    });
    assert_eq!(count, 0);
}

#[test]
fn stop_source_new_allocates_once() {
    let (count, source) = allocations(StopSource::new);
    assert_eq!(count, 1);
    drop(source);
}

#[test]
fn no_state_default_token_clones_and_plain_request_allocate_nothing() {
    let source = StopSource::new();
    let (count, ()) = allocations(|| {
        let none = StopSource::no_state();
        let token = StopToken::default();
        let clone = source.clone();
        let t1 = source.token();
        let t2 = t1.clone();
        assert!(clone.request_stop());
        assert!(t2.stop_requested() && !none.stop_possible() && !token.stop_possible());
    });
    assert_eq!(count, 0);
}

#[test]
fn callbacks_on_unstoppable_tokens_allocate_nothing() {
    let gone = StopSource::new();
    let orphan = gone.token();
    drop(gone);
    let (count, ()) = allocations(|| {
        drop(StopCallback::new(&StopToken::default(), || {}));
        drop(StopCallback::new(&orphan, || {}));
        drop(NeverStopToken.on_stop(|| {}));
    });
    assert_eq!(count, 0);
}

#[test]
fn by_value_registration_allocates_one_node_and_pinned_none() {
    let source = StopSource::new();
    let token = source.token();
    let (by_value, callback) = allocations(|| StopCallback::new(&token, || {}));
    assert_eq!(by_value, 1);
    drop(callback);
    let (pinned, ()) = allocations(|| {
        let callback = pin!(PinnedCallback::new(token.clone(), || {}));
        callback.register();
    });
    assert_eq!(pinned, 0);
}

#[test]
fn inplace_source_tokens_request_and_pinned_callbacks_allocate_nothing() {
    let (count, ()) = allocations(|| {
        let source = InplaceStopSource::new();
        let token = source.token();
        let first = pin!(PinnedCallback::new(token, || {}));
        first.register();
        let second = pin!(PinnedCallback::new(source.token(), || {}));
        second.register();
        assert!(source.request_stop());
        assert!(token.stop_requested());
    });
    assert_eq!(count, 0);
    let source = InplaceStopSource::new();
    let (by_value, callback) = allocations(|| InplaceStopCallback::new(source.token(), || {}));
    assert_eq!(by_value, 1);
    drop(callback);
}

#[test]
fn request_stop_running_callbacks_allocates_nothing() {
    let source = StopSource::new();
    let callbacks: Vec<_> = (0..10)
        .map(|_| StopCallback::new(&source.token(), || {}))
        .collect();
    let (count, won) = allocations(|| source.request_stop());
    assert!(won);
    assert_eq!(count, 0);
    drop(callbacks);
}

#[test]
fn a_callback_run_inside_new_leaves_no_allocation_held() {
    // Stopped before `new`: the callback runs at once, nothing is allocated.
    let stopped = StopSource::new();
    stopped.request_stop();
    let token = stopped.token();
    let (count, callback) = allocations(|| StopCallback::new(&token, || {}));
    assert_eq!(count, 0);
    assert!(format!("{callback:?}").contains("registered: false"));

    // Stopped while `new` allocates the node: the callback still runs inside
    // `new`, and the node is freed before `new` returns.
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let source = StopSource::new();
    let token = source.token();
    let counter = ran.clone();
    let mut callback = None;
    let left = left_allocated(|| {
        callback = Some(stop_during_the_next_allocation(&source, || {
            StopCallback::new(&token, move || {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            })
        }));
    });
    assert!(source.stop_requested());
    assert_eq!(
        ran.load(std::sync::atomic::Ordering::Relaxed),
        1,
        "ran inside new"
    );
    // The freed node is kept as the thread's one spare block, not by the
    // callback: dropping the callback frees nothing more.
    assert_eq!(left, 1, "the node is the thread's spare");
    assert!(
        format!("{callback:?}").contains("registered: false"),
        "{callback:?}"
    );
    assert_eq!(
        left_allocated(|| drop(callback)),
        0,
        "the StopCallback held its unused node"
    );

    // The same for the inplace form, which shares the by-value registration,
    // on a new thread (whose spare is empty, so that `new` allocates).
    std::thread::spawn(|| {
        let ran = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let source = InplaceStopSource::new();
        let counter = ran.clone();
        let mut callback = None;
        let left = left_allocated(|| {
            callback = Some(stop_during_the_next_allocation(&source, || {
                InplaceStopCallback::new(source.token(), move || {
                    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                })
            }));
        });
        assert_eq!(
            ran.load(std::sync::atomic::Ordering::Relaxed),
            1,
            "ran inside new"
        );
        assert_eq!(left, 1, "the node is the thread's spare");
        assert!(
            format!("{callback:?}").contains("registered: false"),
            "{callback:?}"
        );
        assert_eq!(
            left_allocated(|| drop(callback)),
            0,
            "the InplaceStopCallback held its unused node"
        );
    })
    .join()
    .unwrap();
}

#[test]
fn a_registered_callback_holds_its_node_until_dropped() {
    let source = StopSource::new();
    let token = source.token();
    let mut callback = None;
    let left = left_allocated(|| callback = Some(StopCallback::new(&token, || {})));
    assert_eq!(left, 1);
    assert!(format!("{callback:?}").contains("registered: true"));
    // The dropped node stays as the thread's spare...
    assert_eq!(left_allocated(|| drop(callback.take())), 0);
    // ...which the next registration takes, allocating nothing.
    let (count, again) = allocations(|| StopCallback::new(&token, || {}));
    assert_eq!(count, 0);
    // A second one at the same time allocates; dropping both keeps one spare.
    let (count, second) = allocations(|| StopCallback::new(&token, || {}));
    assert_eq!(count, 1);
    assert_eq!(left_allocated(|| drop((again, second))), -1);
}

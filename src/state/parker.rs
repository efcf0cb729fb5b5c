//! Blocking waits on a stop state: a node on the waiting thread's stack whose
//! `run` unparks that thread, both on the stop request and when the state's
//! last source goes without a stop (so a wait never outlives every chance of a
//! stop).

use core::marker::PhantomPinned;
use core::pin::pin;
use core::ptr::NonNull;
use std::time::{Duration, Instant};

use super::node::Node;
use super::{possible, Registered, StopState, PARKED, STOP};
use crate::sync::{current, park, park_timeout, Ordering, Thread};

#[repr(C)]
struct Parker {
    // First field, so a pointer to the node is a pointer to the parker.
    node: Node,
    thread: Thread,
    _pinned: PhantomPinned,
}

impl Parker {
    /// # Safety
    /// `node` is the node of a live `Parker`.
    unsafe fn unpark(node: NonNull<Node>) {
        // SAFETY: the node is the first field of a `#[repr(C)]` `Parker` that the
        // caller guarantees is alive; its thread handle is never written.
        unsafe { node.cast::<Parker>().as_ref().thread.unpark() };
    }
}

/// [`StopState::wait`] for at most `timeout` (for ever if `None` or too long
/// to represent) on `state`; a disengaged handle (`None`) gives `false` at once.
pub(crate) fn wait_on(state: Option<&StopState>, timeout: Option<Duration>) -> bool {
    match state {
        None => false,
        Some(state) => {
            let deadline = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
            state.wait(deadline)
        }
    }
}

impl StopState {
    /// Parks the calling thread until a stop is requested (`true`), no stop can
    /// come any more, or `deadline` (if any) passes (both `false`). Spurious
    /// wake-ups park again.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> bool {
        if self.stop_requested() {
            return true;
        }
        let parker = pin!(Parker {
            node: Node::parker(Parker::unpark),
            thread: current(),
            _pinned: PhantomPinned,
        });
        let node = NonNull::from(&*parker).cast::<Node>();
        // SAFETY: the node is pinned on this stack frame, `Idle`, and is
        // deregistered below before the frame ends (nothing in between unwinds:
        // parking and clock reads do not panic).
        match unsafe { self.register(node) } {
            Registered::Stopped => return true,
            Registered::Impossible => return false,
            Registered::Linked => {}
        }
        // Release: pairs with the AcqRel decrement in `remove_source`, which
        // then finds the node linked above (the lock and the coherence of this
        // one word already order the two; the Release is belt and braces).
        self.flags.fetch_or(PARKED, Ordering::Release);
        let stopped = loop {
            // Acquire: pairs with the Release that sets bit 0 (set before the
            // requester runs, so unparks, the node) and with the decrement of
            // the last source (made before it wakes the node); `fetch_or` above
            // and `unpark`/`park` order those writes before this load.
            let flags = self.flags.load(Ordering::Acquire);
            if flags & STOP != 0 {
                break true;
            }
            if !possible(flags) {
                break false;
            }
            match deadline {
                None => park(),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break false;
                    }
                    park_timeout(deadline - now);
                }
            }
        };
        // SAFETY: registered above on this state, deregistered once.
        unsafe { self.deregister(node) };
        stopped
    }
}

//! Blocking waits on a stop state: a watcher node on the waiting thread's stack
//! whose handler unparks that thread, both on the stop request and when the
//! state is abandoned (so a wait never outlives every chance of a stop).

use core::marker::PhantomPinned;
use core::pin::pin;
use core::ptr::NonNull;
use std::time::{Duration, Instant};

use super::node::{Event, Node};
use super::{possible, Deferred, Registered, StopState, STOP};
use crate::sync::{current, park, park_timeout, Ordering, Thread};

#[repr(C)]
struct Parker {
    // First field, so a pointer to the node is a pointer to the parker.
    node: Node,
    thread: Thread,
    _pinned: PhantomPinned,
}

impl Parker {
    /// The node's handler, under the state's lock.
    ///
    /// # Safety
    /// `node` is the node of a live `Parker` (invariant 5).
    unsafe fn take(node: NonNull<Node>, _event: Event) -> Deferred {
        // SAFETY: the node is the first field of a `#[repr(C)]` `Parker` that
        // the caller guarantees is alive; its thread handle is never written.
        // Cloning a `Thread` is a reference count increment, no user code.
        let thread = unsafe { node.cast::<Parker>().as_ref() }.thread.clone();
        Deferred::Unpark(thread)
    }
}

/// Deregisters a linked stack node when dropped, also if the frame unwinds.
struct Deregister<'a> {
    state: &'a StopState,
    node: NonNull<Node>,
}

impl Drop for Deregister<'_> {
    fn drop(&mut self) {
        // SAFETY: made only right after `register` linked the node in this
        // state; this is its one deregistration, before the node's frame ends.
        unsafe { self.state.deregister(self.node) };
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
            node: Node::quick(Parker::take, true),
            thread: current(),
            _pinned: PhantomPinned,
        });
        let node = NonNull::from(&*parker).cast::<Node>();
        // SAFETY: the node is pinned on this stack frame and `Idle`; if linked,
        // the guard below deregisters it before the frame ends (invariant 1).
        match unsafe { self.register(node) } {
            Registered::Stopped => return true,
            Registered::Impossible => return false,
            Registered::Linked => {}
        }
        let _deregister = Deregister { state: self, node };
        loop {
            // Acquire: pairs with the Release that sets bit 0 (set before the
            // requester handles, so unparks, the node) and with the decrement
            // of the last stopper (made before the abandonment unparks it).
            let flags = self.flags.load(Ordering::Acquire);
            if flags & STOP != 0 {
                return true;
            }
            if !possible(flags) {
                return false;
            }
            match deadline {
                None => park(),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    park_timeout(deadline - now);
                }
            }
        }
    }
}

//! A future that completes on the stop request: its waker sits in a node that
//! is linked into the stop state like a callback's, so waiting allocates nothing.

use core::fmt;
use core::future::Future;
use core::marker::PhantomPinned;
use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll, Waker};

use super::node::{Event, Node};
use super::registration::CallbackToken;
use super::{Deferred, Registered};
use crate::sync::UnsafeCell;

/// A future that completes when a stop is requested on its token, at once if
/// one already was. Made by [`StopToken::stopped`](crate::StopToken::stopped),
/// [`StopToken::into_stopped`](crate::StopToken::into_stopped) and
/// [`InplaceStopToken::stopped`](crate::InplaceStopToken::stopped).
///
/// The first poll links the task's waker into the stop state (one registration,
/// no allocation: the node lives in the future); a later poll with another waker
/// replaces it; dropping the future deregisters it. The stop takes the waker out
/// under the state's lock and wakes it after, so dropping the future never waits
/// for a `wake()` that runs on another thread. It never completes on a
/// disengaged token, or when no stop can come any more (every source dropped):
/// use it in a `select` with the work it guards.
///
/// # Examples
///
/// ```
/// use stoptoken::StopSource;
///
/// let source = StopSource::new();
/// let token = source.token();
/// let waiter = std::thread::spawn(move || {
///     futures_lite_block_on(token.stopped());
///     "woken by the stop"
/// });
/// source.request_stop();
/// assert_eq!(waiter.join().unwrap(), "woken by the stop");
///
/// # fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
/// #     use std::task::{Context, Poll, Wake, Waker};
/// #     struct Unpark(std::thread::Thread);
/// #     impl Wake for Unpark { fn wake(self: std::sync::Arc<Self>) { self.0.unpark() } }
/// #     let waker = Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
/// #     let mut cx = Context::from_waker(&waker);
/// #     let mut future = std::pin::pin!(future);
/// #     loop {
/// #         if let Poll::Ready(out) = future.as_mut().poll(&mut cx) { return out; }
/// #         std::thread::park();
/// #     }
/// # }
/// ```
#[must_use = "futures do nothing unless polled"]
#[repr(C)]
pub struct StopFuture<T: CallbackToken> {
    // First field: a `NonNull<Node>` to it points to the whole future.
    node: Node,
    /// Written under the state's lock while the node is `Idle` or `Linked`;
    /// taken by the requester, under the lock, when it marks the node `Done`.
    waker: UnsafeCell<Option<Waker>>,
    token: T,
    /// Set when the node was linked; only the owner reads it.
    linked: bool,
    _pinned: PhantomPinned,
}

// SAFETY: the waker (`Send + Sync`) is handed to the requesting thread only
// through the state's protocol; the token is shared through `T: Send`.
unsafe impl<T: CallbackToken + Send> Send for StopFuture<T> {}
// SAFETY: `&StopFuture` exposes only the token (`T: Sync`), never the waker.
unsafe impl<T: CallbackToken + Sync> Sync for StopFuture<T> {}

impl<T: CallbackToken> StopFuture<T> {
    pub(crate) fn new(token: T) -> Self {
        StopFuture {
            node: Node::quick(Self::take, false),
            waker: UnsafeCell::new(None),
            token,
            linked: false,
            _pinned: PhantomPinned,
        }
    }

    /// The node's handler, under the state's lock: takes the waker out, for
    /// the requester to wake once the lock is released.
    ///
    /// # Safety
    /// `node` points to the `node` field of a live `StopFuture<T>`, just marked
    /// `Done` under the lock (invariant 5).
    unsafe fn take(node: NonNull<Node>, _event: Event) -> Deferred {
        let this = node.cast::<Self>();
        // SAFETY: `node` is the first field of a `#[repr(C)]` `Self`; the lock
        // we are called under guards the waker cell. Moving a waker is no user
        // code.
        let waker = unsafe { (*this.as_ptr()).waker.with_mut(|cell| (*cell).take()) };
        waker.map_or(Deferred::Nothing, Deferred::Wake)
    }
}

impl<T: CallbackToken> Future for StopFuture<T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: nothing below moves out of `this`; the node stays in place.
        let this = unsafe { self.get_unchecked_mut() };
        let Some(state) = this.token.stop_state() else {
            return Poll::Pending;
        };
        if state.stop_requested() {
            return Poll::Ready(());
        }
        let node = NonNull::from(&*this).cast::<Node>();
        let waker = &this.waker;
        // Cloned here and dropped (the new one if unused, or the one it
        // replaces) when `poll` returns: a waker's `clone` and `drop` are user
        // code and must not run under the state's lock.
        let mut spare = Some(cx.waker().clone());
        let store_waker = || {
            waker.with_mut(|slot| {
                // SAFETY: `register_with` runs this under the lock while the
                // node is `Idle` or `Linked`, when the requester does not read
                // the cell (invariant 2).
                let slot = unsafe { &mut *slot };
                let same = matches!((&*slot, &spare), (Some(old), Some(new)) if old.will_wake(new));
                if !same {
                    core::mem::swap(slot, &mut spare);
                }
            })
        };
        // SAFETY: the node is pinned inside this future, `Idle` or `Linked` in
        // this state (it is only ever registered here), and `Drop` deregisters
        // it before it can move or be freed (invariant 1).
        match unsafe { state.register_with(node, store_waker) } {
            Registered::Linked => {
                this.linked = true;
                Poll::Pending
            }
            Registered::Stopped => Poll::Ready(()),
            Registered::Impossible => Poll::Pending,
        }
    }
}

impl<T: CallbackToken> Drop for StopFuture<T> {
    fn drop(&mut self) {
        if !self.linked {
            return;
        }
        if let Some(state) = self.token.stop_state() {
            // SAFETY: the node was linked into this same state by `poll` (a
            // token's state never changes); this is its only deregistration.
            unsafe { state.deregister(NonNull::from(&*self).cast::<Node>()) };
        }
    }
}

impl<T: CallbackToken> fmt::Debug for StopFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StopFuture")
            .field("registered", &self.linked)
            .finish_non_exhaustive()
    }
}

//! `StopCallback`: a by-value registration of a callback (C++ `std::stop_callback`).

use core::fmt;
use core::pin::Pin;

use crate::state::{CallbackToken, Exclusive, PinnedCallback, Registered, SpareBox};
use crate::StopToken;

/// Runs a callback when a stop is requested (C++ `std::stop_callback`).
///
/// [`StopCallback::new`] registers the callback with the token's stop state:
///
/// - disengaged token, or [`stop_possible`](StopToken::stop_possible) is `false`:
///   nothing is registered; the callback never runs and is dropped with the
///   `StopCallback`;
/// - a stop was already requested: the callback runs at once, on this thread,
///   inside `new`;
/// - otherwise it runs exactly once, on the thread that makes the first stop
///   request, inside that `request_stop` call.
///
/// Dropping the `StopCallback` deregisters it: a callback that has not started
/// never runs; if it is running on another thread, `drop` blocks until it
/// returns; if it is running on this thread (the callback drops its own
/// registration), `drop` returns at once. Deregistration never waits for any other
/// callback.
///
/// # Deadlock to avoid
///
/// Because `drop` waits for a callback running on another thread, do not drop a
/// `StopCallback` while holding a lock that its callback takes: the callback
/// waits for the lock, `drop` waits for the callback. Every implementation of
/// these semantics (C++'s included) deadlocks there. Drop the registration first,
/// then take the lock; or let the callback only signal (set a flag, send on a
/// channel, unpark a thread) instead of locking.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use stoptoken::{StopCallback, StopSource};
///
/// let shared = Arc::new(Mutex::new(Vec::new()));
/// let source = StopSource::new();
/// let log = shared.clone();
/// let callback = StopCallback::new(&source.token(), move || log.lock().unwrap().push("stopped"));
/// drop(callback); // first deregister, with no lock held ...
/// let guard = shared.lock().unwrap(); // ... then lock
/// assert!(guard.is_empty());
/// ```
///
/// `new` allocates the registration node on the heap, once, only when the
/// callback is to be registered; [`PinnedCallback`] is the allocation-free
/// form. A stop that comes while `new` allocates runs the callback inside
/// `new` and frees the node before `new` returns, so a `StopCallback` whose
/// callback ran inside `new` holds no allocation (its `Debug` shows
/// `registered: false`).
///
/// # Examples
///
/// ```
/// use std::sync::mpsc;
/// use stoptoken::{StopCallback, StopSource};
///
/// let source = StopSource::new();
/// let (tx, rx) = mpsc::channel();
/// let _callback = StopCallback::new(&source.token(), move || {
///     tx.send(std::thread::current().id()).unwrap();
/// });
/// source.request_stop();
/// // The callback ran on the requesting thread, inside `request_stop`.
/// assert_eq!(rx.try_recv().unwrap(), std::thread::current().id());
/// ```
#[must_use = "dropping a StopCallback deregisters its callback at once"]
pub struct StopCallback<F: FnOnce() + Send + 'static> {
    inner: ByValue<StopToken, F>,
}

impl<F: FnOnce() + Send + 'static> StopCallback<F> {
    /// Registers `callback` with `token`'s stop state (see the type's docs for
    /// the rules).
    ///
    /// # Panics
    /// If a stop was already requested, `callback` runs here, and a panic from it
    /// propagates.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::{StopCallback, StopSource};
    ///
    /// let source = StopSource::new();
    /// source.request_stop();
    /// let _callback = StopCallback::new(&source.token(), || println!("runs right here"));
    /// ```
    pub fn new(token: &StopToken, callback: F) -> Self {
        StopCallback {
            inner: ByValue::new(token, callback),
        }
    }
}

impl<F: FnOnce() + Send + 'static> fmt::Debug for StopCallback<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StopCallback")
            .field("registered", &self.inner.is_registered())
            .finish_non_exhaustive()
    }
}

// Here rather than beside the type: `src/state/` holds only the protocol.
impl<T: CallbackToken + fmt::Debug, F> fmt::Debug for PinnedCallback<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnedCallback")
            .field("token", self.token())
            .finish_non_exhaustive()
    }
}

/// A by-value registration: the callback kept unregistered, or a boxed,
/// pinned registration. Shared by `StopCallback` and `InplaceStopCallback`.
pub(crate) enum ByValue<T: CallbackToken, F> {
    /// Never registered: kept to be dropped with the registration, or already
    /// run inside `new` (`None`), with no allocation held.
    Unregistered(Exclusive<Option<F>>),
    /// Held for its `Drop`, which deregisters.
    Registered(#[allow(dead_code)] Pin<SpareBox<PinnedCallback<T, F>>>),
}

impl<T: CallbackToken + Clone, F: FnOnce() + Send + 'static> ByValue<T, F> {
    pub(crate) fn new(token: &T, callback: F) -> Self {
        let Some(state) = token.stop_state() else {
            return ByValue::Unregistered(Exclusive::new(Some(callback)));
        };
        // The clone first: its increment takes the state's cache line for
        // writing, so the look at the flags below and the lock that follows
        // find it here (read first, the line would come shared and then have
        // to be taken again for the lock: one more transfer when another
        // core registers on the same token).
        let token = token.clone();
        // One look at the flags, so that no block is taken for a callback
        // that runs at once or never.
        match state.peek() {
            Registered::Stopped => return Self::ran(callback),
            Registered::Impossible => return ByValue::Unregistered(Exclusive::new(Some(callback))),
            Registered::Linked => {}
        }
        let mut registration = SpareBox::pin(PinnedCallback::new(token, callback));
        // A stop or an abandonment that came meanwhile (while the allocator
        // ran, say) leaves nothing linked: the box is freed at once.
        match registration.as_mut().register_outcome() {
            Registered::Linked => ByValue::Registered(registration),
            Registered::Stopped => ByValue::Unregistered(Exclusive::new(None)),
            Registered::Impossible => {
                let callback = registration.as_mut().take_unlinked();
                ByValue::Unregistered(Exclusive::new(callback))
            }
        }
    }

    /// Runs `callback` for a stop requested before its registration.
    fn ran(callback: F) -> Self {
        callback();
        ByValue::Unregistered(Exclusive::new(None))
    }
}

impl<T: CallbackToken, F> ByValue<T, F> {
    pub(crate) fn is_registered(&self) -> bool {
        matches!(self, ByValue::Registered(_))
    }
}

//! One callback registration: a node that lives inside the registration itself,
//! so registering allocates nothing once the registration is pinned.

use core::marker::PhantomPinned;
use core::pin::Pin;
use core::ptr::NonNull;

use super::node::Node;
use super::{Registered, StopState};
use crate::sync::UnsafeCell;

/// A token that a [`PinnedCallback`] or a [`StopFuture`](crate::StopFuture)
/// registers on: [`StopToken`](crate::StopToken),
/// [`InplaceStopToken`](crate::InplaceStopToken), or a reference to either
/// (`&StopToken` borrows the token: no reference count is touched).
///
/// Name it in a bound to write code generic over the token kinds, e.g. a
/// function that pins a callback on whichever token it is given. The trait is
/// sealed (only this crate implements it) and `unsafe`: the registration code
/// relies on its guarantee that the state a token names stays where it is for
/// as long as the token lives. [`NeverStopToken`](crate::NeverStopToken) does
/// not implement it (it has no state; its callbacks never run).
///
/// # Examples
///
/// ```
/// use std::pin::pin;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use stoptoken::{CallbackToken, InplaceStopSource, PinnedCallback, StopSource};
///
/// /// Runs `work` with `flag` set on a stop of `token`, registered for the call only.
/// fn with_stop_flag<T: CallbackToken>(token: T, flag: Arc<AtomicBool>, work: impl FnOnce()) {
///     let callback = pin!(PinnedCallback::new(token, move || flag.store(true, Ordering::SeqCst)));
///     callback.register();
///     work();
/// }
///
/// let source = StopSource::new();
/// let flag = Arc::new(AtomicBool::new(false));
/// with_stop_flag(&source.token(), flag.clone(), || {
///     source.request_stop();
/// });
/// assert!(flag.load(Ordering::SeqCst));
///
/// let inplace = InplaceStopSource::new();
/// let flag = Arc::new(AtomicBool::new(false));
/// with_stop_flag(inplace.token(), flag.clone(), || {});
/// assert!(!flag.load(Ordering::SeqCst)); // no stop during the call
/// ```
///
/// # Safety
/// While a value of the implementing type is alive,
/// [`CallbackToken::stop_state`] returns the same state every time, and that
/// state stays valid and does not move (it is owned through a handle, or
/// borrowed for the value's lifetime).
pub unsafe trait CallbackToken: crate::sealed::Sealed {
    /// The state, or `None` for a disengaged handle.
    #[doc(hidden)]
    fn stop_state(&self) -> Option<&StopState>;

    /// `f` on the state, or `None` for a disengaged handle: what a
    /// registration does with [`stop_state`](Self::stop_state).
    ///
    /// A handle whose state is found by an offset from a pointer that may be
    /// null overrides it to branch on that pointer: the `Option<&StopState>`
    /// of `stop_state` becomes a conditional move there, and the registration
    /// tests its result a second time.
    #[doc(hidden)]
    #[inline]
    fn with_stop_state<R>(&self, f: impl FnOnce(&StopState) -> R) -> Option<R> {
        self.stop_state().map(f)
    }
}

/// A stop callback that lives where you pin it: registering it allocates nothing.
///
/// `PinnedCallback::new` only stores the token and the callback;
/// [`register`](PinnedCallback::register), called once the value is pinned (with
/// [`std::pin::pin!`] on the stack, or `Box::pin`), links it into the token's stop
/// state, following the same rules as [`StopCallback::new`](crate::StopCallback::new):
/// it runs at once on this thread if a stop was already requested, is never
/// registered if no stop is possible, and otherwise runs exactly once on the
/// thread that makes the first stop request. Dropping it deregisters it, with the
/// same blocking rules as dropping a [`StopCallback`](crate::StopCallback).
///
/// Use it on hot paths and in `no-alloc` code; use the by-value
/// [`StopCallback`](crate::StopCallback) or
/// [`InplaceStopCallback`](crate::InplaceStopCallback) when the registration has to
/// move (be returned, stored in a `Vec`, ...), at the cost of one allocation.
///
/// `T` is a [`CallbackToken`]: a [`StopToken`](crate::StopToken), a `&StopToken`, or an
/// [`InplaceStopToken`](crate::InplaceStopToken). Borrowing the token
/// (`PinnedCallback::new(&token, f)`) is the fastest form: no reference count is
/// touched, only the state's lock, twice. A callback that was never registered is
/// dropped with the `PinnedCallback`, without running.
///
/// # Examples
///
/// ```
/// use std::pin::pin;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use stoptoken::{PinnedCallback, StopSource};
///
/// let source = StopSource::new();
/// let ran = Arc::new(AtomicBool::new(false));
/// let flag = ran.clone();
/// let token = source.token();
/// let callback = pin!(PinnedCallback::new(&token, move || {
///     flag.store(true, Ordering::Relaxed)
/// }));
/// callback.register();
/// source.request_stop();
/// assert!(ran.load(Ordering::Relaxed));
/// ```
#[must_use = "a PinnedCallback does nothing until it is pinned and registered"]
#[repr(C)]
pub struct PinnedCallback<T: CallbackToken, F> {
    // First field, so a `NonNull<Node>` to it is a pointer to the whole struct.
    node: Node,
    callback: UnsafeCell<Option<F>>,
    token: T,
    /// Set by `register` when the node was linked; only the owner reads it.
    linked: bool,
    registered: bool,
    _pinned: PhantomPinned,
}

// SAFETY: the callback is moved to, and run on, the requesting thread, which is
// why `F: Send` is required; the token and the node are only shared through
// `T` (which must be `Send`) and the state's lock.
unsafe impl<T: CallbackToken + Send, F: Send> Send for PinnedCallback<T, F> {}
// SAFETY: a shared `&PinnedCallback` gives no access to `F` (only `register`
// and `drop`, which take it pinned-mutably or by value, touch it), so `F` need
// not be `Sync`.
unsafe impl<T: CallbackToken + Sync, F: Send> Sync for PinnedCallback<T, F> {}

impl<T: CallbackToken, F: FnOnce() + Send + 'static> PinnedCallback<T, F> {
    /// Stores `token` and `callback`; nothing is registered until
    /// [`register`](PinnedCallback::register).
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::{InplaceStopSource, PinnedCallback};
    ///
    /// let source = InplaceStopSource::new();
    /// let callback = std::pin::pin!(PinnedCallback::new(source.token(), || println!("stop")));
    /// callback.register();
    /// source.request_stop(); // prints "stop"
    /// ```
    pub fn new(token: T, callback: F) -> Self {
        Self::new_scoped(token, callback)
    }
}

impl<T: CallbackToken, F: FnOnce() + Send> PinnedCallback<T, F> {
    /// `new` without `F: 'static`. Crate-private: a registration whose callback
    /// borrows must not be leakable, so only [`with_scoped_callback`] makes one,
    /// and keeps it in its own frame.
    fn new_scoped(token: T, callback: F) -> Self {
        PinnedCallback {
            node: Node::callback(Self::run),
            callback: UnsafeCell::new(Some(callback)),
            token,
            linked: false,
            registered: false,
            _pinned: PhantomPinned,
        }
    }

    /// Registers the callback with the token's stop state (once; later calls do
    /// nothing).
    ///
    /// # Panics
    /// If a stop was already requested, the callback runs inside this call and a
    /// panic from it propagates.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::{PinnedCallback, StopSource};
    ///
    /// let source = StopSource::new();
    /// source.request_stop();
    /// let mut callback = Box::pin(PinnedCallback::new(source.token(), || println!("at once")));
    /// callback.as_mut().register(); // runs here: the stop was already requested
    /// ```
    #[inline]
    pub fn register(self: Pin<&mut Self>) {
        self.register_outcome();
    }

    /// [`PinnedCallback::register`], telling what became of it: `Linked`,
    /// `Stopped` (the callback ran here) or `Impossible` (it is kept, unrun;
    /// also for a disengaged token or a second call).
    #[inline]
    pub(crate) fn register_outcome(self: Pin<&mut Self>) -> Registered {
        // SAFETY: nothing below moves out of `this`; the node stays where it is.
        let this = unsafe { self.get_unchecked_mut() };
        if this.registered {
            return Registered::Impossible;
        }
        this.registered = true;
        // Derived from the whole registration, not just the node field, so
        // that `run` may reach the callback cell through it.
        let node = NonNull::from(&*this).cast::<Node>();
        let outcome = this.token.with_stop_state(|state| {
            // SAFETY: the node is pinned inside `self`, `Idle` (first
            // registration), and our `Drop` deregisters it before it can move
            // or be freed (invariant 1).
            unsafe { state.register(node) }
        });
        let Some(outcome) = outcome else {
            return Registered::Impossible;
        };
        match outcome {
            Registered::Linked => this.linked = true,
            Registered::Stopped => {
                if let Some(callback) = this.take_callback() {
                    callback();
                }
            }
            Registered::Impossible => {}
        }
        outcome
    }

    /// The callback of a registration that is not linked (never registered,
    /// or registered with the outcome `Impossible`): it is the owner's alone.
    /// `None` once linked.
    pub(crate) fn take_unlinked(self: Pin<&mut Self>) -> Option<F> {
        // SAFETY: the callback is never pinned (no pinned reference to it is
        // handed out), so moving it out moves nothing the state points to.
        unsafe { self.get_unchecked_mut() }.take_callback()
    }

    fn take_callback(&mut self) -> Option<F> {
        if self.linked {
            return None;
        }
        // SAFETY: the node is not linked, so no other thread touches the cell.
        self.callback.with_mut(|cell| unsafe { (*cell).take() })
    }

    /// Type-erased entry point stored in the node.
    ///
    /// # Safety
    /// `node` points to the `node` field of a live `PinnedCallback<T, F>` that is
    /// `Running` (so nobody else touches its callback cell).
    unsafe fn run(node: NonNull<Node>) {
        let this = node.cast::<Self>();
        // SAFETY: `node` is the first field of a `#[repr(C)]` `Self`, so the cast
        // pointer is valid for `Self`; the `Running` status gives us the cell
        // (invariant 4).
        let callback = unsafe { (*this.as_ptr()).callback.with_mut(|cell| (*cell).take()) };
        // The registration may be freed from here on (the callback can drop it).
        if let Some(callback) = callback {
            callback();
        }
    }
}

impl<T: CallbackToken, F> PinnedCallback<T, F> {
    /// The token this callback was created with.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::{PinnedCallback, StopSource};
    ///
    /// let source = StopSource::new();
    /// let callback = PinnedCallback::new(source.token(), || {});
    /// assert_eq!(*callback.token(), source.token());
    /// ```
    pub fn token(&self) -> &T {
        &self.token
    }
}

impl<T: CallbackToken, F> Drop for PinnedCallback<T, F> {
    #[inline]
    fn drop(&mut self) {
        if !self.linked {
            return;
        }
        if let Some(state) = self.token.stop_state() {
            // SAFETY: the node was linked by `register` on this same state (the
            // token's state never changes) and this is its only deregistration.
            unsafe { state.deregister(NonNull::from(&*self).cast::<Node>()) };
        }
    }
}

/// A value that is only ever used by value or through `&mut`, so it can be
/// shared between threads whatever `T` is (`Sync` needs no `T: Sync`).
pub(crate) struct Exclusive<T>(T);

// SAFETY: no `&self` method exposes the inner value, so sharing `&Exclusive<T>`
// across threads shares nothing of `T`.
unsafe impl<T: Send> Sync for Exclusive<T> {}

impl<T> Exclusive<T> {
    #[inline]
    pub(crate) const fn new(value: T) -> Self {
        Exclusive(value)
    }
}

/// Runs `body` with `callback` registered on `token`'s stop state, and
/// deregisters it before returning (also when `body` unwinds), with the rules of
/// [`PinnedCallback`]. The callback may borrow from the caller's frame: the
/// registration lives in this function's frame only, so it cannot be leaked.
pub(crate) fn with_scoped_callback<T, F, R>(token: T, callback: F, body: impl FnOnce() -> R) -> R
where
    T: CallbackToken,
    F: FnOnce() + Send,
{
    let registration = core::pin::pin!(PinnedCallback::new_scoped(token, callback));
    registration.register();
    body()
}

// SAFETY: the borrow keeps `*self` alive and unmoved for the reference's
// lifetime, and `T`'s own guarantee makes its state stable for that long.
unsafe impl<T: CallbackToken + ?Sized> CallbackToken for &T {
    #[inline]
    fn stop_state(&self) -> Option<&StopState> {
        (**self).stop_state()
    }

    #[inline]
    fn with_stop_state<R>(&self, f: impl FnOnce(&StopState) -> R) -> Option<R> {
        (**self).with_stop_state(f)
    }
}

//! `scope`: scoped threads that get a stop token and are stopped at the end.

use std::thread::ScopedJoinHandle;

use crate::guard::request_stop_in_drop;
use crate::{StopSource, StopToken};

/// Like [`std::thread::scope`], but every thread spawned through the [`Scope`]
/// gets a [`StopToken`], and when `f` returns (or unwinds) the scope's one stop
/// source is asked to stop before all threads are joined.
///
/// One [`StopSource`] serves the whole scope: every thread gets a token of it,
/// so [`Scope::request_stop`] and the end of the scope stop them all at once.
/// To stop one thread alone, move into it a token of its own
/// `StopSource::child_of(&s.stop_token())` (which the scope's stop still
/// reaches) and use that instead of the token it is given.
///
/// The threads may borrow from the enclosing frame. A panic of a thread that was
/// not joined through its handle propagates when the scope ends, as in `std`; a
/// panic of `f`, or of a stop callback run by the final stop request, also
/// propagates after every thread is joined.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// let work = AtomicU64::new(0);
/// stoptoken::thread::scope(|s| {
///     for _ in 0..2 {
///         s.spawn(|token| {
///             while !token.stop_requested() {
///                 work.fetch_add(1, Ordering::Relaxed);
///                 std::thread::yield_now();
///             }
///         });
///     }
///     // Leaving the scope stops both threads, then joins them.
/// });
/// ```
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&Scope<'scope, 'env>) -> T,
{
    let source = StopSource::new();
    std::thread::scope(|inner| {
        let scope = Scope {
            inner,
            source: source.clone(),
        };
        // Requests the stop when `f` returns or unwinds, before `std` joins.
        let _stop = StopOnDrop(&source);
        f(&scope)
    })
}

/// Spawns threads that get the scope's [`StopToken`]; see [`scope`].
///
/// Cloning a `Scope` lets a spawned thread spawn more threads into the same scope
/// (move the clone into the thread).
///
/// # Examples
///
/// ```
/// stoptoken::thread::scope(|s| {
///     let nested = s.clone();
///     s.spawn(move |_| {
///         nested.spawn(|token| assert!(token.stop_possible()));
///     });
/// });
/// ```
#[derive(Clone, Debug)]
pub struct Scope<'scope, 'env: 'scope> {
    inner: &'scope std::thread::Scope<'scope, 'env>,
    source: StopSource,
}

impl<'scope, 'env> Scope<'scope, 'env> {
    /// Spawns a thread running `f` with the scope's token.
    ///
    /// # Panics
    /// If the operating system cannot create the thread (as
    /// `std::thread::Scope::spawn`).
    ///
    /// # Examples
    ///
    /// ```
    /// let answer = stoptoken::thread::scope(|s| s.spawn(|_token| 42).join().unwrap());
    /// assert_eq!(answer, 42);
    /// ```
    pub fn spawn<F, T>(&self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce(StopToken) -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let token = self.source.token();
        self.inner.spawn(move || f(token))
    }

    /// Requests the scope's stop now, before the scope ends; `true` for the first
    /// request.
    ///
    /// # Examples
    ///
    /// ```
    /// stoptoken::thread::scope(|s| {
    ///     let handle = s.spawn(|token| while !token.stop_requested() {
    ///         std::thread::yield_now()
    ///     });
    ///     assert!(s.request_stop());
    ///     handle.join().unwrap();
    /// });
    /// ```
    pub fn request_stop(&self) -> bool {
        self.source.request_stop()
    }

    /// A token of the scope's stop source.
    ///
    /// # Examples
    ///
    /// ```
    /// stoptoken::thread::scope(|s| assert!(!s.stop_token().stop_requested()));
    /// ```
    #[must_use]
    pub fn stop_token(&self) -> StopToken {
        self.source.token()
    }
}

struct StopOnDrop<'a>(&'a StopSource);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        // Outside an unwind a stop callback's panic unwinds out of `f`'s frame
        // (`std` still joins every thread before resuming it); while `f`
        // unwinds, the helper reports it instead of aborting.
        request_stop_in_drop(self.0, "a thread::scope");
    }
}

//! `JThread`: a thread that is asked to stop and joined when dropped.

use std::fmt;
use std::thread::{JoinHandle, Thread};

use super::Builder;
use crate::guard::{report, request_stop_catching, resume_or_report};
use crate::{StopSource, StopToken};

/// A thread that owns a [`StopSource`], hands a token of it to its function,
/// and when dropped requests the stop and joins (C++ `std::jthread`).
///
/// [`join`](JThread::join) does not request a stop; [`detach`](JThread::detach)
/// lets the thread run on (a source taken before with
/// [`stop_source`](JThread::stop_source) can still stop it).
///
/// # Panics of the thread
///
/// `join` returns a panic as `Err`, like `std`. A panic of a thread that is
/// dropped unjoined is not lost: `drop` resumes it on the dropping thread (as
/// `std::thread::scope` does), or, if that thread is already unwinding, prints
/// it to standard error instead of aborting the process. A stop callback that
/// panics inside the `request_stop` of `drop` does not keep the thread from
/// being joined; its panic is then the one resumed (or printed), and a panic of
/// the thread as well goes to standard error.
///
/// # Dropped or joined on its own thread
///
/// The last handle of a `JThread` may end up on the thread it runs (a worker
/// holding the last reference to a service that owns its `JThread`). A thread
/// cannot wait for itself to finish, so there:
///
/// - `drop` requests the stop and detaches the thread (the thread is already
///   running that `drop`; it sees the stop on its token afterwards). It never
///   panics for this and never aborts the process, also when the thread is
///   unwinding; a stop callback's panic is handled as above.
/// - [`join`](JThread::join) returns `Err` with a `&'static str` payload,
///   [`JOINED_ON_ITS_OWN_THREAD`], instead of waiting forever (or panicking, as
///   `std`'s `join` does), and detaches the thread without a stop.
///
/// # Examples
///
/// ```
/// use stoptoken::JThread;
///
/// let worker = JThread::spawn(|token| {
///     let mut rounds = 0u64;
///     while !token.stop_requested() {
///         rounds += 1;
///         std::thread::yield_now();
///     }
///     rounds
/// });
/// worker.request_stop();
/// let rounds = worker.join().unwrap();
/// # let _ = rounds;
/// ```
#[must_use = "dropping a JThread requests its stop and joins it at once"]
pub struct JThread<T> {
    /// `None` only while `join` or `detach` consume the value.
    handle: Option<JoinHandle<T>>,
    source: StopSource,
}

impl<T: Send + 'static> JThread<T> {
    /// Spawns a thread running `f` with a token of the thread's own stop source.
    ///
    /// # Panics
    /// If the operating system cannot create the thread (as
    /// `std::thread::spawn`); use [`JThread::builder`] to get an `io::Result`.
    ///
    /// # Examples
    ///
    /// ```
    /// let thread = stoptoken::JThread::spawn(|token| token.stop_possible());
    /// assert!(thread.join().unwrap());
    /// ```
    pub fn spawn<F>(f: F) -> JThread<T>
    where
        F: FnOnce(StopToken) -> T + Send + 'static,
    {
        match Builder::new().spawn(f) {
            Ok(thread) => thread,
            Err(error) => panic!("failed to spawn thread: {error}"),
        }
    }
}

impl JThread<()> {
    /// A [`Builder`] to set the name and stack size before spawning.
    ///
    /// The thread may return any type: [`Builder`] is not generic, and
    /// [`Builder::spawn`] takes the result type from its closure. This method
    /// is defined on `JThread<()>` alone so that `JThread::builder()` needs no
    /// type annotation (on every `JThread<T>`, the unused `T` could not be
    /// inferred); so write `JThread::builder()` or [`Builder::new()`], not
    /// `JThread::<T>::builder()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use stoptoken::JThread;
    ///
    /// // A `JThread<Option<String>>`, from `JThread::builder()`.
    /// let thread: JThread<Option<String>> = JThread::builder()
    ///     .name("worker".into())
    ///     .spawn(|_token| std::thread::current().name().map(str::to_owned))?;
    /// assert_eq!(thread.join().unwrap().as_deref(), Some("worker"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }
}

impl<T> JThread<T> {
    pub(crate) fn from_parts(handle: JoinHandle<T>, source: StopSource) -> Self {
        JThread {
            handle: Some(handle),
            source,
        }
    }

    fn handle(&self) -> &JoinHandle<T> {
        match &self.handle {
            Some(handle) => handle,
            // Only `join` and `detach` take the handle, and they consume `self`.
            None => unreachable!("a JThread always has its handle until consumed"),
        }
    }

    /// A clone of the thread's stop source.
    ///
    /// # Examples
    ///
    /// ```
    /// let thread = stoptoken::JThread::spawn(|token| token);
    /// let source = thread.stop_source();
    /// let token = thread.join().unwrap();
    /// source.request_stop();
    /// assert!(token.stop_requested());
    /// ```
    #[must_use]
    pub fn stop_source(&self) -> StopSource {
        self.source.clone()
    }

    /// A token of the thread's stop source (equal to the one the thread got).
    ///
    /// # Examples
    ///
    /// ```
    /// let thread = stoptoken::JThread::spawn(|token| token);
    /// let mine = thread.stop_token();
    /// assert_eq!(thread.join().unwrap(), mine);
    /// ```
    #[must_use]
    pub fn stop_token(&self) -> StopToken {
        self.source.token()
    }

    /// Requests the thread's stop; `true` for the first request.
    ///
    /// # Examples
    ///
    /// ```
    /// let thread = stoptoken::JThread::spawn(|token| while !token.stop_requested() {
    ///     std::thread::yield_now()
    /// });
    /// assert!(thread.request_stop());
    /// assert!(!thread.request_stop());
    /// thread.join().unwrap();
    /// ```
    pub fn request_stop(&self) -> bool {
        self.source.request_stop()
    }

    /// Waits for the thread to finish, without requesting a stop.
    ///
    /// # Errors
    ///
    /// The thread's panic payload if it panicked. Called on the thread itself,
    /// which cannot wait for its own end, `join` returns at once with the
    /// `&'static str` payload [`JOINED_ON_ITS_OWN_THREAD`] and the thread is
    /// detached, with no stop requested.
    ///
    /// # Examples
    ///
    /// ```
    /// let thread = stoptoken::JThread::spawn(|_| 42);
    /// assert_eq!(thread.join().unwrap(), 42);
    /// ```
    ///
    /// On its own thread:
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use stoptoken::thread::JOINED_ON_ITS_OWN_THREAD;
    /// use stoptoken::JThread;
    ///
    /// let (handle_tx, handle_rx) = mpsc::channel::<JThread<()>>();
    /// let (outcome_tx, outcome_rx) = mpsc::channel();
    /// let thread = JThread::spawn(move |_| {
    ///     let itself = handle_rx.recv().unwrap();
    ///     outcome_tx.send(itself.join()).unwrap();
    /// });
    /// handle_tx.send(thread).unwrap();
    /// let payload = outcome_rx.recv().unwrap().unwrap_err();
    /// assert_eq!(payload.downcast_ref::<&str>(), Some(&JOINED_ON_ITS_OWN_THREAD));
    /// ```
    pub fn join(mut self) -> std::thread::Result<T> {
        match self.handle.take() {
            Some(handle) if runs_this_code(&handle) => {
                drop(handle);
                Err(Box::new(JOINED_ON_ITS_OWN_THREAD))
            }
            Some(handle) => handle.join(),
            None => unreachable!("a JThread always has its handle until consumed"),
        }
    }

    /// Lets the thread run on without this handle; its stop source is released
    /// (sources cloned before still work).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let thread = stoptoken::JThread::spawn(move |_| tx.send("still running").unwrap());
    /// thread.detach();
    /// assert_eq!(rx.recv().unwrap(), "still running");
    /// ```
    pub fn detach(mut self) {
        drop(self.handle.take());
    }

    /// Whether the thread's function has returned (or panicked).
    ///
    /// # Examples
    ///
    /// ```
    /// let thread = stoptoken::JThread::spawn(|_| ());
    /// while !thread.is_finished() {
    ///     std::thread::yield_now();
    /// }
    /// ```
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.handle().is_finished()
    }

    /// The `std` handle of the thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let thread = stoptoken::JThread::builder().name("named".into()).spawn(|_| ())?;
    /// assert_eq!(thread.thread().name(), Some("named"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use]
    pub fn thread(&self) -> &Thread {
        self.handle().thread()
    }
}

/// The panic payload (a `&'static str`) of [`JThread::join`] called on the
/// thread that the `JThread` runs, which cannot wait for its own end.
///
/// # Examples
///
/// ```
/// assert_eq!(
///     stoptoken::thread::JOINED_ON_ITS_OWN_THREAD,
///     "JThread::join called on its own thread"
/// );
/// ```
pub const JOINED_ON_ITS_OWN_THREAD: &str = "JThread::join called on its own thread";

/// Whether `handle`'s thread is the one running this code: joining it would
/// wait for itself (`std` panics there, with "Resource deadlock avoided").
fn runs_this_code<T>(handle: &JoinHandle<T>) -> bool {
    handle.thread().id() == std::thread::current().id()
}

impl<T> Drop for JThread<T> {
    fn drop(&mut self) {
        let Some(handle) = self.handle.take() else {
            return;
        };
        // A stop callback may panic inside `request_stop`; the thread is joined
        // anyway (the stop flag is set before any callback runs, so it sees it),
        // and the callback's panic, which came first, wins over the thread's.
        let stopped = request_stop_catching(&self.source, None);
        // For a report only: the name is formatted only if one is made.
        let thread = handle.thread().clone();
        let joined = if runs_this_code(&handle) {
            // Dropped on its own thread: there is no end to wait for, so the
            // thread is detached; it finishes after this `drop` returns.
            drop(handle);
            Ok(())
        } else {
            handle.join().map(drop)
        };
        let (payload, lost) = match (stopped, joined) {
            (Ok(()), Ok(())) => return,
            (Err(callback), Ok(())) => (callback, None),
            (Ok(()), Err(panic)) => (panic, None),
            (Err(callback), Err(panic)) => (callback, Some(panic)),
        };
        let owner = format!("JThread {}", thread.name().unwrap_or("<unnamed>"));
        if let Some(panic) = lost {
            report(
                &owner,
                "the thread panicked after a stop callback did",
                panic,
            );
        }
        resume_or_report(payload, &owner);
    }
}

impl<T> fmt::Debug for JThread<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JThread")
            .field("thread", self.handle().thread())
            .field("stop_requested", &self.source.stop_requested())
            .finish()
    }
}

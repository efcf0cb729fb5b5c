//! `StopGroup::spawn_thread`: threads as units of a group.

use std::borrow::Cow;
use std::io;

use super::registry::Kind;
use super::StopGroup;
use crate::{JThread, StopSource, StopToken};

impl StopGroup {
    /// Spawns a thread named `name` running `f` with a child token of the
    /// group's; the thread is a unit until `f` returns, even if the returned
    /// [`JThread`] is detached.
    ///
    /// The `JThread` owns the child's source: its
    /// [`request_stop`](JThread::request_stop) stops this thread alone, and its
    /// drop stops and joins it, as for any `JThread`. A panic of `f` is
    /// recorded under `name` in the reports' [`panicked`](super::ShutdownReport::panicked)
    /// and then goes on as usual (`join` returns it).
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] if `name` contains a NUL byte (a thread
    /// name cannot), or the operating system's error if the thread cannot be
    /// created; no unit is counted then.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = stoptoken::StopGroup::new();
    /// let worker = group.spawn_thread("worker", |token| {
    ///     token.wait();
    ///     std::thread::current().name().map(str::to_owned)
    /// })?;
    /// group.request_stop();
    /// assert_eq!(worker.join().unwrap().as_deref(), Some("worker"));
    /// assert!(group.is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn_thread<F, T>(
        &self,
        name: impl Into<Cow<'static, str>>,
        f: F,
    ) -> io::Result<JThread<T>>
    where
        F: FnOnce(StopToken) -> T + Send + 'static,
        T: Send + 'static,
    {
        let name = name.into();
        if name.contains('\0') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a thread name cannot contain a NUL byte",
            ));
        }
        let source = StopSource::child_of(&self.source.token());
        let token = source.token();
        let thread_name = name.clone().into_owned();
        let unit = self.registry.insert(name, Kind::Thread { key: None });
        // On an error the closure, and with it the unit, is dropped: the
        // unit ends `Cancelled`, counted nowhere.
        let handle = std::thread::Builder::new()
            .name(thread_name)
            .spawn(move || unit.run_thread(|| f(token)))?;
        Ok(JThread::from_parts(handle, source))
    }
}

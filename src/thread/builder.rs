//! `Builder`: spawns a `JThread` with a name and stack size.

use std::io;

use super::JThread;
use crate::{StopSource, StopToken};

/// Configures a [`JThread`] before spawning it (the name and stack size of
/// `std::thread::Builder`).
///
/// # Examples
///
/// ```
/// use stoptoken::thread::Builder;
///
/// let thread = Builder::new()
///     .name("loader".into())
///     .stack_size(256 * 1024)
///     .spawn(|token| token.stop_requested())?;
/// assert!(!thread.join().unwrap());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "a Builder does nothing until `spawn` is called"]
pub struct Builder {
    inner: std::thread::Builder,
}

impl Builder {
    /// A builder with no name and the default stack size.
    ///
    /// # Examples
    ///
    /// ```
    /// let thread = stoptoken::thread::Builder::new().spawn(|_| 1)?;
    /// assert_eq!(thread.join().unwrap(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> Self {
        Builder {
            inner: std::thread::Builder::new(),
        }
    }

    /// Names the thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let thread = stoptoken::thread::Builder::new().name("a".into()).spawn(|_| ())?;
    /// assert_eq!(thread.thread().name(), Some("a"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn name(self, name: String) -> Self {
        Builder {
            inner: self.inner.name(name),
        }
    }

    /// Sets the thread's stack size in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let thread = stoptoken::thread::Builder::new().stack_size(64 * 1024).spawn(|_| ())?;
    /// thread.join().unwrap();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stack_size(self, size: usize) -> Self {
        Builder {
            inner: self.inner.stack_size(size),
        }
    }

    /// Spawns the thread with a token of its own new stop source.
    ///
    /// # Errors
    /// The operating system's error if the thread cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let thread = stoptoken::thread::Builder::new().spawn(|token| token.stop_possible())?;
    /// assert!(thread.join().unwrap());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn<F, T>(self, f: F) -> io::Result<JThread<T>>
    where
        F: FnOnce(StopToken) -> T + Send + 'static,
        T: Send + 'static,
    {
        let source = StopSource::new();
        let token = source.token();
        let handle = self.inner.spawn(move || f(token))?;
        Ok(JThread::from_parts(handle, source))
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

//! Stopping blocking I/O: a stop as an [`io::Error`], and
//! (feature `io`, Unix) reads, writes and accepts that a stop wakes.
//!
//! - [`is_stopped`] tells a stop apart from other I/O errors. It needs no
//!   feature: any `Stopped` turned into an `io::Error` by `?` (the core's
//!   `impl From<Stopped> for io::Error`) is one.
//! - `Stoppable<T>` (feature `io`, Unix only) wraps a socket, a pipe or any
//!   other descriptor so that each `read`, `write` or `accept` blocks until the
//!   descriptor is ready *or* a stop is requested, and returns the stop as an
//!   error for which `is_stopped` is true, having transferred nothing.
//!
//! # How a call waits
//!
//! 1. The token is checked: a stop requested before the call returns at once.
//! 2. The real call is tried without blocking (below). Anything but "would
//!    block" (data, end of file, an error) is returned as it is. A read right
//!    after a short read or one that had to sleep in the poll (a write: after
//!    a partial one, or a sleep) skips this try: the descriptor was drained
//!    (or filled) and will likely make it say "would block", so the call goes
//!    to the poll at once. That keeps a reader that is ahead of its writer at
//!    two system calls a read (poll, read) instead of three. A wrong guess
//!    costs a system call, never correctness.
//! 3. Otherwise the thread registers a stop callback (on its own stack, no
//!    allocation) that signals the thread's *wake-up descriptor*, checks the
//!    token again, and blocks in one `poll(2)` on the descriptor and the wake-up
//!    descriptor. The stop flag is set before callbacks run, so a stop that the
//!    check missed signals after it and the poll returns. After a wake-up it
//!    checks the token and tries the call again.
//!
//! The wake-up descriptor is an eventfd on Linux and Android and a
//! non-blocking pipe elsewhere. Each thread makes one, at its first wait, and
//! keeps it until it exits; it is drained after a poll reports it readable.
//! A signal left over from an earlier wait costs one spurious wake-up, which
//! every wait tolerates (it re-checks and polls again).
//!
//! # Not blocking: which flag, and why
//!
//! - **Sockets** (TCP, Unix streams): `recv` / `send` with `MSG_DONTWAIT`
//!   (and `MSG_NOSIGNAL` where it exists: a closed peer is an `EPIPE` error,
//!   not a `SIGPIPE`). The flag belongs to the one call, so nothing about the
//!   descriptor changes, whoever else shares it.
//! - **Other descriptors** (pipes, FIFOs, terminals, character devices) have no
//!   per-call flag. If the descriptor is already non-blocking it is used as it
//!   is. Otherwise `O_NONBLOCK` is set for the one `read`/`write` call, not
//!   during the wait, and the previous flags are restored right after it.
//!   `O_NONBLOCK` belongs to the *open file description*, which a pipe
//!   inherited from a parent or a terminal shares with other processes; a
//!   flag set for the whole life of the wrapper would hand them `EAGAIN` for as
//!   long, and outlive a crash. Per call, the window is one non-blocking system
//!   call long. Code that does blocking I/O on a duplicate of the same
//!   description *at the same moment* can still see `EAGAIN` in that window;
//!   give such descriptors `O_NONBLOCK` yourself, once, and the wrapper leaves
//!   the flags alone.
//! - **Listeners** (`accept`): also `O_NONBLOCK` around the one `accept` call.
//!   Concurrent accepts through one `Stoppable` listener (threads sharing it
//!   by reference) count themselves, so the first sets the flag and the last
//!   restores it: none of them ever runs a blocking `accept` that another's
//!   restore raced with.
//!
//! Blocking mode then never matters: a descriptor made non-blocking by its
//! owner still waits, through the wrapper, until it is ready or stopped.
//!
//! The wrapper reads and writes the *descriptor* (`T::as_fd`), not through
//! `T`'s own `Read`/`Write` methods. `T` must therefore be a type whose reads
//! and writes are those of its descriptor: `TcpStream`, `UnixStream`, `File`
//! (pipes, FIFOs), `ChildStdin`/`ChildStdout`/`ChildStderr`, references to them... A
//! type that buffers or transforms (TLS, compression, `std::io::Stdin`, which
//! buffers inside std) goes *on top of* a `Stoppable`, not inside it:
//! `BufReader::new(Stoppable::new(stream, token))`.
//!
//! # Platforms
//!
//! `Stoppable` and `stoptoken::process` are Unix only: on other
//! targets they do not exist (a compile error, not a runtime surprise), and
//! only [`is_stopped`] is here. Windows would need overlapped I/O with
//! `CancelIoEx`; not done yet.
//!
//! A child made by `fork` without `exec` shares the forking thread's wake-up
//! descriptor with its parent: it must not use a `Stoppable` on that thread
//! while the parent does (std's `Command` always `exec`s; the descriptor is
//! close-on-exec).
//!
//! These modules are not modelled by loom (their waits are system calls), so
//! they use std's `Mutex` directly.

use std::io;

use crate::Stopped;

#[cfg(all(unix, feature = "io"))]
mod nonblocking;
#[cfg(all(unix, feature = "io"))]
mod ready;
#[cfg(all(unix, feature = "io"))]
mod stoppable;
#[cfg(all(unix, feature = "io"))]
pub(crate) mod wake;

#[cfg(all(unix, feature = "io"))]
#[cfg_attr(docsrs, doc(cfg(all(unix, feature = "io"))))]
pub use stoppable::Stoppable;

/// Whether `error` is a stop: it carries a [`Stopped`] (made by
/// `io::Error::from(Stopped)`, by `?` on a `Result<_, Stopped>` in a function
/// returning `io::Result`, or returned by a
/// `Stoppable` call).
///
/// # Examples
///
/// ```
/// use std::io;
/// use stoptoken::Stopped;
///
/// assert!(stoptoken::io::is_stopped(&io::Error::from(Stopped)));
/// assert!(!stoptoken::io::is_stopped(&io::Error::other("disk full")));
/// assert!(!stoptoken::io::is_stopped(&io::ErrorKind::Interrupted.into()));
/// ```
pub fn is_stopped(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|inner| inner.is::<Stopped>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_converted_by_question_mark_is_stopped() {
        fn step(token: &crate::StopToken) -> io::Result<()> {
            token.check()?;
            Ok(())
        }
        let source = crate::StopSource::new();
        assert!(step(&source.token()).is_ok());
        source.request_stop();
        let error = step(&source.token()).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::Other);
        assert!(is_stopped(&error));
    }

    #[test]
    fn other_errors_and_other_inner_errors_are_not_stopped() {
        assert!(!is_stopped(&io::Error::from(io::ErrorKind::Other)));
        assert!(!is_stopped(&io::Error::other(std::fmt::Error)));
        assert!(!is_stopped(&io::Error::from_raw_os_error(4)));
    }
}

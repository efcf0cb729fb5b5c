//! The per-thread wake-up descriptor, and the one `poll(2)` that waits on it.
//!
//! A wait registers a stop callback that [`signal`](WakeFd::signal)s the
//! waiting thread's descriptor, then checks the token, then polls; the
//! module doc of [`crate::io`] gives the protocol. Only the owning thread
//! drains its descriptor. The callback borrows the descriptor from the
//! thread-local, which is sound because the registration is scoped: it is
//! removed (waiting for a callback running elsewhere) before the borrow ends,
//! and the thread-local lives until the thread exits.

use std::cell::OnceCell;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::io::Errno;

use crate::state::with_scoped_callback;
use crate::StopToken;

/// The descriptor a stop callback writes to wake one thread's `poll`.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) type WakeFd = EventFd;
/// The descriptor a stop callback writes to wake one thread's `poll`.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) type WakeFd = PipeFd;

thread_local! {
    static WAKE_FD: OnceCell<WakeFd> = const { OnceCell::new() };
}

/// Runs `wait` with `token`'s stop registered to signal the calling thread's
/// wake-up descriptor (made at the thread's first wait, then reused), and
/// removes the registration before returning.
///
/// During thread-local destruction (a wait inside another thread-local's
/// destructor) a descriptor is made for this one call.
pub(crate) fn with_stop_wake<R>(
    token: &StopToken,
    mut wait: impl FnMut(&WakeFd) -> io::Result<R>,
) -> io::Result<R> {
    let outcome = WAKE_FD.try_with(|cell| {
        let wake = match cell.get() {
            Some(wake) => wake,
            None => {
                let made = WakeFd::new()?;
                cell.get_or_init(|| made)
            }
        };
        with_scoped_callback(token, || wake.signal(), || wait(wake))
    });
    outcome.unwrap_or_else(|_destroyed| {
        let wake = WakeFd::new()?;
        with_scoped_callback(token, || wake.signal(), || wait(&wake))
    })
}

/// One `poll(2)` on `fd` (for `events`; `None`: only the wake-up descriptor)
/// and `wake`, for at most `timeout` (`None`: no limit). Returns when either
/// is ready, the time is up, or a signal interrupted the poll; the caller
/// finds out which by looking (its token, its call) and polls again if need
/// be. Drains `wake` if it was signalled.
pub(crate) fn poll_with_wake(
    fd: Option<BorrowedFd<'_>>,
    events: PollFlags,
    wake: &WakeFd,
    timeout: Option<Duration>,
) -> io::Result<()> {
    // A timeout too long for a timespec is no timeout.
    let timeout = timeout.and_then(|timeout| Timespec::try_from(timeout).ok());
    let wake_fd = wake.poll_fd();
    let mut fds = [
        PollFd::from_borrowed_fd(wake_fd, PollFlags::IN),
        PollFd::from_borrowed_fd(fd.unwrap_or(wake_fd), events),
    ];
    let fds = if fd.is_some() {
        &mut fds[..]
    } else {
        &mut fds[..1]
    };
    match poll(fds, timeout.as_ref()) {
        Ok(_) | Err(Errno::INTR) => {}
        Err(error) => return Err(error.into()),
    }
    if !fds[0].revents().is_empty() {
        wake.drain();
    }
    Ok(())
}

/// Linux's wake-up descriptor: an eventfd (a counter; readable while non-zero).
#[cfg(any(target_os = "linux", target_os = "android"))]
#[derive(Debug)]
pub(crate) struct EventFd(OwnedFd);

#[cfg(any(target_os = "linux", target_os = "android"))]
impl EventFd {
    pub(crate) fn new() -> io::Result<Self> {
        use rustix::event::{eventfd, EventfdFlags};
        Ok(EventFd(eventfd(
            0,
            EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK,
        )?))
    }

    /// Makes the descriptor readable. Called from stop callbacks, on any
    /// thread; never blocks, never fails visibly (`EAGAIN` means the counter
    /// is at its maximum: signalled already).
    pub(crate) fn signal(&self) {
        let _ = rustix::io::write(&self.0, &1u64.to_ne_bytes());
    }

    /// Resets the counter to zero (one read; `EAGAIN` if it already was).
    pub(crate) fn drain(&self) {
        let _ = rustix::io::read(&self.0, &mut [0u8; 8]);
    }

    fn poll_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

/// The portable wake-up descriptor: a non-blocking, close-on-exec pipe.
/// Compiled on Linux too for its tests.
#[cfg(any(test, not(any(target_os = "linux", target_os = "android"))))]
#[derive(Debug)]
pub(crate) struct PipeFd {
    read: OwnedFd,
    write: OwnedFd,
}

#[cfg(any(test, not(any(target_os = "linux", target_os = "android"))))]
impl PipeFd {
    pub(crate) fn new() -> io::Result<Self> {
        let (read, write) = nonblocking_pipe()?;
        Ok(PipeFd { read, write })
    }

    /// Makes the read end readable. Never blocks: a full pipe (`EAGAIN`) is
    /// signalled already.
    pub(crate) fn signal(&self) {
        let _ = rustix::io::write(&self.write, &[1]);
    }

    /// Reads until the pipe is empty.
    pub(crate) fn drain(&self) {
        let mut buf = [0u8; 64];
        while let Ok(n) = rustix::io::read(&self.read, &mut buf) {
            if n < buf.len() {
                break;
            }
        }
    }

    fn poll_fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }
}

#[cfg(all(
    any(test, not(any(target_os = "linux", target_os = "android"))),
    not(any(
        target_vendor = "apple",
        target_os = "aix",
        target_os = "haiku",
        target_os = "nto",
        target_os = "espidf",
        target_os = "horizon"
    ))
))]
fn nonblocking_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    use rustix::pipe::{pipe_with, PipeFlags};
    Ok(pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?)
}

/// Without `pipe2` the flags are set after the fact: a `fork` + `exec` on
/// another thread in between can inherit the pipe (it is only a wake-up pipe).
#[cfg(any(
    target_vendor = "apple",
    target_os = "aix",
    target_os = "haiku",
    target_os = "nto",
    target_os = "espidf",
    target_os = "horizon"
))]
fn nonblocking_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    use rustix::fs::{fcntl_getfl, fcntl_setfl, OFlags};
    use rustix::io::{fcntl_setfd, FdFlags};
    let (read, write) = rustix::pipe::pipe()?;
    for end in [&read, &write] {
        fcntl_setfd(end, FdFlags::CLOEXEC)?;
        fcntl_setfl(end, fcntl_getfl(end)? | OFlags::NONBLOCK)?;
    }
    Ok((read, write))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readable(fd: BorrowedFd<'_>) -> bool {
        let mut fds = [PollFd::from_borrowed_fd(fd, PollFlags::IN)];
        poll(&mut fds, Some(&Timespec::default())).expect("poll") == 1
    }

    #[test]
    fn eventfd_signal_makes_it_readable_and_drain_resets_it() {
        let wake = EventFd::new().unwrap();
        assert!(!readable(wake.poll_fd()));
        wake.signal();
        wake.signal();
        assert!(readable(wake.poll_fd()));
        wake.drain();
        assert!(!readable(wake.poll_fd()));
        wake.drain(); // draining an empty one does not block
    }

    #[test]
    fn pipe_signal_makes_it_readable_and_drain_empties_it() {
        let wake = PipeFd::new().unwrap();
        assert!(!readable(wake.poll_fd()));
        for _ in 0..200_000 {
            wake.signal(); // fills the pipe; a full pipe does not block
        }
        assert!(readable(wake.poll_fd()));
        wake.drain();
        assert!(!readable(wake.poll_fd()));
    }

    #[test]
    fn poll_with_wake_returns_after_a_signal_and_drains_it() {
        let wake = WakeFd::new().unwrap();
        wake.signal();
        poll_with_wake(None, PollFlags::IN, &wake, None).unwrap();
        assert!(!readable(wake.poll_fd()));
        // Nothing ready: the timeout ends the poll.
        poll_with_wake(None, PollFlags::IN, &wake, Some(Duration::from_millis(1))).unwrap();
    }

    #[test]
    fn a_thread_reuses_its_wake_fd() {
        use std::os::fd::AsRawFd;
        let token = StopToken::default();
        let first = with_stop_wake(&token, |wake| Ok(wake.poll_fd().as_raw_fd())).unwrap();
        let second = with_stop_wake(&token, |wake| Ok(wake.poll_fd().as_raw_fd())).unwrap();
        assert_eq!(first, second);
    }

    #[test]
    fn a_stop_signals_the_waiting_threads_descriptor() {
        let source = crate::StopSource::new();
        let token = source.token();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            with_stop_wake(&token, |wake| {
                ready_tx.send(()).unwrap();
                while !token.stop_requested() {
                    poll_with_wake(None, PollFlags::IN, wake, None)?;
                }
                Ok(())
            })
        });
        ready_rx.recv().unwrap();
        source.request_stop();
        waiter.join().unwrap().unwrap();
    }
}

//! `O_NONBLOCK` for the length of one system call, on descriptors that have
//! no per-call flag (pipes, terminals, listeners): why, in [`crate::io`].
//!
//! Calls through one wrapper may overlap (threads accepting on one shared
//! listener), so they count themselves: the first sets the flag, if it was
//! not set already, and the last puts the flags back. None of them then runs
//! with the flag cleared under it.

use std::io;
use std::os::fd::BorrowedFd;
use std::sync::{Mutex, MutexGuard, PoisonError};

use rustix::fs::{fcntl_getfl, fcntl_setfl, OFlags};

/// The calls of one wrapper that are running with `O_NONBLOCK` set.
#[derive(Debug, Default)]
pub(crate) struct NonBlocking {
    calls: Mutex<Calls>,
}

#[derive(Debug, Default)]
struct Calls {
    running: usize,
    /// The flags to put back when the last call ends: `Some` when the first
    /// call found the descriptor blocking and set the flag.
    restore: Option<OFlags>,
}

impl NonBlocking {
    /// Runs `call` with `O_NONBLOCK` set on `fd`. `call` is told whether the
    /// descriptor was blocking before (`true`) or already non-blocking.
    ///
    /// The flags are put back after the call even when it failed. Putting
    /// them back cannot fail on an open descriptor; if it did, the descriptor
    /// would stay non-blocking and the call's own result is returned all the
    /// same (its data must not be lost).
    pub(crate) fn run<R>(
        &self,
        fd: BorrowedFd<'_>,
        call: impl FnOnce(bool) -> io::Result<R>,
    ) -> io::Result<R> {
        let was_blocking = {
            let mut calls = self.lock();
            if calls.running == 0 {
                let flags = fcntl_getfl(fd)?;
                if !flags.contains(OFlags::NONBLOCK) {
                    fcntl_setfl(fd, flags | OFlags::NONBLOCK)?;
                    calls.restore = Some(flags);
                }
            }
            calls.running += 1;
            calls.restore.is_some()
        };
        let result = call(was_blocking);
        let mut calls = self.lock();
        calls.running -= 1;
        if calls.running == 0 {
            if let Some(flags) = calls.restore.take() {
                let _ = fcntl_setfl(fd, flags);
            }
        }
        result
    }

    /// Nothing inside the lock panics; a poisoned lock still holds a valid
    /// count.
    fn lock(&self) -> MutexGuard<'_, Calls> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    fn nonblocking(fd: BorrowedFd<'_>) -> bool {
        fcntl_getfl(fd).unwrap().contains(OFlags::NONBLOCK)
    }

    #[test]
    fn the_flag_is_set_for_the_call_and_restored_after_it() {
        let (read, _write) = rustix::pipe::pipe().unwrap();
        let calls = NonBlocking::default();
        let seen = calls
            .run(read.as_fd(), |was_blocking| {
                Ok((was_blocking, nonblocking(read.as_fd())))
            })
            .unwrap();
        assert_eq!(seen, (true, true));
        assert!(!nonblocking(read.as_fd()));
    }

    #[test]
    fn a_descriptor_that_was_non_blocking_stays_so() {
        let (read, _write) = rustix::pipe::pipe().unwrap();
        fcntl_setfl(&read, fcntl_getfl(&read).unwrap() | OFlags::NONBLOCK).unwrap();
        let calls = NonBlocking::default();
        let was_blocking = calls.run(read.as_fd(), Ok).unwrap();
        assert!(!was_blocking);
        assert!(nonblocking(read.as_fd()));
    }

    #[test]
    fn overlapping_calls_keep_the_flag_until_the_last_one_ends() {
        let (read, _write) = rustix::pipe::pipe().unwrap();
        let calls = NonBlocking::default();
        calls
            .run(read.as_fd(), |_| {
                calls.run(read.as_fd(), |was_blocking| {
                    assert!(was_blocking, "the first call's saved flags are shared");
                    Ok(())
                })?;
                assert!(nonblocking(read.as_fd()), "the inner call must not restore");
                Ok(())
            })
            .unwrap();
        assert!(!nonblocking(read.as_fd()));
    }

    #[test]
    fn the_flags_are_restored_after_a_failed_call() {
        let (read, _write) = rustix::pipe::pipe().unwrap();
        let calls = NonBlocking::default();
        let error = calls
            .run(read.as_fd(), |_| -> io::Result<()> {
                Err(io::ErrorKind::WouldBlock.into())
            })
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
        assert!(!nonblocking(read.as_fd()));
    }
}

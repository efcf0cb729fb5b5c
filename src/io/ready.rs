//! Waiting until a descriptor is ready or a stop is requested: the loop of
//! every `Stoppable` call (the protocol in [`crate::io`]).

use std::io;
use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

use rustix::event::PollFlags;

use super::wake::{poll_with_wake, with_stop_wake};
use crate::StopToken;

/// Checks the token, tries `attempt`, and while it would block, waits for
/// `events` on `fd` or the stop (the protocol in [`crate::io`]).
///
/// `expect_wait` is a guess, kept by the caller, of whether the descriptor
/// will not be ready: when it is set, the first try is skipped (it would
/// only say "would block") and the call polls at once. It is updated from
/// how this call went: set after a short transfer (`short`: the data was
/// drained, or the buffer filled) or a poll that slept. A wrong guess costs
/// one system call, never correctness.
pub(crate) fn until_ready<R>(
    fd: BorrowedFd<'_>,
    events: PollFlags,
    token: &StopToken,
    expect_wait: &mut bool,
    short: impl Fn(&R) -> bool,
    mut attempt: impl FnMut() -> io::Result<R>,
) -> io::Result<R> {
    token.check()?;
    if !*expect_wait {
        match attempt() {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            done => {
                *expect_wait = done.as_ref().is_ok_and(&short);
                return done;
            }
        }
    }
    let (done, slept) = wait_and_retry(fd, events, token, &mut attempt);
    *expect_wait = slept || done.as_ref().is_ok_and(short);
    done
}

/// A poll that returns at once takes well under this; one that slept was
/// woken by another thread, which takes longer.
const SLEPT: Duration = Duration::from_micros(2);

/// The slow path of [`until_ready`]: register, check, poll, retry. Also
/// says whether the first poll slept.
fn wait_and_retry<R>(
    fd: BorrowedFd<'_>,
    events: PollFlags,
    token: &StopToken,
    attempt: &mut impl FnMut() -> io::Result<R>,
) -> (io::Result<R>, bool) {
    let mut slept = None;
    let done = with_stop_wake(token, |wake| {
        // Registered: a stop after this check signals `wake`.
        token.check()?;
        loop {
            // Timed on the first wait only: that is all `slept` reports.
            let start = slept.is_none().then(Instant::now);
            poll_with_wake(Some(fd), events, wake, None)?;
            if let Some(start) = start {
                slept = Some(start.elapsed() >= SLEPT);
            }
            token.check()?;
            match attempt() {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                done => return done,
            }
        }
    });
    (done, slept.unwrap_or(false))
}

//! Waiting for a child process that a stop ends (feature `io`, Unix).
//!
//! [`wait`] waits for the child; on a stop it sends `SIGTERM`, and `SIGKILL`
//! once the grace period has passed; in every case it reaps the child before
//! it returns, so no zombie is left (the one exception: an error from the
//! system, see [`wait`]'s `# Errors`).
//!
//! # How it waits, without a busy loop and without `SIGCHLD`
//!
//! - **Linux 5.3 and later**: a pidfd (`pidfd_open`) becomes readable when the
//!   child exits; the thread blocks in one `poll(2)` on it and the thread's
//!   wake-up descriptor (the one [`Stoppable`](crate::io::Stoppable) uses),
//!   which the stop callback signals. Signals go through the pidfd
//!   (`pidfd_send_signal`), so they can never reach a recycled pid. The exit
//!   is seen at once.
//! - **Elsewhere, and where `pidfd_open` fails** (older kernels, a seccomp
//!   filter): `try_wait` between timed polls of the wake-up descriptor, 1 ms
//!   at first, doubling up to 100 ms. A stop still wakes the poll at once; the
//!   child's own exit is seen within the current interval. No `SIGCHLD`
//!   handler is installed (that would belong to the whole process), and no
//!   thread is started. Signals go to the pid, which is safe because the
//!   child is not reaped until this function reaps it: its pid cannot be
//!   reused before.
//!
//! A child that someone else reaps (a `waitpid(-1)` elsewhere in the
//! process, or `SIGCHLD` set to `SIG_IGN`) makes `try_wait` fail with
//! `ECHILD`; that error is returned.

use std::io;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use rustix::event::PollFlags;
use rustix::process::Signal;

use crate::io::wake::{poll_with_wake, with_stop_wake, WakeFd};
use crate::StopToken;

/// Waits for `child` to exit; on a stop of `token`, sends it `SIGTERM`, and
/// `SIGKILL` if it is still running `grace` later. Always reaps it.
///
/// Returns the child's exit status in every case, so that a stopped child's
/// own answer is not lost: a child that handles `SIGTERM` and exits cleanly
/// reports its exit code, one ended by a signal reports it
/// (`ExitStatusExt::signal`: 15 for `SIGTERM`, 9 for `SIGKILL`). Whether a
/// stop came is the token's to say (`token.stop_requested()`). A child that
/// has already exited is reaped and its status returned, also on a stopped
/// token; a stop requested before the call sends `SIGTERM` at once.
///
/// The stop is seen within scheduler latency; the child's own exit at once
/// on Linux, within at most 100 ms elsewhere (see the [module docs](self)).
///
/// # Errors
///
/// The errors of the system calls (`try_wait`, `poll`, `kill`). If one comes
/// after a stop, the child is sent `SIGKILL` and reaped before the error is
/// returned, unless the `SIGKILL` itself failed (then waiting for it could
/// block for ever).
///
/// # Examples
///
/// ```
/// use std::os::unix::process::ExitStatusExt;
/// use std::process::Command;
/// use std::time::Duration;
/// use stoptoken::StopSource;
///
/// let source = StopSource::new();
/// let mut child = Command::new("sleep").arg("30").spawn()?;
/// let token = source.token();
/// let waiter = std::thread::spawn(move || {
///     stoptoken::process::wait(&mut child, &token, Duration::from_secs(5))
/// });
/// source.request_stop(); // SIGTERM now; SIGKILL would follow in 5 s
/// let status = waiter.join().unwrap()?;
/// assert_eq!(status.signal(), Some(15));
///
/// // A child that exits by itself.
/// let mut child = Command::new("true").spawn()?;
/// let status = stoptoken::process::wait(&mut child, &StopSource::new().token(), Duration::ZERO)?;
/// assert!(status.success());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn wait(child: &mut Child, token: &StopToken, grace: Duration) -> io::Result<ExitStatus> {
    if let Some(status) = child.try_wait()? {
        return Ok(status);
    }
    let result = wait_running(child, token, grace);
    if result.is_err() && token.stop_requested() && child.kill().is_ok() {
        let _ = child.wait();
    }
    result
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn wait_running(child: &mut Child, token: &StopToken, grace: Duration) -> io::Result<ExitStatus> {
    use rustix::process::{pidfd_open, pidfd_send_signal, Pid, PidfdFlags};
    use std::os::fd::AsFd;
    // Not reaped yet (`try_wait` said so), so the pid is still this child's.
    match pidfd_open(Pid::from_child(child), PidfdFlags::empty()) {
        Ok(pidfd) => Ending::new(token, grace).run(
            child,
            |signal| exited_is_fine(pidfd_send_signal(&pidfd, signal)),
            |wake, timeout| poll_with_wake(Some(pidfd.as_fd()), PollFlags::IN, wake, timeout),
        ),
        Err(_) => wait_polling(child, token, grace),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn wait_running(child: &mut Child, token: &StopToken, grace: Duration) -> io::Result<ExitStatus> {
    wait_polling(child, token, grace)
}

/// The portable way: `try_wait` between timed polls of the wake-up descriptor.
fn wait_polling(child: &mut Child, token: &StopToken, grace: Duration) -> io::Result<ExitStatus> {
    const FIRST: Duration = Duration::from_millis(1);
    const LONGEST: Duration = Duration::from_millis(100);
    // Not reaped until `Ending::run` reaps it, so the pid stays this child's.
    let pid = rustix::process::Pid::from_child(child);
    let mut interval = FIRST;
    let mut stop_seen = false;
    Ending::new(token, grace).run(
        child,
        |signal| exited_is_fine(rustix::process::kill_process(pid, signal)),
        |wake, timeout| {
            if !stop_seen && token.stop_requested() {
                // Just signalled: the child may exit any moment; look soon.
                stop_seen = true;
                interval = FIRST;
            }
            let nap = timeout.map_or(interval, |left| left.min(interval));
            interval = (interval * 2).min(LONGEST);
            poll_with_wake(None, PollFlags::IN, wake, Some(nap))
        },
    )
}

/// A child that has exited but is not reaped yet can answer a signal with
/// `ESRCH`: it needs no signal any more.
fn exited_is_fine(sent: rustix::io::Result<()>) -> io::Result<()> {
    match sent {
        Ok(()) | Err(rustix::io::Errno::SRCH) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Where a stopped child is on its way out.
struct Ending<'a> {
    token: &'a StopToken,
    grace: Duration,
    /// `None` until the stop; then when to send `SIGKILL` (`None` inside:
    /// never, the grace period does not fit in an `Instant`).
    kill_at: Option<Option<Instant>>,
    killed: bool,
}

impl<'a> Ending<'a> {
    fn new(token: &'a StopToken, grace: Duration) -> Self {
        Ending {
            token,
            grace,
            kill_at: None,
            killed: false,
        }
    }

    /// Until the child has exited: escalate on the stop and the grace
    /// period, and between looks `wait_for_exit(wake, timeout)` (`timeout`:
    /// the time left until `SIGKILL` is due, `None` when nothing is due).
    fn run(
        mut self,
        child: &mut Child,
        send: impl Fn(Signal) -> io::Result<()>,
        mut wait_for_exit: impl FnMut(&WakeFd, Option<Duration>) -> io::Result<()>,
    ) -> io::Result<ExitStatus> {
        let token = self.token;
        with_stop_wake(token, |wake| loop {
            // Reaps the child once it has exited.
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            // A stop after this check signals `wake` (the callback is registered).
            if self.kill_at.is_none() && token.stop_requested() {
                send(Signal::TERM)?;
                self.kill_at = Some(Instant::now().checked_add(self.grace));
            }
            let mut timeout = None;
            if let (Some(Some(at)), false) = (self.kill_at, self.killed) {
                let now = Instant::now();
                if now >= at {
                    send(Signal::KILL)?;
                    self.killed = true;
                } else {
                    timeout = Some(at - now);
                }
            }
            wait_for_exit(wake, timeout)?;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};

    // The polling way is what non-Linux systems use: run it here too.

    #[test]
    fn polling_wait_returns_the_exit_code_of_a_child_that_exits() {
        let mut child = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
        let token = crate::StopSource::new().token();
        let status = wait_polling(&mut child, &token, Duration::ZERO).unwrap();
        assert_eq!(status.code(), Some(3));
    }

    #[test]
    fn polling_wait_terminates_on_a_stop_and_kills_after_the_grace() {
        let source = crate::StopSource::new();
        source.request_stop();
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let status = wait_polling(&mut child, &source.token(), Duration::from_secs(30)).unwrap();
        assert_eq!(status.signal(), Some(Signal::TERM.as_raw()));

        let mut child = Command::new("sh")
            .args(["-c", "trap '' TERM; echo ready; exec sleep 30"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut ready = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut ready,
        )
        .unwrap();
        let start = Instant::now();
        let grace = Duration::from_millis(50);
        let status = wait_polling(&mut child, &source.token(), grace).unwrap();
        assert_eq!(status.signal(), Some(Signal::KILL.as_raw()));
        assert!(start.elapsed() >= grace);
    }
}

//! Stop sources driven by process signals (feature `signal`), for graceful
//! shutdown on Ctrl-C (`SIGINT`) or `SIGTERM`.
//!
//! The signal handler itself does nothing but what is async-signal-safe: it is
//! [`signal_hook`]'s handler, which writes to a self-pipe. A background thread
//! named `stoptoken-signal` reads that pipe (through
//! [`signal_hook::iterator::Signals`]) and calls
//! [`request_stop_with`](crate::StopSource::request_stop_with) with
//! [`StopReason::Signal`], so the stop callbacks run
//! on that thread, never inside the signal handler.
//!
//! The first signal requests the stop. A second one of the watched signals gets
//! the signal's default action (for `SIGINT` and `SIGTERM`: the process ends), so
//! a second Ctrl-C still ends a program whose shutdown hangs (signals that
//! arrive before the watcher reads the first may be merged with it). A panic of a
//! stop callback on the watcher thread is reported by the panic hook and then
//! swallowed (its payload dropped, or leaked if dropping it panics too), so
//! that the thread keeps watching. The watcher thread
//! and the signal registration last for the rest of the process.
//!
//! Only Unix is supported; elsewhere the functions return an
//! [`io::ErrorKind::Unsupported`] error.

use std::io;

use crate::{StopReason, StopSource};

/// `SIGINT`: Ctrl-C in a terminal.
#[cfg(unix)]
pub const SIGINT: i32 = signal_hook::consts::SIGINT;
/// `SIGTERM`: the polite "please terminate" of `kill`, init systems and
/// container runtimes.
#[cfg(unix)]
pub const SIGTERM: i32 = signal_hook::consts::SIGTERM;

/// A new source whose stop is requested when the process receives `SIGINT` or
/// `SIGTERM`.
///
/// The stop (and every callback registered on the source's tokens) runs on the
/// background thread `stoptoken-signal`. A second such signal gets the default
/// action, which ends the process (see the [module docs](self)).
///
/// # Errors
/// If the handlers cannot be installed or the watcher thread cannot be spawned,
/// and on platforms other than Unix.
///
/// # Examples
///
/// ```no_run
/// use stoptoken::signal::stop_on_shutdown_signals;
///
/// let source = stop_on_shutdown_signals()?;
/// let token = source.token();
/// while !token.stop_requested() {
///     // a unit of work
/// #   break;
/// }
/// println!("shutting down gracefully");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn stop_on_shutdown_signals() -> io::Result<StopSource> {
    #[cfg(unix)]
    {
        stop_on_signals(&[SIGINT, SIGTERM])
    }
    #[cfg(not(unix))]
    {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "stoptoken::signal supports Unix only",
        ))
    }
}

/// A new source whose stop is requested when the process receives any of
/// `signals`; a second signal of the set gets its default action.
///
/// # Errors
/// [`io::ErrorKind::InvalidInput`] if a signal cannot be handled (`SIGKILL`,
/// `SIGSTOP`, and the others in [`signal_hook::consts::FORBIDDEN`], such as
/// `SIGSEGV`); another error if a handler cannot be installed or the watcher
/// thread cannot be spawned.
///
/// # Examples
///
/// ```no_run
/// use stoptoken::signal::{stop_on_signals, SIGTERM};
///
/// let source = stop_on_signals(&[SIGTERM])?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(unix)]
pub fn stop_on_signals(signals: &[i32]) -> io::Result<StopSource> {
    use crate::guard::request_stop_catching;
    use crate::state::drop_payload;
    use signal_hook::iterator::Signals;

    // signal_hook panics (and then aborts while unwinding) on these.
    if let Some(signal) = signals
        .iter()
        .find(|s| signal_hook::consts::FORBIDDEN.contains(s))
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("signal {signal} cannot be handled"),
        ));
    }
    let mut signals = Signals::new(signals)?;
    let source = StopSource::new();
    let watcher = source.clone();
    std::thread::Builder::new()
        .name("stoptoken-signal".into())
        .spawn(move || {
            let mut received = false;
            for signal in signals.forever() {
                if received {
                    // The default action of the watched shutdown signals ends
                    // the process; if it cannot be emulated, keep watching.
                    let _ = signal_hook::low_level::emulate_default_handler(signal);
                } else {
                    received = true;
                    // A callback's panic (already reported by the panic hook)
                    // must not end this thread: a second signal must still
                    // reach the default action. For the same reason the
                    // payload is leaked if its own `drop` panics.
                    let stop = request_stop_catching(&watcher, Some(StopReason::Signal(signal)));
                    if let Err(payload) = stop {
                        drop_payload(payload);
                    }
                }
            }
        })?;
    Ok(source)
}

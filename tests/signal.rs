//! The `signal` feature: SIGTERM requests the stop of the source returned by
//! `stop_on_shutdown_signals`, on the watcher thread, and the
//! `graceful_shutdown` example exits cleanly on it; a callback's panic leaves
//! the watcher watching.
#![cfg(all(feature = "signal", unix))]

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use stoptoken::signal::{stop_on_shutdown_signals, stop_on_signals, SIGTERM};
use stoptoken::{StopCallback, StopReason};

/// Generous bound for a signal round trip on a loaded CI machine; the test
/// only waits this long when the behaviour is broken.
const LIMIT: Duration = Duration::from_secs(30);

// The only test of this process that raises a signal in-process: a second
// SIGTERM would get the default action and end the test binary.
#[test]
fn sigterm_requests_the_stop_on_the_watcher_thread() {
    let source = stop_on_shutdown_signals().unwrap();
    assert!(!source.stop_requested());
    let (tx, rx) = mpsc::channel();
    let _on_stop = StopCallback::new(&source.token(), move || {
        let name = std::thread::current().name().map(str::to_owned);
        tx.send(name).unwrap();
    });
    signal_hook::low_level::raise(SIGTERM).unwrap();
    let ran_on = rx
        .recv_timeout(LIMIT)
        .expect("SIGTERM did not request the stop");
    assert_eq!(ran_on.as_deref(), Some("stoptoken-signal"));
    assert!(source.stop_requested());
    assert_eq!(source.stop_reason(), Some(&StopReason::Signal(SIGTERM)));
    assert!(source.token().stop_possible());
}

/// Set in the environment of the child process that
/// `a_callback_panic_whose_payload_panics_on_drop_leaves_the_watcher_watching`
/// starts (the child raises signals; this process must not).
const SIGNAL_CHILD: &str = "STOPTOKEN_TEST_SIGNAL_CHILD";

/// A panic payload whose own `drop` tells that it ran, then panics.
struct PanicsOnDrop(mpsc::Sender<()>);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(());
        panic!("the payload's drop panicked");
    }
}

#[test]
fn a_callback_panic_whose_payload_panics_on_drop_leaves_the_watcher_watching() {
    let name = "a_callback_panic_whose_payload_panics_on_drop_leaves_the_watcher_watching";
    if std::env::var_os(SIGNAL_CHILD).is_none() {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([name, "--exact", "--nocapture", "--test-threads=1"])
            .env(SIGNAL_CHILD, "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut pipe = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut stderr = String::new();
            pipe.read_to_string(&mut stderr).map(|_| stderr)
        });
        // Bounded wait: the child bounds its own waits by LIMIT, twice.
        let deadline = Instant::now() + 3 * LIMIT;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                child.kill().unwrap();
                panic!("the child did not end within {:?}", 3 * LIMIT);
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let stderr = reader.join().unwrap().unwrap();
        assert_eq!(
            status.signal(),
            Some(SIGTERM),
            "the second SIGTERM did not end the child ({status}): {stderr}"
        );
        return;
    }
    // In the child: the watcher catches the callback's panic and drops its
    // payload, whose drop panics; the watcher must survive that, so that the
    // second SIGTERM gets the default action and ends this process.
    let source = stop_on_signals(&[SIGTERM]).unwrap();
    let (dropped_tx, dropped_rx) = mpsc::channel();
    let _bomb = StopCallback::new(&source.token(), move || {
        std::panic::panic_any(PanicsOnDrop(dropped_tx));
    });
    signal_hook::low_level::raise(SIGTERM).unwrap();
    dropped_rx
        .recv_timeout(LIMIT)
        .expect("the watcher did not drop the callback's payload");
    assert!(source.stop_requested());
    signal_hook::low_level::raise(SIGTERM).unwrap();
    // Only a failure gets past the default action of SIGTERM: wait for it,
    // bounded, then fail.
    let (_never_tx, never_rx) = mpsc::channel::<()>();
    let _ = never_rx.recv_timeout(LIMIT);
    panic!("the second SIGTERM did not end the process");
}

#[test]
fn unhandleable_signals_are_an_error() {
    let sigkill = signal_hook::consts::SIGKILL;
    let error = stop_on_signals(&[sigkill]).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{error}");
}

/// `target/<profile>/examples/graceful_shutdown`, which `cargo test` builds
/// when the `signal` feature is on and no single test target was selected
/// (`cargo test --all-features`, the README's and CI's command); `None` when it
/// was not built, e.g. under `cargo test --all-features --test signal`.
fn example_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent()?.parent()?;
    let binary = profile_dir
        .join("examples")
        .join(format!("graceful_shutdown{}", std::env::consts::EXE_SUFFIX));
    binary.exists().then_some(binary)
}

#[test]
fn graceful_shutdown_example_exits_cleanly_on_sigterm() {
    let Some(binary) = example_binary() else {
        eprintln!(
            "SKIPPED: the graceful_shutdown example was not built; \
             run `cargo test --all-features` to build and test it"
        );
        return;
    };
    let mut child = Command::new(binary)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());

    // Synchronise on the "ready" line: the handlers are installed by then.
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(
        line.starts_with("ready: pid"),
        "unexpected first line {line:?}"
    );

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());

    // Bounded wait: a hang is a failure, not a stuck test run.
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the example did not exit within {LIMIT:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        status.success(),
        "{status}; stdout: {rest}; stderr: {stderr}"
    );
    assert!(
        rest.contains("stop requested on thread 'stoptoken-signal'"),
        "{rest}"
    );
    assert!(rest.contains("clean exit"), "{rest}");
}

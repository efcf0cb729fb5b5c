//! `process::wait` on real child processes: `sleep`, shells that ignore or
//! trap `SIGTERM`, children that exit by themselves. Each child announces on
//! its stdout that it is ready (its trap installed) before the test stops it,
//! and every wait is bounded (`common/bounded.rs`).
#![cfg(all(unix, feature = "io"))]

#[path = "common/bounded.rs"]
mod bounded;

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{test_kill_process, Pid};
use stoptoken::{process, StopSource, StopToken};

const SIGTERM: i32 = 15;
const SIGKILL: i32 = 9;

/// `sh -c script`, with its stdout piped.
fn shell(script: &str) -> Child {
    Command::new("sh")
        .args(["-c", script])
        .stdout(Stdio::piped())
        .spawn()
        .expect("sh")
}

/// Reads the child's first line (`ready`), so that what it set up before
/// printing it (a trap) is in place.
fn until_ready(child: &mut Child) {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready");
}

/// No zombie: the pid no longer names a process (a zombie still would).
fn assert_reaped(pid: Pid) {
    assert!(
        test_kill_process(pid).is_err(),
        "pid {pid:?} is still there (a zombie?)"
    );
}

/// Runs `process::wait` on its own thread, so that it can be stopped.
fn wait_in_thread(
    mut child: Child,
    token: StopToken,
    grace: Duration,
) -> bounded::Bounded<(std::io::Result<std::process::ExitStatus>, Pid, Instant)> {
    bounded::spawn(move || {
        let pid = Pid::from_child(&child);
        let result = process::wait(&mut child, &token, grace);
        (result, pid, Instant::now())
    })
}

#[test]
fn a_stop_terminates_sleep_with_sigterm_well_before_the_grace() {
    let source = StopSource::new();
    let child = Command::new("sleep").arg("30").spawn().unwrap();
    let waiting = wait_in_thread(child, source.token(), Duration::from_secs(30));
    waiting.until_blocked("the wait");
    let stopped_at = Instant::now();
    source.request_stop();
    let (status, pid, returned) = waiting.join("the stopped wait");
    let status = status.unwrap();
    assert_eq!(status.signal(), Some(SIGTERM));
    assert!(
        returned - stopped_at < Duration::from_secs(5),
        "took {:?}",
        returned - stopped_at
    );
    assert_reaped(pid);
}

#[test]
fn a_child_that_ignores_sigterm_is_killed_after_the_grace() {
    let source = StopSource::new();
    // `exec`: the shell's ignored SIGTERM stays ignored in `sleep`, and no
    // orphan outlives the test.
    let mut child = shell("trap '' TERM; echo ready; exec sleep 30");
    until_ready(&mut child);
    let grace = Duration::from_millis(300);
    let waiting = wait_in_thread(child, source.token(), grace);
    waiting.until_blocked("the wait");
    let stopped_at = Instant::now();
    source.request_stop();
    let (status, pid, returned) = waiting.join("the stopped wait");
    assert_eq!(status.unwrap().signal(), Some(SIGKILL));
    assert!(
        returned - stopped_at >= grace,
        "killed before the grace period ended"
    );
    assert_reaped(pid);
}

#[test]
fn a_shell_that_traps_sigterm_exits_cleanly_with_its_own_code() {
    let source = StopSource::new();
    // The trap runs once the current short `sleep` ends; the loop leaves no orphan.
    let mut child = shell("trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done");
    until_ready(&mut child);
    let waiting = wait_in_thread(child, source.token(), Duration::from_secs(30));
    waiting.until_blocked("the wait");
    source.request_stop();
    let (status, pid, _) = waiting.join("the stopped wait");
    let status = status.unwrap();
    assert_eq!(status.code(), Some(7), "the trap's exit code: {status:?}");
    assert_reaped(pid);
}

#[test]
fn a_child_that_exits_by_itself_reports_its_code() {
    let mut child = shell("echo ready; exit 3");
    until_ready(&mut child);
    let pid = Pid::from_child(&child);
    let status = process::wait(&mut child, &StopSource::new().token(), Duration::ZERO).unwrap();
    assert_eq!(status.code(), Some(3));
    assert_reaped(pid);
}

#[test]
fn the_wait_ends_when_the_child_exits_during_it() {
    let mut child = Command::new("sh")
        .args(["-c", "read line; exit 4"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let waiting = wait_in_thread(child, StopSource::new().token(), Duration::ZERO);
    waiting.until_blocked("the wait");
    drop(stdin); // `read` sees the end of its input; the shell exits
    let (status, pid, _) = waiting.join("the wait");
    assert_eq!(status.unwrap().code(), Some(4));
    assert_reaped(pid);
}

#[test]
fn a_stop_requested_before_the_call_terminates_at_once() {
    let source = StopSource::new();
    source.request_stop();
    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = Pid::from_child(&child);
    let status = process::wait(&mut child, &source.token(), Duration::from_secs(30)).unwrap();
    assert_eq!(status.signal(), Some(SIGTERM));
    assert_reaped(pid);
}

#[test]
fn a_zero_grace_kills_a_child_that_ignores_sigterm_at_once() {
    let source = StopSource::new();
    source.request_stop();
    let mut child = shell("trap '' TERM; echo ready; exec sleep 30");
    until_ready(&mut child);
    let pid = Pid::from_child(&child);
    let status = process::wait(&mut child, &source.token(), Duration::ZERO).unwrap();
    assert_eq!(status.signal(), Some(SIGKILL));
    assert_reaped(pid);
}

#[test]
fn a_child_reaped_before_the_call_returns_its_status_again() {
    let mut child = Command::new("true").spawn().unwrap();
    let first = child.wait().unwrap();
    let source = StopSource::new();
    source.request_stop();
    let again = process::wait(&mut child, &source.token(), Duration::ZERO).unwrap();
    assert_eq!(first, again);
    assert!(again.success());
}

#[test]
fn a_disengaged_token_waits_for_the_child_like_child_wait() {
    let mut child = shell("echo ready; exit 0");
    until_ready(&mut child);
    let status = process::wait(&mut child, &StopToken::default(), Duration::ZERO).unwrap();
    assert!(status.success());
}

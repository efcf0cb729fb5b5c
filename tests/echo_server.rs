//! `examples/echo_server.rs` end to end: the server runs as a child process,
//! real clients connect (idle ones, a busy one that keeps sending, one that
//! ignores the stop), `kill -INT` asks it to shut down, and the test checks
//! the exit code, the printed report and that every byte a client sent came
//! back.
//!
//! The server is the example's own code (`#[path]` module below), run in a
//! child process that is this test binary started again with an environment
//! variable set (as `tests/signal.rs` does), so it is built with the same
//! toolchain, flags and features as the test, with no nested cargo build.
//! Every wait is bounded: a hang fails the test instead of stalling it.
#![cfg(all(feature = "tokio", feature = "signal", unix))]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Reached only when the behaviour under test is broken.
const LIMIT: Duration = Duration::from_secs(30);

#[path = "../examples/echo_server.rs"]
#[allow(dead_code)] // its `main`: the child runs `serve`
mod echo_server;

/// Set (to the server's arguments) in the environment of the child process
/// that runs the server.
const SERVER_CHILD: &str = "STOPTOKEN_TEST_ECHO_SERVER";

/// In the child process: runs the server and exits with the example's exit
/// code (0 clean, 1 not, 2 on an error). In the parent: returns.
fn run_server_if_child() {
    let Some(args) = std::env::var_os(SERVER_CHILD) else {
        return;
    };
    let args = args
        .to_string_lossy()
        .split(' ')
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let code = match echo_server::serve(args.into_iter()) {
        Ok(report) if report.is_clean() => 0,
        Ok(_) => 1,
        Err(error) => {
            eprintln!("echo server: {error}");
            2
        }
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}

/// Whether this runs under ThreadSanitizer (the CI step sets `RUSTFLAGS`).
/// ThreadSanitizer runs a signal's handler only when the thread the signal
/// landed on next calls into its runtime, which a thread parked in a raw
/// futex wait (as std's channels and locks do) never does: the server's
/// SIGINT may then never be handled, so these tests are skipped there.
fn under_thread_sanitizer() -> bool {
    ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS"]
        .iter()
        .any(|var| std::env::var(var).is_ok_and(|flags| flags.contains("sanitizer=thread")))
}

/// Waits for `child` at most `limit`, then kills it and fails.
fn wait_bounded(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A running server: its process, the lines it prints, and its address.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    addr: String,
}

impl Server {
    /// Starts this test binary again, running only `test` (which runs the
    /// server at its start, see [`run_server_if_child`]).
    fn start(test: &str, grace_ms: u64) -> Server {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([test, "--exact", "--nocapture", "--test-threads=1", "-q"])
            .env(SERVER_CHILD, format!("0 --grace-ms {grace_ms}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        // The child is killed when `Server` is dropped, also when this fails.
        let mut server = Server {
            child,
            lines,
            addr: String::new(),
        };
        // The test harness prints before the server's first line, and may
        // print on the same line.
        server.addr = loop {
            let line = server
                .lines
                .recv_timeout(LIMIT)
                .expect("the server printed its address");
            if let Some(at) = line.find("listening on ") {
                break line[at + "listening on ".len()..].trim().to_owned();
            }
        };
        server
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(&self.addr).unwrap();
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        stream.set_write_timeout(Some(LIMIT)).unwrap();
        stream
    }

    fn interrupt(&self) {
        let kill = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success(), "kill -INT failed");
    }

    /// Waits for the exit; returns the status and the `key: value` lines.
    fn finish(mut self) -> (ExitStatus, Vec<String>) {
        let status = wait_bounded(&mut self.child, LIMIT, "the echo server");
        // The rest of its output, up to the end of its standard output.
        let mut lines = Vec::new();
        loop {
            match self.lines.recv_timeout(LIMIT) {
                Ok(line) => lines.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("the server's output did not end"),
            }
        }
        (status, lines)
    }
}

impl Drop for Server {
    /// A failed test leaves no server running, and shows what it printed.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            let said: Vec<String> = self.lines.try_iter().collect();
            eprintln!("the server printed: {said:#?}");
        }
    }
}

/// The value of the `key: value` line of the report.
fn value<'a>(lines: &'a [String], key: &str) -> &'a str {
    let prefix = format!("{key}:");
    lines
        .iter()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {key:?} line in {lines:#?}"))
        .trim()
}

/// Sends one line and checks that it comes back.
fn echo_once(stream: &mut TcpStream, reader: &mut BufReader<TcpStream>, text: &str) {
    stream.write_all(text.as_bytes()).unwrap();
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, text);
}

/// A client that sends a line, then idles until the server's `bye`, then
/// closes its side and reads to the end: what it received must be its line,
/// then `bye`, then nothing.
struct IdleClient {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl IdleClient {
    fn connect(server: &Server, i: usize) -> IdleClient {
        let mut stream = server.connect();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        echo_once(&mut stream, &mut reader, &format!("idle {i}\n"));
        IdleClient { stream, reader }
    }

    fn finish_on_bye(mut self) {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        assert_eq!(line, "bye\n");
        self.stream.shutdown(Shutdown::Write).unwrap();
        let mut rest = String::new();
        self.reader.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "", "nothing after bye");
    }
}

/// A client that keeps sending numbered lines (a writer thread) while it
/// reads the echoes, stops sending when it reads `bye`, closes its side, and
/// checks at the end of the stream that every line it sent came back, in
/// order, with one `bye` among them.
struct BusyClient {
    echoed: mpsc::Receiver<()>,
    reader: JoinHandle<Vec<String>>,
    writer: JoinHandle<usize>,
}

impl BusyClient {
    fn connect(server: &Server) -> BusyClient {
        let stream = server.connect();
        let mut writing = stream.try_clone().unwrap();
        let saw_bye = Arc::new(AtomicBool::new(false));
        let stop_writing = saw_bye.clone();
        let writer = std::thread::spawn(move || {
            let mut sent = 0;
            while !stop_writing.load(SeqCst) {
                writing
                    .write_all(format!("busy {sent}\n").as_bytes())
                    .unwrap();
                sent += 1;
                std::thread::sleep(Duration::from_micros(200));
            }
            writing.shutdown(Shutdown::Write).unwrap();
            sent
        });
        let (tx, echoed) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut received = Vec::new();
            for line in BufReader::new(stream).lines() {
                let line = line.expect("the busy client's stream ended cleanly");
                if line == "bye" {
                    saw_bye.store(true, SeqCst);
                }
                received.push(line);
                let _ = tx.send(());
            }
            received
        });
        BusyClient {
            echoed,
            reader,
            writer,
        }
    }

    /// Waits until `n` lines have come back.
    fn wait_for_echoes(&self, n: usize) {
        for _ in 0..n {
            self.echoed.recv_timeout(LIMIT).expect("an echo");
        }
    }

    fn check(self) {
        let received = self.reader.join().unwrap();
        let sent = self.writer.join().unwrap();
        let byes = received.iter().filter(|line| *line == "bye").count();
        assert_eq!(byes, 1, "one bye");
        let echoed: Vec<&String> = received.iter().filter(|line| *line != "bye").collect();
        assert_eq!(echoed.len(), sent, "every line sent came back");
        for (i, line) in echoed.iter().enumerate() {
            assert_eq!(**line, format!("busy {i}"), "in order, unchanged");
        }
    }
}

#[test]
fn sigint_drains_the_connections_and_names_the_client_that_ignores_the_stop() {
    run_server_if_child();
    if under_thread_sanitizer() {
        eprintln!("SKIPPED under ThreadSanitizer (see under_thread_sanitizer)");
        return;
    }
    let server = Server::start(
        "sigint_drains_the_connections_and_names_the_client_that_ignores_the_stop",
        500,
    );
    let idle: Vec<IdleClient> = (0..3).map(|i| IdleClient::connect(&server, i)).collect();
    let busy = BusyClient::connect(&server);
    let mut ignoring = server.connect();
    let mut ignoring_reader = BufReader::new(ignoring.try_clone().unwrap());
    echo_once(&mut ignoring, &mut ignoring_reader, "ignoring\n");
    let ignoring_name = format!("conn {}", ignoring.local_addr().unwrap());
    busy.wait_for_echoes(100); // traffic is flowing when the signal comes

    server.interrupt();
    for client in idle {
        client.finish_on_bye();
    }
    busy.check();
    // The ignoring client gets the bye too, does not close, and is cut off at
    // the deadline: its stream ends without anything else.
    let mut line = String::new();
    ignoring_reader.read_line(&mut line).unwrap();
    assert_eq!(line, "bye\n");
    let mut rest = Vec::new();
    let _ = ignoring_reader.read_to_end(&mut rest); // EOF or a reset
    assert!(rest.is_empty(), "nothing after bye: {rest:?}");

    let (status, lines) = server.finish();
    assert_eq!(status.code(), Some(1), "not clean: {status}; {lines:#?}");
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("stop requested: Some(Signal(2))")),
        "{lines:#?}"
    );
    assert_eq!(value(&lines, "unfinished"), ignoring_name, "{lines:#?}");
    assert_eq!(
        value(&lines, "finished"),
        "5",
        "listener, 3 idle, 1 busy: {lines:#?}"
    );
    assert_eq!(value(&lines, "panicked"), "", "{lines:#?}");
    assert_eq!(value(&lines, "clean"), "false");
    let elapsed: u64 = value(&lines, "elapsed_ms").parse().unwrap();
    assert!(elapsed >= 500, "it waited its grace: {elapsed} ms");
}

#[test]
fn sigint_with_only_cooperative_clients_exits_cleanly() {
    run_server_if_child();
    if under_thread_sanitizer() {
        eprintln!("SKIPPED under ThreadSanitizer (see under_thread_sanitizer)");
        return;
    }
    let server = Server::start("sigint_with_only_cooperative_clients_exits_cleanly", 10_000);
    let idle: Vec<IdleClient> = (0..2).map(|i| IdleClient::connect(&server, i)).collect();
    server.interrupt();
    for client in idle {
        client.finish_on_bye();
    }
    let (status, lines) = server.finish();
    assert!(status.success(), "{status}; {lines:#?}");
    assert_eq!(value(&lines, "unfinished"), "");
    assert_eq!(
        value(&lines, "finished"),
        "3",
        "listener and 2 clients: {lines:#?}"
    );
    assert_eq!(value(&lines, "clean"), "true");
    let elapsed: u64 = value(&lines, "elapsed_ms").parse().unwrap();
    assert!(
        elapsed < 10_000,
        "it did not wait for the grace: {elapsed} ms"
    );
}

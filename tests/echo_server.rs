//! `examples/echo_server.rs` end to end: the server runs as a child process,
//! real clients connect (idle ones, a busy one that keeps sending, one that
//! ignores the stop), `kill -INT` asks it to shut down, and the test checks
//! the exit code, the printed report and that every byte a client sent came
//! back.
//!
//! The example is built by `cargo build --example echo_server` into this
//! test's own target directory and profile, once per run, with the features
//! this test was built with (a no-op when `cargo test` has just built it).
//! Every wait is bounded: a hang fails the test instead of stalling it.
#![cfg(all(feature = "tokio", feature = "signal", unix))]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{mpsc, Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Reached only when the behaviour under test is broken.
const LIMIT: Duration = Duration::from_secs(30);
/// Building the example may compile the crate once more.
const BUILD_LIMIT: Duration = Duration::from_secs(600);

/// The features this test was built with, for the example's build (so that
/// it reuses the library this test links).
fn features() -> String {
    let mut features = Vec::new();
    if cfg!(feature = "tokio") {
        features.push("tokio");
    }
    if cfg!(feature = "tokio-util") {
        features.push("tokio-util");
    }
    if cfg!(feature = "timer") {
        features.push("timer");
    }
    if cfg!(feature = "signal") {
        features.push("signal");
    }
    features.join(",")
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

/// The example's binary, built once for this test process.
fn example_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        // This test runs from <target>/<profile dir>/deps/.
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
        let target_dir = profile_dir.parent().unwrap();
        let profile = match profile_dir.file_name().unwrap().to_str().unwrap() {
            "debug" => "dev".to_owned(),
            other => other.to_owned(),
        };
        let mut build = Command::new(env!("CARGO"))
            .args(["build", "--example", "echo_server", "--features"])
            .arg(features())
            .args(["--profile", &profile, "--target-dir"])
            .arg(target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = build.stderr.take().unwrap();
        let errors = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let status = wait_bounded(&mut build, BUILD_LIMIT, "cargo build --example echo_server");
        let errors = errors.join().unwrap();
        assert!(status.success(), "building the example failed: {errors}");
        profile_dir
            .join("examples")
            .join(format!("echo_server{}", std::env::consts::EXE_SUFFIX))
    })
}

/// A running server: its process, the lines it prints, and its address.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    addr: String,
}

impl Server {
    fn start(grace_ms: u64) -> Server {
        let mut child = Command::new(example_binary())
            .args(["0", "--grace-ms", &grace_ms.to_string()])
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
        let first = lines
            .recv_timeout(LIMIT)
            .expect("the server printed its address");
        let addr = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        Server { child, lines, addr }
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
        let lines = self.lines.iter().collect();
        (status, lines)
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
    let server = Server::start(500);
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
    let server = Server::start(10_000);
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

//! A TCP echo server that shuts down gracefully on Ctrl-C or SIGTERM: its
//! listener and every connection are units of one `StopGroup`, a child of
//! `signal::stop_on_shutdown_signals()`.
//!
//! The protocol is line-based: each line a client sends comes back. On the
//! signal the server stops accepting, asks every connection to finish by
//! sending it the line `bye`, and keeps echoing until the client closes its
//! side; then it closes too. A client that ignores the `bye` is cut off at the
//! deadline and named in the report.
//!
//! Prints `listening on 127.0.0.1:<port>` first, then, after the signal,
//! `stop requested: <reason>; draining for <grace> ms` and the report, one
//! `key: value` line each (`finished`, `unfinished`, `panicked`,
//! `elapsed_ms`, `clean`). Exits with 0 when the report is clean, 1 when it
//! is not.
//!
//! Run: `cargo run --example echo_server --features tokio,signal -- [PORT] [--grace-ms N]`
//! (port 0, the default, picks a free one), then `nc 127.0.0.1 <port>`.

use std::io;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use stoptoken::signal::stop_on_shutdown_signals;
use stoptoken::task::until_stopped;
use stoptoken::{ShutdownReport, StopGroup};

fn main() -> io::Result<ExitCode> {
    let report = serve(std::env::args().skip(1))?;
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Serves until a shutdown signal, then drains and prints the report.
/// (`pub` for `tests/echo_server.rs`, which runs it in a child process.)
pub fn serve(args: impl Iterator<Item = String>) -> io::Result<ShutdownReport> {
    let (port, grace) = parse_args(args)?;
    // The signal handlers are installed before the first line is printed.
    let signals = stop_on_shutdown_signals()?;
    let group = Arc::new(StopGroup::child_of(&signals.token()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = runtime.block_on(async {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        println!("listening on {}", listener.local_addr()?);
        drop(group.spawn("listener", accept(listener, group.clone())));

        group.token().stopped().await;
        let reason = group.token().stop_reason().cloned();
        println!(
            "stop requested: {reason:?}; draining for {} ms",
            grace.as_millis()
        );
        Ok::<_, io::Error>(group.shutdown_async(grace).await)
    })?;
    print_report(&report);
    Ok(report)
}

/// Accepts until the stop; each connection is a unit named after its peer.
async fn accept(listener: TcpListener, group: Arc<StopGroup>) {
    loop {
        match until_stopped(listener.accept()).await {
            Err(_stopped) => return, // the listener closes: no new connection
            Ok(Ok((stream, peer))) => {
                drop(group.spawn(format!("conn {peer}"), connection(stream)));
            }
            Ok(Err(error)) => eprintln!("accept failed: {error}"),
        }
    }
}

/// Echoes lines; on the stop, sends `bye` and echoes on until the client
/// closes its side, so that no byte it sent is lost.
async fn connection(stream: TcpStream) {
    if let Err(error) = echo(stream).await {
        eprintln!("connection failed: {error}");
    }
}

async fn echo(stream: TcpStream) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut line = Vec::new();
    let mut asked = false;
    loop {
        // `read_until` keeps what it read in `line` when it is cut short by
        // the stop, so stopping it mid-line loses nothing.
        let read_line = read.read_until(b'\n', &mut line);
        let n = if asked {
            read_line.await?
        } else {
            match until_stopped(read_line).await {
                Ok(n) => n?,
                Err(_stopped) => {
                    write.write_all(b"bye\n").await?;
                    asked = true;
                    continue;
                }
            }
        };
        write.write_all(&line).await?; // at the end: a last line without a newline
        if n == 0 {
            return write.shutdown().await; // the client closed its side
        }
        line.clear();
    }
}

fn print_report(report: &ShutdownReport) {
    println!("finished: {}", report.finished());
    println!("unfinished: {}", report.unfinished().join(", "));
    println!("panicked: {}", report.panicked().join(", "));
    println!("elapsed_ms: {}", report.elapsed().as_millis());
    println!("clean: {}", report.is_clean());
}

fn parse_args(mut args: impl Iterator<Item = String>) -> io::Result<(u16, Duration)> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
    let mut port = 0;
    let mut grace = Duration::from_secs(2);
    while let Some(arg) = args.next() {
        if arg == "--grace-ms" {
            let ms = args
                .next()
                .ok_or_else(|| invalid("--grace-ms needs a value".into()))?;
            let ms = ms
                .parse()
                .map_err(|_| invalid(format!("bad --grace-ms {ms:?}")))?;
            grace = Duration::from_millis(ms);
        } else {
            port = arg
                .parse()
                .map_err(|_| invalid(format!("bad port {arg:?}")))?;
        }
    }
    Ok((port, grace))
}

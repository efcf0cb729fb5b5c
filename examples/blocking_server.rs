//! A thread-per-connection echo server made of `JThread`s, whose blocking
//! `accept` and `read`s a stop wakes (`io::Stoppable`, feature `io`).
//!
//! It listens on 127.0.0.1, lets two clients each have a line echoed, and
//! then, with the acceptor blocked in `accept` and both connection threads
//! blocked in a `read` (their clients stay connected and silent), stops the
//! server. It prints each step, each thread's way out, and how long the stop
//! took from the request to the last thread joined:
//!
//! ```text
//! listening on 127.0.0.1:41023
//! [conn 1] from 127.0.0.1:53210
//! [conn 1] echoed "hello from client 1"
//! [conn 2] from 127.0.0.1:53214
//! [conn 2] echoed "hello from client 2"
//! stopping the server: its threads are blocked in accept and read
//! [server] stopped in accept; stopping 2 connections
//! [conn 1] stopped in the middle of a read, after 1 line
//! [conn 2] stopped in the middle of a read, after 1 line
//! stopped and joined everything in 0.21 ms
//! ```
//!
//! Run it with `cargo run --example blocking_server --features io`.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use stoptoken::io::{is_stopped, Stoppable};
use stoptoken::{JThread, StopToken};

fn main() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    println!("listening on {address}");
    let server = JThread::spawn(move |token| serve(listener, token));

    // Two clients: each sends a line, reads the echo, then stays connected
    // and silent, so that its connection thread blocks in the next read.
    let mut clients = Vec::new();
    for n in 1..=2 {
        let mut client = TcpStream::connect(address)?;
        writeln!(client, "hello from client {n}")?;
        let mut echo = String::new();
        BufReader::new(client.try_clone()?).read_line(&mut echo)?;
        assert_eq!(echo, format!("hello from client {n}\n"));
        clients.push(client);
    }

    println!("stopping the server: its threads are blocked in accept and read");
    let start = Instant::now();
    server.request_stop();
    let served = server.join().expect("the server panicked")?;
    let took = start.elapsed();
    assert_eq!(served, 2);
    println!(
        "stopped and joined everything in {:.2} ms",
        took.as_secs_f64() * 1e3
    );
    Ok(())
}

/// Accepts until stopped, one `JThread` per connection; on the stop, stops
/// and joins them all (dropping a `JThread` does both). Returns how many
/// connections it served.
fn serve(listener: TcpListener, token: StopToken) -> io::Result<usize> {
    let listener = Stoppable::new(listener, token);
    let mut connections = Vec::new();
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                let id = connections.len() + 1;
                println!("[conn {id}] from {peer}");
                connections.push(JThread::spawn(move |token| echo(id, stream, token)));
            }
            Err(error) if is_stopped(&error) => break,
            Err(error) => return Err(error),
        }
    }
    println!(
        "[server] stopped in accept; stopping {} connections",
        connections.len()
    );
    let served = connections.len();
    for connection in connections {
        connection.request_stop();
        connection.join().expect("a connection thread panicked");
    }
    Ok(served)
}

/// Echoes lines until the client leaves or the thread is stopped.
fn echo(id: usize, stream: TcpStream, token: StopToken) {
    let reader = match stream.try_clone() {
        Ok(reader) => reader,
        Err(error) => return eprintln!("[conn {id}] {error}"),
    };
    let mut lines = BufReader::new(Stoppable::new(reader, token.clone()));
    let mut writer = Stoppable::new(stream, token);
    let mut echoed = 0;
    let mut line = String::new();
    loop {
        line.clear();
        let outcome = lines.read_line(&mut line).and_then(|read| match read {
            0 => Ok(false),
            _ => writer.write_all(line.as_bytes()).map(|()| true),
        });
        match outcome {
            Ok(true) => {
                echoed += 1;
                println!("[conn {id}] echoed {:?}", line.trim_end());
            }
            Ok(false) => return println!("[conn {id}] the client left"),
            Err(error) if is_stopped(&error) => {
                let s = if echoed == 1 { "" } else { "s" };
                return println!(
                    "[conn {id}] stopped in the middle of a read, after {echoed} line{s}"
                );
            }
            Err(error) => return eprintln!("[conn {id}] {error}"),
        }
    }
}

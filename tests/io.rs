//! `io::Stoppable` on real descriptors: TCP and Unix sockets on loopback and
//! pipes. Every blocking step is bounded (`common/bounded.rs`): a call that
//! a stop fails to wake fails its test instead of hanging it.
#![cfg(all(unix, feature = "io"))]

#[path = "common/bounded.rs"]
mod bounded;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use rustix::fs::{fcntl_getfl, OFlags};
use stoptoken::io::{is_stopped, Stoppable};
use stoptoken::{StopSource, StopToken};

fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (client, server)
}

/// A pipe: (read end, write end).
fn pipe() -> (File, File) {
    use rustix::pipe::{pipe_with, PipeFlags};
    let (read, write) = pipe_with(PipeFlags::CLOEXEC).unwrap();
    (File::from(read), File::from(write))
}

fn socket_path() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    // Relaxed: a counter for unique names, nothing to publish.
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("stoptoken-io-{}-{n}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

fn is_nonblocking(fd: impl AsFd) -> bool {
    fcntl_getfl(fd).unwrap().contains(OFlags::NONBLOCK)
}

fn assert_stopped<T: std::fmt::Debug>(result: io::Result<T>) {
    match result {
        Err(error) => {
            assert!(is_stopped(&error), "not a stop: {error:?}");
            assert_eq!(error.kind(), io::ErrorKind::Other);
        }
        Ok(value) => panic!("expected the stop, got {value:?}"),
    }
}

/// Blocks a read on `reader` (nothing to read), stops it mid-call, then
/// checks that the stop transferred nothing: what `write` sends afterwards
/// is read whole through a fresh wrapper.
fn read_is_woken_by_the_stop<R, W>(reader: R, mut writer: W)
where
    R: Read + AsFd + Send + 'static,
    W: Write,
{
    let source = StopSource::new();
    let mut stream = Stoppable::new(reader, source.token());
    let blocked = bounded::spawn(move || {
        let mut buf = [0u8; 64];
        let result = stream.read(&mut buf);
        (result, stream.into_inner())
    });
    blocked.until_blocked("the read");
    let stopped_at = Instant::now();
    source.request_stop();
    let (result, reader) = blocked.join("the stopped read");
    assert_stopped(result);
    assert!(stopped_at.elapsed() < Duration::from_secs(2));

    writer.write_all(b"after the stop").unwrap();
    let mut fresh = Stoppable::new(reader, StopSource::new().token());
    let mut buf = [0u8; 14];
    fresh.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"after the stop");
    assert!(
        !is_nonblocking(fresh.get_ref()),
        "the flags are as they were"
    );
}

#[test]
fn a_blocked_tcp_read_returns_the_stop_and_loses_nothing() {
    let (reader, writer) = tcp_pair();
    read_is_woken_by_the_stop(reader, writer);
}

#[test]
fn a_blocked_unix_socket_read_returns_the_stop_and_loses_nothing() {
    let (reader, writer) = UnixStream::pair().unwrap();
    read_is_woken_by_the_stop(reader, writer);
}

#[test]
fn a_blocked_pipe_read_returns_the_stop_and_loses_nothing() {
    let (reader, writer) = pipe();
    read_is_woken_by_the_stop(reader, writer);
}

#[test]
fn a_blocked_tcp_accept_returns_the_stop_and_the_listener_still_accepts() {
    let source = StopSource::new();
    let listener = Stoppable::new(TcpListener::bind("127.0.0.1:0").unwrap(), source.token());
    let blocked = bounded::spawn(move || (listener.accept().map(drop), listener));
    blocked.until_blocked("the accept");
    source.request_stop();
    let (result, listener) = blocked.join("the stopped accept");
    assert_stopped(result);

    let listener = Stoppable::new(listener.into_inner(), StopSource::new().token());
    let address = listener.get_ref().local_addr().unwrap();
    let _client = TcpStream::connect(address).unwrap();
    let (stream, _) = listener.accept().unwrap();
    assert!(!is_nonblocking(&stream), "an accepted stream is blocking");
    assert!(
        !is_nonblocking(listener.get_ref()),
        "so is the listener after the calls"
    );
}

#[test]
fn a_blocked_unix_accept_returns_the_stop() {
    let path = socket_path();
    let source = StopSource::new();
    let listener = Stoppable::new(UnixListener::bind(&path).unwrap(), source.token());
    let blocked = bounded::spawn(move || listener.accept().map(drop));
    blocked.until_blocked("the accept");
    source.request_stop();
    assert_stopped(blocked.join("the stopped accept"));

    let listener = Stoppable::new(
        UnixListener::bind(socket_path()).unwrap(),
        StopToken::default(),
    );
    let address = listener.get_ref().local_addr().unwrap();
    let _client = UnixStream::connect(address.as_pathname().unwrap()).unwrap();
    let (stream, _) = listener.accept().unwrap();
    assert!(!is_nonblocking(&stream));
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(address.as_pathname().unwrap());
}

#[test]
fn acceptors_sharing_one_listener_each_get_a_connection_or_the_stop() {
    const ACCEPTORS: usize = 4;
    let source = StopSource::new();
    let listener = Arc::new(Stoppable::new(
        TcpListener::bind("127.0.0.1:0").unwrap(),
        source.token(),
    ));
    let address = listener.get_ref().local_addr().unwrap();
    let (accepted_tx, accepted_rx) = mpsc::channel();
    let acceptors: Vec<_> = (0..ACCEPTORS)
        .map(|_| {
            let listener = listener.clone();
            let accepted_tx = accepted_tx.clone();
            bounded::spawn(move || {
                let mut accepted = 0;
                loop {
                    match listener.accept() {
                        Ok(_) => {
                            accepted += 1;
                            accepted_tx.send(()).unwrap();
                        }
                        Err(error) if is_stopped(&error) => return accepted,
                        Err(error) => panic!("accept failed: {error}"),
                    }
                }
            })
        })
        .collect();
    let clients: Vec<_> = (0..10)
        .map(|_| TcpStream::connect(address).unwrap())
        .collect();
    for _ in 0..clients.len() {
        accepted_rx
            .recv_timeout(bounded::BOUND)
            .expect("a connection was not accepted");
    }
    for acceptor in &acceptors {
        acceptor.until_blocked("an acceptor");
    }
    source.request_stop();
    let total: usize = acceptors
        .into_iter()
        .map(|a| a.join("a stopped acceptor"))
        .sum();
    assert_eq!(total, clients.len());
    assert!(!is_nonblocking(listener.get_ref()));
}

/// Fills the peer's buffers until a write blocks, stops it mid-call, and
/// checks that the peer gets exactly the bytes the writes reported.
fn write_is_woken_by_the_stop<W, R>(writer: W, mut peer: R, close: impl FnOnce(W))
where
    W: Write + AsFd + Send + 'static,
    R: Read,
{
    let source = StopSource::new();
    let mut stream = Stoppable::new(writer, source.token());
    let blocked = bounded::spawn(move || {
        let chunk = vec![7u8; 64 * 1024];
        let mut written = 0;
        loop {
            match stream.write(&chunk) {
                Ok(n) => written += n,
                Err(error) => return (written, error, stream.into_inner()),
            }
        }
    });
    blocked.until_blocked("the write on a full buffer");
    source.request_stop();
    let (written, error, writer) = blocked.join("the stopped write");
    assert!(is_stopped(&error), "not a stop: {error:?}");
    assert!(written > 0);
    close(writer);
    let mut received = Vec::new();
    peer.read_to_end(&mut received).unwrap();
    assert_eq!(
        received.len(),
        written,
        "every byte reported written arrived, once"
    );
    assert!(received.iter().all(|&b| b == 7));
}

#[test]
fn a_write_blocked_on_a_full_socket_buffer_returns_the_stop() {
    let (writer, peer) = tcp_pair();
    write_is_woken_by_the_stop(writer, peer, |writer| {
        writer.shutdown(Shutdown::Write).unwrap()
    });
}

#[test]
fn a_write_blocked_on_a_full_unix_socket_returns_the_stop() {
    let (writer, peer) = UnixStream::pair().unwrap();
    write_is_woken_by_the_stop(writer, peer, drop);
}

#[test]
fn a_write_blocked_on_a_full_pipe_returns_the_stop() {
    let (peer, writer) = pipe();
    write_is_woken_by_the_stop(writer, peer, drop);
}

#[test]
fn a_token_stopped_before_the_call_returns_at_once_and_takes_nothing() {
    let source = StopSource::new();
    source.request_stop();

    let (reader, mut writer) = tcp_pair();
    writer.write_all(b"waiting").unwrap();
    let mut stream = Stoppable::new(reader, source.token());
    assert_stopped(stream.read(&mut [0u8; 16]));
    assert_stopped(stream.read(&mut [0u8; 0]));
    let mut out = Stoppable::new(writer, source.token());
    assert_stopped(out.write(b"more"));
    assert_stopped(out.write(b""));
    let mut rest = [0u8; 7];
    stream.into_inner().read_exact(&mut rest).unwrap();
    assert_eq!(&rest, b"waiting", "the stopped read took nothing");

    let (reader, mut writer) = pipe();
    writer.write_all(b"piped").unwrap();
    let mut stream = Stoppable::new(reader, source.token());
    assert_stopped(stream.read(&mut [0u8; 16]));
    let mut rest = [0u8; 5];
    stream.into_inner().read_exact(&mut rest).unwrap();
    assert_eq!(&rest, b"piped");

    let listener = Stoppable::new(TcpListener::bind("127.0.0.1:0").unwrap(), source.token());
    let _client = TcpStream::connect(listener.get_ref().local_addr().unwrap()).unwrap();
    assert_stopped(listener.accept());
    listener
        .into_inner()
        .accept()
        .expect("the pending connection is still there");
}

#[test]
fn an_end_of_stream_and_a_closed_peer_are_reported_as_they_are() {
    let (reader, writer) = tcp_pair();
    drop(writer);
    let mut stream = Stoppable::new(reader, StopSource::new().token());
    assert_eq!(stream.read(&mut [0u8; 8]).unwrap(), 0);

    let (writer, reader) = UnixStream::pair().unwrap();
    drop(reader);
    let mut stream = Stoppable::new(writer, StopSource::new().token());
    // MSG_NOSIGNAL: an error, not a SIGPIPE.
    assert_eq!(
        stream.write(b"x").unwrap_err().kind(),
        io::ErrorKind::BrokenPipe
    );

    let (reader, writer) = pipe();
    drop(writer);
    let mut stream = Stoppable::new(reader, StopSource::new().token());
    assert_eq!(stream.read(&mut [0u8; 8]).unwrap(), 0);
}

#[test]
fn a_descriptor_its_owner_made_non_blocking_still_waits_for_data() {
    let (reader, mut writer) = tcp_pair();
    reader.set_nonblocking(true).unwrap();
    let mut stream = Stoppable::new(reader, StopSource::new().token());
    let blocked = bounded::spawn(move || {
        let mut buf = [0u8; 4];
        stream.read_exact(&mut buf).map(|()| buf)
    });
    blocked.until_blocked("the read");
    writer.write_all(b"late").unwrap();
    assert_eq!(&blocked.join("the read").unwrap(), b"late");
}

#[test]
fn a_disengaged_token_waits_like_blocking_io() {
    let (reader, mut writer) = pipe();
    let mut stream = Stoppable::new(reader, StopToken::default());
    let blocked = bounded::spawn(move || {
        let mut text = String::new();
        stream.read_to_string(&mut text).map(|_| text)
    });
    blocked.until_blocked("the read");
    writer.write_all(b"all of it").unwrap();
    drop(writer);
    assert_eq!(blocked.join("the read").unwrap(), "all of it");
}

#[test]
fn buf_reader_reads_lines_through_the_wrapper_and_a_stop_ends_a_blocked_line() {
    let (reader, mut writer) = tcp_pair();
    let source = StopSource::new();
    let mut lines = BufReader::new(Stoppable::new(reader, source.token()));
    writer.write_all(b"one\ntwo\nthr").unwrap();
    let mut line = String::new();
    lines.read_line(&mut line).unwrap();
    assert_eq!(line, "one\n");
    line.clear();
    lines.read_line(&mut line).unwrap();
    assert_eq!(line, "two\n");
    let blocked = bounded::spawn(move || {
        let mut line = String::new();
        let result = lines.read_line(&mut line);
        (result, line, lines)
    });
    blocked.until_blocked("the read of an unfinished line");
    source.request_stop();
    let (result, partial, lines) = blocked.join("the stopped line");
    assert_stopped(result);
    // read_line keeps what it had read before the error.
    assert_eq!(partial, "thr");
    // Nothing more was taken from the socket: the rest comes through a new wrapper.
    let (buffered, stream) = (lines.buffer().to_vec(), lines.into_inner());
    assert!(buffered.is_empty());
    writer.write_all(b"ee\n").unwrap();
    let mut rest = BufReader::new(Stoppable::new(
        stream.into_inner(),
        StopSource::new().token(),
    ));
    let mut line = String::new();
    rest.read_line(&mut line).unwrap();
    assert_eq!(line, "ee\n");
}

#[test]
fn io_copy_through_wrappers_copies_everything_and_a_stop_ends_it() {
    let data = pattern(1 << 20, 11);
    let (socket_reader, mut socket_writer) = tcp_pair();
    let (pipe_reader, pipe_writer) = pipe();
    let source = StopSource::new();
    let feeder = {
        let data = data.clone();
        bounded::spawn(move || {
            socket_writer.write_all(&data).unwrap();
            socket_writer // kept open: the copy then blocks for more
        })
    };
    let (all_in_tx, all_in) = mpsc::channel();
    let expected = data.len();
    let drain = bounded::spawn(move || {
        let mut from = Stoppable::new(pipe_reader, StopToken::default());
        let mut copied = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf)? {
                0 => return Ok::<_, io::Error>(copied),
                n => copied.extend_from_slice(&buf[..n]),
            }
            if copied.len() == expected {
                all_in_tx.send(()).unwrap();
            }
        }
    });
    let token = source.token();
    let copier = bounded::spawn(move || {
        let mut from = Stoppable::new(socket_reader, token.clone());
        let mut to = Stoppable::new(pipe_writer, token);
        let result = io::copy(&mut from, &mut to);
        (result, from.into_inner(), to)
    });
    let _socket_writer = feeder.join("the feeder");
    // Once the pipe's reader has it all, the copy can only be waiting for
    // more from the open socket: stop it there.
    all_in
        .recv_timeout(bounded::BOUND)
        .expect("the copy did not deliver everything");
    copier.until_blocked("the copy");
    source.request_stop();
    let (result, _socket_reader, pipe_writer) = copier.join("the stopped copy");
    assert_stopped(result);
    drop(pipe_writer);
    let copied = drain.join("the pipe's reader").unwrap();
    assert_eq!(copied.len(), data.len());
    assert!(
        copied == data,
        "io::copy through the wrappers changed the data"
    );
}

#[test]
fn read_exact_passes_a_stop_up_instead_of_retrying() {
    let (reader, mut writer) = UnixStream::pair().unwrap();
    writer.write_all(b"half").unwrap();
    let source = StopSource::new();
    let mut stream = Stoppable::new(reader, source.token());
    let blocked = bounded::spawn(move || stream.read_exact(&mut [0u8; 8]));
    blocked.until_blocked("read_exact");
    source.request_stop();
    assert_stopped(blocked.join("the stopped read_exact"));
}

/// `len` bytes of a xorshift sequence from `seed`.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed | 1);
    (0..len).map(|_| rng.next() as u8).collect()
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The source of one side's current wrapper, for the other side to stop.
#[derive(Clone, Default)]
struct Current(Arc<std::sync::Mutex<Option<StopSource>>>);

impl Current {
    /// A fresh source, published as this side's current one.
    fn renew(&self) -> StopToken {
        let source = StopSource::new();
        let token = source.token();
        *self.0.lock().unwrap() = Some(source);
        token
    }

    /// Stops this side's current wrapper, wherever it is: blocked in a call,
    /// inside one, or between two.
    fn stop(&self) {
        if let Some(source) = self.0.lock().unwrap().take() {
            source.request_stop();
        }
    }
}

/// Sends 1 MiB from `writer` to `reader` through wrappers, in calls of random
/// sizes. After a random one in eight of its calls each side stops the
/// other's token, so the stops land at random points of the other's calls;
/// a side whose call returned the stop goes on through a fresh wrapper with a
/// fresh token. Returns how many writes and reads returned the stop.
fn transfer_with_random_stops<R, W>(reader: R, writer: W, close: fn(W), seed: u64) -> (usize, usize)
where
    R: Read + AsFd + Send + 'static,
    W: Write + AsFd + Send + 'static,
{
    let data = Arc::new(pattern(1 << 20, seed));
    let (writing, reading) = (Current::default(), Current::default());
    let sending = {
        let data = data.clone();
        let (writing, reading) = (writing.clone(), reading.clone());
        bounded::spawn(move || {
            let mut rng = Rng(seed.rotate_left(5) | 1);
            let (mut writer, mut offset, mut stopped) = (Some(writer), 0, 0);
            while offset < data.len() {
                let mut stream = Stoppable::new(writer.take().unwrap(), writing.renew());
                while offset < data.len() {
                    let len = 1 + rng.below(64 * 1024) as usize;
                    let end = (offset + len).min(data.len());
                    match stream.write(&data[offset..end]) {
                        Ok(n) => offset += n,
                        Err(error) if is_stopped(&error) => {
                            stopped += 1;
                            break;
                        }
                        Err(error) => panic!("write failed: {error}"),
                    }
                    if rng.below(8) == 0 {
                        reading.stop();
                    }
                }
                writer = Some(stream.into_inner());
            }
            close(writer.unwrap());
            stopped
        })
    };
    let receiving = bounded::spawn(move || {
        let mut rng = Rng(seed.rotate_left(9) | 1);
        let (mut reader, mut received, mut stopped) = (Some(reader), Vec::new(), 0);
        let mut buf = vec![0u8; 16 * 1024];
        'stream: loop {
            let mut stream = Stoppable::new(reader.take().unwrap(), reading.renew());
            loop {
                let len = 1 + rng.below(buf.len() as u64) as usize;
                match stream.read(&mut buf[..len]) {
                    Ok(0) => break 'stream,
                    Ok(n) => received.extend_from_slice(&buf[..n]),
                    Err(error) if is_stopped(&error) => {
                        stopped += 1;
                        break;
                    }
                    Err(error) => panic!("read failed: {error}"),
                }
                if rng.below(8) == 0 {
                    writing.stop();
                }
            }
            reader = Some(stream.into_inner());
        }
        (received, stopped)
    });
    let write_stops = sending.join("the sender");
    let (received, read_stops) = receiving.join("the receiver");
    assert_eq!(
        received.len(),
        data.len(),
        "bytes lost or duplicated (seed {seed})"
    );
    let first_difference = received.iter().zip(data.iter()).position(|(a, b)| a != b);
    assert_eq!(first_difference, None, "bytes out of place (seed {seed})");
    (write_stops, read_stops)
}

/// A seed from the clock (printed by the tests, to replay a failure).
fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    // splitmix64's finaliser: nearby instants give unrelated seeds.
    let mut z = nanos.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[test]
fn a_mib_over_tcp_stopped_at_random_points_loses_and_duplicates_nothing() {
    let (mut write_stops, mut read_stops) = (0, 0);
    for round in 0..4 {
        let seed = seed().wrapping_add(round);
        println!("seed {seed}");
        let (writer, reader) = tcp_pair();
        // Small buffers: the writer blocks again and again, so that the
        // stops also find it blocked, not only between calls.
        // No Nagle: with a small window, it and delayed acks stall a round.
        rustix::net::sockopt::set_socket_send_buffer_size(&writer, 32 * 1024).unwrap();
        rustix::net::sockopt::set_socket_recv_buffer_size(&reader, 32 * 1024).unwrap();
        writer.set_nodelay(true).unwrap();
        let close = |w: TcpStream| w.shutdown(Shutdown::Write).unwrap();
        let (w, r) = transfer_with_random_stops(reader, writer, close, seed);
        write_stops += w;
        read_stops += r;
    }
    println!("calls that returned the stop: {write_stops} writes, {read_stops} reads");
    assert!(write_stops > 0 && read_stops > 0, "the stops ended no call");
}

#[test]
fn a_mib_through_a_pipe_stopped_at_random_points_loses_and_duplicates_nothing() {
    let (mut write_stops, mut read_stops) = (0, 0);
    for round in 0..4 {
        let seed = seed().wrapping_add(round);
        println!("seed {seed}");
        let (reader, writer) = pipe();
        let (w, r) = transfer_with_random_stops(reader, writer, drop, seed);
        write_stops += w;
        read_stops += r;
    }
    println!("calls that returned the stop: {write_stops} writes, {read_stops} reads");
    assert!(write_stops > 0 && read_stops > 0, "the stops ended no call");
}

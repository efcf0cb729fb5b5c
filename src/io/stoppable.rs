//! `Stoppable<T>`: a descriptor whose blocking reads, writes and accepts a
//! stop wakes (the protocol and the choice of flags: [`crate::io`]).

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::{self as unix, UnixListener, UnixStream};

use rustix::event::PollFlags;
use rustix::io::Errno;
use rustix::net::{recv, send, RecvFlags, SendFlags};

use super::nonblocking::NonBlocking;
use super::ready::until_ready;
use crate::StopToken;

/// A socket, pipe or other descriptor whose blocking calls also end on a stop
/// (feature `io`, Unix).
///
/// `Read` and `Write` (for a `T` that has them and is [`AsFd`]) and
/// [`accept`](Stoppable::accept) on listeners block until the descriptor is
/// ready or a stop is requested on the token, whichever comes first. A stop
/// returns an [`io::Error`] for which [`is_stopped`](crate::io::is_stopped) is
/// true (kind `Other`, so `read_exact`, `write_all`, `read_to_end` and
/// `io::copy` pass it up instead of retrying), and **a call that returns the
/// stop transferred nothing**: no byte is lost or duplicated, and the rest of
/// the stream can be read later, through a new wrapper with a new token. A
/// stop requested before a call makes it return the stop at once, even if
/// data is waiting.
///
/// Each waiting call makes one `poll(2)` on the descriptor and the thread's
/// wake-up descriptor, which a stop callback on the caller's stack signals.
/// On a socket, a call whose data is already there makes just the one system
/// call a plain read makes (`recv`/`send` with `MSG_DONTWAIT`: the
/// descriptor's flags are never touched); on pipes and listeners, `fcntl`
/// calls set `O_NONBLOCK` around it. See [the module docs](crate::io) for
/// why.
///
/// The wrapper reads and writes `T`'s *descriptor*, not through `T`'s own
/// methods, so `T` must be a plain descriptor type (`TcpStream`, `UnixStream`,
/// `File`, `ChildStdout`, ...), and buffering or TLS goes on top:
/// `BufReader::new(Stoppable::new(stream, token))`. Read and write timeouts
/// set on a socket (`set_read_timeout`) do not apply: the wait is the poll.
///
/// # Examples
///
/// A reader blocked on a socket that never sends, stopped from another
/// thread:
///
/// ```
/// use std::io::Read;
/// use std::net::{TcpListener, TcpStream};
/// use stoptoken::io::{is_stopped, Stoppable};
/// use stoptoken::StopSource;
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let _client = TcpStream::connect(listener.local_addr()?)?; // sends nothing
/// let (server_side, _) = listener.accept()?;
///
/// let source = StopSource::new();
/// let mut stream = Stoppable::new(server_side, source.token());
/// let reader = std::thread::spawn(move || {
///     let mut buf = [0; 1024];
///     stream.read(&mut buf).map_err(|e| is_stopped(&e))
/// });
/// source.request_stop();
/// assert_eq!(reader.join().unwrap(), Err(true)); // woken, nothing read
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Stoppable<T> {
    inner: T,
    token: StopToken,
    /// What the descriptor turned out to be; found by the first call.
    kind: Kind,
    /// Whether the next read, or write, is expected to find the descriptor
    /// not ready (see `until_ready`): such a call polls first, which saves
    /// the system call that would only say "would block".
    read_waits: bool,
    write_waits: bool,
    nonblocking: NonBlocking,
}

/// How a call is made non-blocking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Not tried yet: tried as a socket (an `ENOTSOCK` says otherwise).
    Unknown,
    /// `recv` / `send` with `MSG_DONTWAIT`.
    Socket,
    /// `read` / `write` with `O_NONBLOCK` for the call.
    Other,
}

impl<T> Stoppable<T> {
    /// Wraps `inner`; its calls through the wrapper end on a stop of `token`.
    /// Nothing is done to the descriptor here.
    ///
    /// # Examples
    ///
    /// ```
    /// let (reader, _writer) = std::os::unix::net::UnixStream::pair()?;
    /// let source = stoptoken::StopSource::new();
    /// let stream = stoptoken::io::Stoppable::new(reader, source.token());
    /// assert_eq!(*stream.token(), source.token());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(inner: T, token: StopToken) -> Self {
        Stoppable {
            inner,
            token,
            kind: Kind::Unknown,
            read_waits: false,
            write_waits: false,
            nonblocking: NonBlocking::default(),
        }
    }

    /// The wrapped value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (reader, _writer) = std::os::unix::net::UnixStream::pair()?;
    /// let stream = stoptoken::io::Stoppable::new(reader, Default::default());
    /// assert!(stream.get_ref().peer_addr().is_ok());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped value, mutably. Reading or writing it directly bypasses
    /// the wrapper (and blocks as it normally would).
    ///
    /// # Examples
    ///
    /// ```
    /// let (reader, _writer) = std::os::unix::net::UnixStream::pair()?;
    /// let mut stream = stoptoken::io::Stoppable::new(reader, Default::default());
    /// stream.get_mut().set_nonblocking(false)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the value. The wrapper keeps no state in the descriptor
    /// between calls, so it comes back as it went in, and nothing read
    /// through the wrapper is held back: the next byte it yields is the next
    /// byte of the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    ///
    /// let (reader, mut writer) = std::os::unix::net::UnixStream::pair()?;
    /// writer.write_all(b"ab")?;
    /// let mut stream = stoptoken::io::Stoppable::new(reader, Default::default());
    /// let mut first = [0; 1];
    /// stream.read_exact(&mut first)?;
    /// let mut rest = [0; 1];
    /// stream.into_inner().read_exact(&mut rest)?;
    /// assert_eq!((&first, &rest), (b"a", b"b"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// The token whose stop ends the calls.
    ///
    /// # Examples
    ///
    /// ```
    /// let source = stoptoken::StopSource::new();
    /// let stream = stoptoken::io::Stoppable::new(std::io::empty(), source.token());
    /// assert!(!stream.token().stop_requested());
    /// ```
    #[inline]
    pub fn token(&self) -> &StopToken {
        &self.token
    }
}

impl<T: Read + AsFd> Read for Stoppable<T> {
    /// Reads what is there, waiting until something is (or the end of the
    /// stream, or an error) or a stop is requested. An empty `buf` returns
    /// `Ok(0)` at once, unless a stop was requested.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Stoppable {
            inner,
            token,
            kind,
            read_waits,
            nonblocking,
            ..
        } = self;
        if buf.is_empty() {
            token.check()?;
            return Ok(0);
        }
        let (fd, len) = (inner.as_fd(), buf.len());
        let short = |n: &usize| *n < len;
        until_ready(fd, PollFlags::IN, token, read_waits, short, || {
            read_now(fd, kind, nonblocking, buf)
        })
    }
}

impl<T: Write + AsFd> Write for Stoppable<T> {
    /// Writes what fits, waiting until something fits or a stop is requested.
    /// An empty `buf` returns `Ok(0)` at once, unless a stop was requested.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Stoppable {
            inner,
            token,
            kind,
            write_waits,
            nonblocking,
            ..
        } = self;
        if buf.is_empty() {
            token.check()?;
            return Ok(0);
        }
        let fd = inner.as_fd();
        let short = |n: &usize| *n < buf.len();
        until_ready(fd, PollFlags::OUT, token, write_waits, short, || {
            write_now(fd, kind, nonblocking, buf)
        })
    }

    /// `T`'s own flush (descriptors have nothing to flush).
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Stoppable<TcpListener> {
    /// Accepts a connection, waiting until one comes or a stop is requested.
    ///
    /// Takes `&self`: several threads may accept on one wrapper (an
    /// `Arc<Stoppable<TcpListener>>`), and one stop wakes them all. The
    /// accepted stream is in blocking mode, as from `TcpListener::accept`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::{TcpListener, TcpStream};
    /// use stoptoken::io::{is_stopped, Stoppable};
    /// use stoptoken::StopSource;
    ///
    /// let source = StopSource::new();
    /// let listener = Stoppable::new(TcpListener::bind("127.0.0.1:0")?, source.token());
    /// let _client = TcpStream::connect(listener.get_ref().local_addr()?)?;
    /// let (_stream, _peer) = listener.accept()?;
    ///
    /// source.request_stop(); // no one connects again: the stop ends the wait
    /// assert!(is_stopped(&listener.accept().unwrap_err()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        self.accept_with(TcpListener::accept)
    }
}

impl Stoppable<UnixListener> {
    /// Accepts a connection on a Unix socket, waiting until one comes or a
    /// stop is requested; see [`Stoppable<TcpListener>::accept`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::net::UnixListener;
    /// use stoptoken::io::{is_stopped, Stoppable};
    /// use stoptoken::StopSource;
    ///
    /// let path = std::env::temp_dir().join(format!("stoptoken-doc-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let source = StopSource::new();
    /// let listener = Stoppable::new(UnixListener::bind(&path)?, source.token());
    /// let waiter = std::thread::spawn(move || listener.accept().map(drop));
    /// source.request_stop();
    /// assert!(is_stopped(&waiter.join().unwrap().unwrap_err()));
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn accept(&self) -> io::Result<(UnixStream, unix::SocketAddr)> {
        self.accept_with(UnixListener::accept)
    }
}

impl<L: AsFd> Stoppable<L> {
    fn accept_with<S: AsFd, A>(
        &self,
        accept: impl Fn(&L) -> io::Result<(S, A)>,
    ) -> io::Result<(S, A)> {
        let fd = self.inner.as_fd();
        // No guess: concurrent accepts would share it.
        until_ready(
            fd,
            PollFlags::IN,
            &self.token,
            &mut false,
            |_| false,
            || {
                self.nonblocking.run(fd, |was_blocking| {
                    let (stream, peer) = accept(&self.inner)?;
                    // BSD-derived systems (macOS too) give an accepted socket the
                    // listener's O_NONBLOCK; Linux does not.
                    if was_blocking && cfg!(not(any(target_os = "linux", target_os = "android"))) {
                        rustix::io::ioctl_fionbio(&stream, false)?;
                    }
                    Ok((stream, peer))
                })
            },
        )
    }
}

impl<T: fmt::Debug> fmt::Debug for Stoppable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stoppable")
            .field("inner", &self.inner)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

fn read_now(
    fd: BorrowedFd<'_>,
    kind: &mut Kind,
    nonblocking: &NonBlocking,
    buf: &mut [u8],
) -> io::Result<usize> {
    if *kind != Kind::Other {
        match recv(fd, &mut *buf, RecvFlags::DONTWAIT) {
            Ok((n, _)) => {
                *kind = Kind::Socket;
                return Ok(n);
            }
            Err(Errno::NOTSOCK) => *kind = Kind::Other,
            Err(error) => return Err(error.into()),
        }
    }
    nonblocking.run(fd, |_| Ok(rustix::io::read(fd, buf)?))
}

/// `MSG_NOSIGNAL` where the system has it: a closed peer is `EPIPE`, not a
/// `SIGPIPE` (std's `TcpStream` does the same).
#[cfg(not(any(target_vendor = "apple", target_os = "redox")))]
const SEND_FLAGS: SendFlags = SendFlags::DONTWAIT.union(SendFlags::NOSIGNAL);
#[cfg(any(target_vendor = "apple", target_os = "redox"))]
const SEND_FLAGS: SendFlags = SendFlags::DONTWAIT;

fn write_now(
    fd: BorrowedFd<'_>,
    kind: &mut Kind,
    nonblocking: &NonBlocking,
    buf: &[u8],
) -> io::Result<usize> {
    if *kind != Kind::Other {
        match send(fd, buf, SEND_FLAGS) {
            Ok(n) => {
                *kind = Kind::Socket;
                return Ok(n);
            }
            Err(Errno::NOTSOCK) => *kind = Kind::Other,
            Err(error) => return Err(error.into()),
        }
    }
    nonblocking.run(fd, |_| Ok(rustix::io::write(fd, buf)?))
}

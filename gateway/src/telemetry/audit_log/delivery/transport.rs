//! What a sink's thread needs from the way its lines travel (TLS stream, datagram socket),
//! and the [`Breaker`] that lets `close` interrupt a send blocked on a receiver that stopped
//! reading.

use std::io;
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixDatagram;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::queue::Item;

/// Why a send stopped partway.
#[derive(Debug)]
pub(super) enum SendError {
    /// The connection is broken (or was never good): reconnect and send the rest again.
    Broken(io::Error),
    /// The first unsent line can never be sent this way (too large for the socket): drop it
    /// and go on with the next.
    TooLarge(io::Error),
}

/// A send that stopped after `sent` lines of the batch.
#[derive(Debug)]
pub(super) struct Failure {
    /// Lines of the batch written before the failure (0 for a stream, which cannot tell).
    pub sent: usize,
    /// What happened to the next.
    pub error: SendError,
}

/// A connection to one receiver, used by one sink's thread only.
pub(super) trait Transport: Send {
    /// Where the lines go, for log lines (`siem.example.org:6514`, `/dev/log`).
    fn describe(&self) -> String;

    /// Opens the connection; on success it is armed in `breaker`.
    fn connect(&mut self, breaker: &Breaker) -> io::Result<()>;

    /// Whether a connection is open.
    fn is_connected(&self) -> bool;

    /// Writes every line of `batch` to the socket, in order.
    fn send(&mut self, batch: &[Item]) -> Result<(), Failure>;

    /// Drops the connection (after a failure, or at the end).
    fn disconnect(&mut self);
}

/// A socket that can be shut down from another thread: a send blocked on it then returns.
#[derive(Debug)]
pub(super) enum Interruptible {
    /// The TCP stream under TLS.
    Tcp(TcpStream),
    /// A local datagram socket.
    Unix(UnixDatagram),
}

impl Interruptible {
    fn shut_down(&self) {
        // Already shut or closed: nothing left to interrupt.
        let _ = match self {
            Self::Tcp(stream) => stream.shutdown(Shutdown::Both),
            Self::Unix(socket) => socket.shutdown(Shutdown::Both),
        };
    }
}

/// The sink's current socket, kept so that `close` can interrupt its thread.
#[derive(Debug, Default)]
pub(super) struct Breaker(Mutex<BreakerState>);

#[derive(Debug, Default)]
struct BreakerState {
    socket: Option<Interruptible>,
    tripped: bool,
}

impl Breaker {
    fn lock(&self) -> MutexGuard<'_, BreakerState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps a handle to the socket just opened; shut at once if the breaker has tripped.
    pub fn arm(&self, socket: Interruptible) {
        let mut state = self.lock();
        if state.tripped {
            socket.shut_down();
        }
        state.socket = Some(socket);
    }

    /// Forgets the socket (it is being dropped).
    pub fn disarm(&self) {
        self.lock().socket = None;
    }

    /// Shuts the socket down, and every socket armed later.
    pub fn trip(&self) {
        let mut state = self.lock();
        state.tripped = true;
        if let Some(socket) = &state.socket {
            socket.shut_down();
        }
    }
}

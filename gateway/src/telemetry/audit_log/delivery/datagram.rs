//! A local datagram socket (journald's native socket, or syslog's `/dev/log`): one datagram per
//! line, written to the socket path the sink was given.
//!
//! The socket is connected to the path, so a receiver that is not there yet (or restarted and
//! made a new socket) fails the send, and the sink reconnects with its backoff. A send waits
//! at most [`SEND_TIMEOUT`] for a receiver whose queue is full, then counts as a broken
//! connection and is retried: the sink's thread keeps checking whether it must stop.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use socket2::{Domain, SockAddr, Socket, Type};
use std::os::unix::net::UnixDatagram;

use super::journald::SEND_BUFFER;
use super::queue::Item;
use super::transport::{Breaker, Failure, Interruptible, SendError, Transport};

/// How long one send may wait for room at the receiver.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// Linux's `EMSGSIZE`: the datagram is larger than the socket can send.
const EMSGSIZE: i32 = 90;

/// Makes the datagram of a line.
pub(super) type Encode = Box<dyn Fn(&Item) -> Vec<u8> + Send>;

/// A datagram transport to `path`.
pub(super) struct Datagram {
    path: PathBuf,
    encode: Encode,
    socket: Option<UnixDatagram>,
}

impl Datagram {
    /// Not connected yet; `encode` makes each line's datagram.
    pub fn new(path: PathBuf, encode: Encode) -> Self {
        Self {
            path,
            encode,
            socket: None,
        }
    }
}

impl Transport for Datagram {
    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn connect(&mut self, breaker: &Breaker) -> io::Result<()> {
        let socket = Socket::new(Domain::UNIX, Type::DGRAM, None)?;
        // Larger lines fit; the kernel caps the request at net.core.wmem_max.
        socket.set_send_buffer_size(SEND_BUFFER)?;
        socket.set_write_timeout(Some(SEND_TIMEOUT))?;
        socket.connect(&SockAddr::unix(&self.path)?)?;
        let socket: UnixDatagram = socket.into();
        breaker.arm(Interruptible::Unix(socket.try_clone()?));
        self.socket = Some(socket);
        Ok(())
    }

    fn is_connected(&self) -> bool {
        self.socket.is_some()
    }

    fn send(&mut self, batch: &[Item]) -> Result<(), Failure> {
        let Some(socket) = &self.socket else {
            return Err(Failure {
                sent: 0,
                error: SendError::Broken(io::ErrorKind::NotConnected.into()),
            });
        };
        for (sent, item) in batch.iter().enumerate() {
            let datagram = (self.encode)(item);
            if let Err(error) = socket.send(&datagram) {
                let error = if error.raw_os_error() == Some(EMSGSIZE) {
                    SendError::TooLarge(error)
                } else {
                    SendError::Broken(error)
                };
                return Err(Failure { sent, error });
            }
        }
        Ok(())
    }

    fn disconnect(&mut self) {
        self.socket = None;
    }
}

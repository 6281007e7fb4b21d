//! The syslog sink's transports: RFC 5425 (TLS over TCP, octet-counted frames) to a remote
//! receiver, or RFC 5424 messages as datagrams to a local socket.
//!
//! On TLS, a batch of lines is written as one run of frames and flushed; it counts as sent
//! when the socket took it. Before each batch the sink reads what the receiver sent (TLS 1.3
//! session tickets, an alert, the end of the stream) without waiting, so a receiver that
//! closed the connection is noticed before lines are written into a dead socket. A broken
//! connection is made again and the unfinished batch sent again whole: a receiver may see a
//! line twice (the chain's `seq` tells), never miss one the sink counted delivered without a
//! drop being recorded.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rustls::{ClientConfig, ClientConnection, StreamOwned};
use rustls_pki_types::ServerName;

use super::DeliveryError;
use super::datagram::Datagram;
use super::queue::Item;
use super::rfc5424::{self, Header};
use super::transport::{Breaker, Failure, Interruptible, SendError, Transport};
use crate::config::audit_delivery::{SyslogTarget, SyslogTransport};

/// How long a TCP connection and then the TLS handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a new TLS 1.3 connection waits for the receiver's verdict on the client (see
/// [`settle`]) before lines are written.
const SETTLE: Duration = Duration::from_millis(200);

/// The transport for `target`; TLS files are read now, so a bad one fails the start.
pub(super) fn transport(target: &SyslogTarget) -> Result<Box<dyn Transport>, DeliveryError> {
    let header = Header::of_this_process(target.facility);
    Ok(match &target.transport {
        SyslogTransport::Tls(tls) => {
            let (config, server_name) = super::tls::client(tls)?;
            Box::new(TlsSyslog {
                address: tls.address.clone(),
                config,
                server_name,
                header,
                stream: None,
            })
        }
        SyslogTransport::Datagram(path) => Box::new(Datagram::new(
            path.clone(),
            Box::new(move |item| rfc5424::message(&header, item).into_bytes()),
        )),
    })
}

/// RFC 5425 to one receiver.
struct TlsSyslog {
    address: String,
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
    header: Header,
    stream: Option<StreamOwned<ClientConnection, TcpStream>>,
}

impl TlsSyslog {
    fn tcp(&self) -> io::Result<TcpStream> {
        let mut last = io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} resolves to no address", self.address),
        );
        for addr in self.address.to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                Ok(stream) => return Ok(stream),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

impl Transport for TlsSyslog {
    fn describe(&self) -> String {
        self.address.clone()
    }

    fn connect(&mut self, breaker: &Breaker) -> io::Result<()> {
        let mut tcp = self.tcp()?;
        tcp.set_nodelay(true)?;
        tcp.set_read_timeout(Some(CONNECT_TIMEOUT))?;
        tcp.set_write_timeout(Some(CONNECT_TIMEOUT))?;
        breaker.arm(Interruptible::Tcp(tcp.try_clone()?));
        let mut conn = ClientConnection::new(self.config.clone(), self.server_name.clone())
            .map_err(io::Error::other)?;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)?;
        }
        let mut stream = StreamOwned::new(conn, tcp);
        settle(&mut stream)?;
        let tcp = &stream.sock;
        // A receiver that stops reading is waited for (the queue holds the lines meanwhile);
        // `close` interrupts the wait through the breaker.
        tcp.set_write_timeout(None)?;
        self.stream = Some(stream);
        Ok(())
    }

    fn is_connected(&self) -> bool {
        self.stream.is_some()
    }

    fn send(&mut self, batch: &[Item]) -> Result<(), Failure> {
        let broken = |error| Failure {
            sent: 0,
            error: SendError::Broken(error),
        };
        let Some(stream) = &mut self.stream else {
            return Err(broken(io::ErrorKind::NotConnected.into()));
        };
        peer_still_there(stream).map_err(broken)?;
        let mut frames = Vec::new();
        for item in batch {
            rfc5424::frame(&rfc5424::message(&self.header, item), &mut frames);
        }
        stream
            .write_all(&frames)
            .and_then(|()| stream.flush())
            .map_err(broken)
    }

    fn disconnect(&mut self) {
        self.stream = None;
    }
}

/// In TLS 1.3 the client's handshake ends before the server has judged the client's
/// certificate (or its lack of one): a receiver that refuses it says so one round trip later,
/// with an alert. Lines written before that would count as delivered and be lost, so a new
/// connection waits up to [`SETTLE`] for that alert (or the session tickets a server sends
/// once it accepted the client) before it is used.
fn settle(stream: &mut StreamOwned<ClientConnection, TcpStream>) -> io::Result<()> {
    if stream.conn.protocol_version() != Some(rustls::ProtocolVersion::TLSv1_3) {
        return Ok(());
    }
    stream.sock.set_read_timeout(Some(SETTLE))?;
    match stream.conn.read_tls(&mut stream.sock) {
        Ok(0) => Err(closed()),
        Ok(_) => {
            let state = stream
                .conn
                .process_new_packets()
                .map_err(io::Error::other)?;
            if state.peer_has_closed() {
                return Err(closed());
            }
            Ok(())
        }
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

fn closed() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "the receiver closed the connection",
    )
}

/// Reads, without waiting, what the receiver sent since the last batch; an error when it
/// closed the connection or sent a TLS alert.
fn peer_still_there(stream: &mut StreamOwned<ClientConnection, TcpStream>) -> io::Result<()> {
    stream.sock.set_nonblocking(true)?;
    let result = drain(stream);
    stream.sock.set_nonblocking(false)?;
    result
}

fn drain(stream: &mut StreamOwned<ClientConnection, TcpStream>) -> io::Result<()> {
    loop {
        match stream.conn.read_tls(&mut stream.sock) {
            Ok(0) => return Err(closed()),
            Ok(_) => {
                let state = stream
                    .conn
                    .process_new_packets()
                    .map_err(io::Error::other)?;
                if state.peer_has_closed() {
                    return Err(closed());
                }
                // A syslog receiver has nothing to say; whatever it sent is read and let go.
                let mut discard = [0u8; 1024];
                while matches!(stream.conn.reader().read(&mut discard), Ok(n) if n > 0) {}
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

//! A TLS syslog receiver (RFC 5425) for the audit delivery tests: a rustls server with a test
//! certificate on 127.0.0.1, reading octet-counted frames and keeping every RFC 5424 message
//! for assertions. It can be paused: it then stops reading (its small receive buffer fills and
//! the sender's writes block), as a slow or hung SIEM would.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpSocket;
use tokio::sync::watch;

use crate::pki::TestCa;

/// The name in the receiver's certificate.
pub const SERVER_NAME: &str = "syslog.test";

/// One RFC 5424 message as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogMessage {
    pub pri: u16,
    pub version: String,
    pub timestamp: String,
    pub hostname: String,
    pub app_name: String,
    pub procid: String,
    pub msgid: String,
    pub structured_data: String,
    /// MSG: for Pforte, the chained JSON line.
    pub msg: String,
}

impl SyslogMessage {
    /// Splits `<PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG` (SD only as the
    /// NILVALUE, which is all Pforte sends).
    pub fn parse(raw: &str) -> Option<Self> {
        let rest = raw.strip_prefix('<')?;
        let (pri, rest) = rest.split_once('>')?;
        let mut parts = rest.splitn(8, ' ');
        let mut next = || parts.next().map(str::to_string);
        Some(Self {
            pri: pri.parse().ok()?,
            version: next()?,
            timestamp: next()?,
            hostname: next()?,
            app_name: next()?,
            procid: next()?,
            msgid: next()?,
            structured_data: next()?,
            msg: next()?,
        })
    }

    /// MSG as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.msg).unwrap()
    }
}

/// A running receiver; stopped when dropped.
pub struct SyslogReceiver {
    pub addr: SocketAddr,
    ca_file: PathBuf,
    _dir: tempfile::TempDir,
    received: Arc<Mutex<Vec<String>>>,
    paused: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl SyslogReceiver {
    /// A receiver on a free port, with a certificate from a CA of its own.
    pub async fn start() -> Self {
        Self::start_on(crate::free_port(), &TestCa::new()).await
    }

    /// A receiver on `port` with a certificate from `ca` (for a sender started, trusting `ca`,
    /// before its receiver).
    pub async fn start_on(port: u16, ca: &TestCa) -> Self {
        Self::start_with(port, ca, None).await
    }

    /// A receiver that accepts only senders presenting a certificate from `client_ca` (mutual
    /// TLS); a sender without one fails its handshake and delivers nothing.
    pub async fn start_requiring_client_cert(client_ca: &TestCa) -> Self {
        Self::start_with(crate::free_port(), &TestCa::new(), Some(client_ca)).await
    }

    async fn start_with(port: u16, ca: &TestCa, client_ca: Option<&TestCa>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("syslog-ca.pem");
        ca.write_pem(&ca_file);
        let leaf = ca.leaf(dir.path(), "syslog", &[SERVER_NAME, "127.0.0.1"]);
        let acceptor = match client_ca {
            None => leaf.acceptor(&[]),
            Some(client_ca) => {
                crate::init_crypto();
                let mut roots = rustls::RootCertStore::empty();
                roots.add(client_ca.der()).unwrap();
                let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
                    .build()
                    .unwrap();
                let key = <rustls_pki_types::PrivateKeyDer as rustls_pki_types::pem::PemObject>::from_pem_file(&leaf.key).unwrap();
                let config = rustls::ServerConfig::builder()
                    .with_client_cert_verifier(verifier)
                    .with_single_cert(vec![leaf.der.clone()], key)
                    .unwrap();
                tokio_rustls::TlsAcceptor::from(Arc::new(config))
            }
        };
        let socket = TcpSocket::new_v4().unwrap();
        // A small window: a paused receiver stops the sender after little data.
        socket.set_recv_buffer_size(4096).unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket
            .bind(SocketAddr::from(([127, 0, 0, 1], port)))
            .unwrap();
        let listener = socket.listen(16).unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let (paused, _) = watch::channel(false);
        let task = {
            let received = received.clone();
            let paused = paused.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((tcp, _)) = listener.accept().await else {
                        return;
                    };
                    let acceptor = acceptor.clone();
                    let received = received.clone();
                    let mut paused = paused.subscribe();
                    tokio::spawn(async move {
                        let Ok(mut tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let mut buffer = Vec::new();
                        let mut chunk = vec![0u8; 16 * 1024];
                        loop {
                            if paused.wait_for(|p| !p).await.is_err() {
                                return;
                            }
                            match tls.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                            }
                            while let Some(message) = take_frame(&mut buffer) {
                                received.lock().unwrap().push(message);
                            }
                        }
                    });
                }
            })
        };
        Self {
            addr,
            ca_file,
            _dir: dir,
            received,
            paused,
            task,
        }
    }

    /// `127.0.0.1:port`, for `[audit.syslog] address`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// The CA that issued the receiver's certificate, for `[audit.syslog] ca`.
    pub fn ca_file(&self) -> PathBuf {
        self.ca_file.clone()
    }

    /// Stops reading (connections stay open).
    pub fn pause(&self) {
        self.paused.send_replace(true);
    }

    /// Reads again.
    pub fn resume(&self) {
        self.paused.send_replace(false);
    }

    /// Every message so far, in order of arrival.
    pub fn messages(&self) -> Vec<SyslogMessage> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|raw| SyslogMessage::parse(raw).unwrap_or_else(|| panic!("not RFC 5424: {raw}")))
            .collect()
    }

    /// Waits until `check` holds for the messages received (polling), or panics after
    /// `within` with what came.
    pub async fn wait_until(
        &self,
        within: Duration,
        what: &str,
        check: impl Fn(&[SyslogMessage]) -> bool,
    ) -> Vec<SyslogMessage> {
        let deadline = std::time::Instant::now() + within;
        loop {
            let messages = self.messages();
            if check(&messages) {
                return messages;
            }
            if std::time::Instant::now() > deadline {
                panic!(
                    "syslog receiver: {what} not within {within:?}; got {} messages: {:?}",
                    messages.len(),
                    messages.iter().map(|m| &m.msgid).collect::<Vec<_>>()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for SyslogReceiver {
    fn drop(&mut self) {
        self.task.abort();
        // Connections end with their tasks once the watch is gone.
        self.paused.send_replace(false);
    }
}

/// Takes one octet-counted frame (`LEN SP MSG`) off the front of `buffer`, when whole.
pub fn take_frame(buffer: &mut Vec<u8>) -> Option<String> {
    let space = buffer.iter().position(|b| *b == b' ')?;
    let len: usize = std::str::from_utf8(&buffer[..space])
        .ok()?
        .parse()
        .unwrap_or_else(|_| {
            panic!(
                "bad frame length: {:?}",
                String::from_utf8_lossy(&buffer[..space])
            )
        });
    let end = space + 1 + len;
    if buffer.len() < end {
        return None;
    }
    let message = String::from_utf8(buffer[space + 1..end].to_vec()).unwrap();
    buffer.drain(..end);
    Some(message)
}

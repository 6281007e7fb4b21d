//! `[audit.syslog]` and `[audit.journald]`: where a copy of every audit log line goes besides
//! the file, for the operators' SIEM. Each sink holds the lines in a bounded queue while its
//! receiver is slow or away (`queue`), and drops (and counts) what does not fit rather than
//! slow a login down; `telemetry::audit_log::delivery` sends them.
//!
//! ```toml
//! [audit.syslog]
//! address = "siem.example.org:6514"   # RFC 5425: TLS, octet-counted frames; or
//! # socket = "/dev/log"               # a local datagram socket (exactly one of the two)
//! ca = "siem-ca.pem"                  # default: the system's roots
//! server_name = "siem.example.org"    # default: the host of `address`
//! client_cert = "pforte-syslog.pem"   # mutual TLS, with client_key
//! client_key = "pforte-syslog.key"
//! queue = 10000                       # lines held while the receiver is slow or away
//! facility = "authpriv"
//!
//! [audit.journald]
//! socket = "/run/systemd/journal/socket"   # the default
//! queue = 10000
//! ```
//!
//! ```text
//! SyslogSection   ──validate──▶ SyslogTarget   ─┐
//! JournaldSection ──validate──▶ JournaldTarget ─┴─▶ Delivery::start
//! ```
//!
//! Files are relative to the config file's folder and must exist when the config is read; the
//! sockets need not (a receiver that starts later is reached by the sink's retries).
//!
//! `socket` sends RFC 5424 messages, which rsyslog and syslog-ng read; on a host where
//! `/dev/log` is journald's (systemd's `dev-log`, which reads only the older RFC 3164 form),
//! use `[audit.journald]` instead, which also keeps the event and sequence as fields.

use std::path::{Path, PathBuf};

use rustls_pki_types::ServerName;
use serde::Deserialize;
use toml::Spanned;

use super::error::Report;
use super::paths::require_file;

/// Lines a sink holds by default: at a few hundred bytes each, a few megabytes, minutes of a
/// busy gateway's logins.
pub const DEFAULT_QUEUE: usize = 10_000;

/// The most lines a queue may hold: beyond this the queue is a second log in memory.
pub const MAX_QUEUE: usize = 1_000_000;

/// Where journald listens for native-protocol datagrams.
pub const JOURNALD_SOCKET: &str = "/run/systemd/journal/socket";

/// `[audit.syslog]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogSection {
    /// `host:port` of a TLS syslog receiver (RFC 5425).
    pub address: Option<Spanned<String>>,
    /// A local datagram socket (`/dev/log`), instead of `address`.
    pub socket: Option<Spanned<PathBuf>>,
    /// PEM trust anchors for the receiver's certificate; the system's roots without it.
    pub ca: Option<Spanned<PathBuf>>,
    /// The name the receiver's certificate must carry; the host of `address` without it.
    pub server_name: Option<Spanned<String>>,
    /// PEM certificate chain Pforte presents (mutual TLS), with `client_key`.
    pub client_cert: Option<Spanned<PathBuf>>,
    /// PEM private key of `client_cert`.
    pub client_key: Option<Spanned<PathBuf>>,
    /// Lines held while the receiver is slow or away.
    pub queue: Option<Spanned<i64>>,
    /// The RFC 5424 facility of every message.
    #[serde(default)]
    pub facility: Facility,
}

/// `[audit.journald]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournaldSection {
    /// journald's native socket.
    pub socket: Option<PathBuf>,
    /// Lines held while journald is slow or away.
    pub queue: Option<Spanned<i64>>,
}

/// The syslog facilities (RFC 5424 section 6.2.1) by their usual names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)] // the names are the RFC's
pub enum Facility {
    Kern,
    User,
    Mail,
    Daemon,
    Auth,
    Syslog,
    Lpr,
    News,
    Uucp,
    Cron,
    /// Security and authorisation messages that only privileged users may read: the default,
    /// what sshd and sudo use for the same kind of event.
    #[default]
    Authpriv,
    Ftp,
    Ntp,
    /// Log audit (13).
    Audit,
    /// Log alert (14).
    Alert,
    Clock,
    Local0,
    Local1,
    Local2,
    Local3,
    Local4,
    Local5,
    Local6,
    Local7,
}

impl Facility {
    /// The facility's number, as PRI = number × 8 + severity.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Where the syslog sink sends, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogTarget {
    /// TLS or a local datagram socket.
    pub transport: SyslogTransport,
    /// The facility of every message.
    pub facility: Facility,
    /// Lines held while the receiver is slow or away.
    pub queue: usize,
}

/// How syslog messages travel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyslogTransport {
    /// TCP with TLS, octet-counted frames (RFC 5425).
    Tls(TlsSyslog),
    /// One datagram per message to a local socket (`/dev/log`).
    Datagram(PathBuf),
}

/// A TLS syslog receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSyslog {
    /// `host:port`, resolved at each connection so a moved receiver is found.
    pub address: String,
    /// The name its certificate must carry (a DNS name or an IP address).
    pub server_name: String,
    /// PEM trust anchors; `None`: the system's roots.
    pub ca: Option<PathBuf>,
    /// PEM certificate chain and key for mutual TLS.
    pub client_auth: Option<ClientAuth>,
}

/// The certificate Pforte presents to the receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAuth {
    /// PEM chain, leaf first.
    pub cert: PathBuf,
    /// PEM key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Where the journald sink sends, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournaldTarget {
    /// journald's native socket.
    pub socket: PathBuf,
    /// Lines held while journald is slow or away.
    pub queue: usize,
}

impl SyslogSection {
    /// The target, with files resolved against `base`; `None` (with every problem in
    /// `report`) when the section cannot be used.
    pub fn validate(&self, base: &Path, report: &mut Report) -> Option<SyslogTarget> {
        let report = &mut Counted::new(report);
        let queue = validate_queue(self.queue.as_ref(), "audit.syslog.queue", report);
        let transport = match (&self.address, &self.socket) {
            (Some(address), None) => self.tls(address, base, report),
            (None, Some(socket)) => {
                self.no_tls_keys(report);
                Some(SyslogTransport::Datagram(base.join(socket.get_ref())))
            }
            (Some(_), Some(socket)) => {
                report.at(
                    socket.span(),
                    "audit.syslog.socket",
                    "give either address (TLS) or socket (local datagram), not both",
                );
                None
            }
            (None, None) => {
                report.unplaced(
                    "audit.syslog",
                    "give address = \"host:port\" (TLS) or socket = \"/dev/log\" (local datagram)",
                );
                None
            }
        };
        let transport = transport?;
        report.clean().then_some(SyslogTarget {
            transport,
            facility: self.facility,
            queue,
        })
    }

    fn tls(
        &self,
        address: &Spanned<String>,
        base: &Path,
        report: &mut Counted<'_>,
    ) -> Option<SyslogTransport> {
        let Some(host) = host_of(address.get_ref()) else {
            report.at(
                address.span(),
                "audit.syslog.address",
                format!(
                    "{:?} is not host:port (e.g. \"siem.example.org:6514\", \"[2001:db8::1]:6514\")",
                    address.get_ref()
                ),
            );
            return None;
        };
        let server_name = match &self.server_name {
            Some(name) => {
                if ServerName::try_from(name.get_ref().as_str()).is_err() {
                    report.at(
                        name.span(),
                        "audit.syslog.server_name",
                        format!(
                            "{:?} is neither a DNS name nor an IP address",
                            name.get_ref()
                        ),
                    );
                }
                name.get_ref().clone()
            }
            None => {
                if ServerName::try_from(host).is_err() {
                    report.at(
                        address.span(),
                        "audit.syslog.address",
                        format!(
                            "{host:?} is neither a DNS name nor an IP address; set server_name"
                        ),
                    );
                }
                host.to_string()
            }
        };
        let file = |entry: &Option<Spanned<PathBuf>>, key: &str, report: &mut Counted<'_>| {
            entry.as_ref().map(|path| {
                let resolved = base.join(path.get_ref());
                report.require_file(&resolved, path.span(), key);
                resolved
            })
        };
        let ca = file(&self.ca, "audit.syslog.ca", report);
        let cert = file(&self.client_cert, "audit.syslog.client_cert", report);
        let key = file(&self.client_key, "audit.syslog.client_key", report);
        let client_auth = match (cert, key) {
            (Some(cert), Some(key)) => Some(ClientAuth { cert, key }),
            (None, None) => None,
            (Some(_), None) => {
                report.unplaced("audit.syslog.client_key", "client_cert needs client_key");
                None
            }
            (None, Some(_)) => {
                report.unplaced("audit.syslog.client_cert", "client_key needs client_cert");
                None
            }
        };
        Some(SyslogTransport::Tls(TlsSyslog {
            address: address.get_ref().clone(),
            server_name,
            ca,
            client_auth,
        }))
    }

    /// With `socket`, the TLS keys have nothing to apply to: said, not ignored.
    fn no_tls_keys(&self, report: &mut Counted<'_>) {
        let keys = [
            (self.ca.as_ref().map(Spanned::span), "ca"),
            (self.server_name.as_ref().map(Spanned::span), "server_name"),
            (self.client_cert.as_ref().map(Spanned::span), "client_cert"),
            (self.client_key.as_ref().map(Spanned::span), "client_key"),
        ];
        for (span, key) in keys {
            if let Some(span) = span {
                report.at(
                    span,
                    format!("audit.syslog.{key}"),
                    "only with address (TLS); a local socket has no TLS",
                );
            }
        }
    }
}

impl JournaldSection {
    /// The target; the socket defaults to journald's own.
    pub fn validate(&self, base: &Path, report: &mut Report) -> Option<JournaldTarget> {
        let report = &mut Counted::new(report);
        let queue = validate_queue(self.queue.as_ref(), "audit.journald.queue", report);
        let socket = self
            .socket
            .as_ref()
            .map_or_else(|| PathBuf::from(JOURNALD_SOCKET), |s| base.join(s));
        report.clean().then_some(JournaldTarget { socket, queue })
    }
}

/// The queue's length, [`DEFAULT_QUEUE`] when not given, between 1 and [`MAX_QUEUE`].
fn validate_queue(queue: Option<&Spanned<i64>>, key: &str, report: &mut Counted<'_>) -> usize {
    let Some(queue) = queue else {
        return DEFAULT_QUEUE;
    };
    match usize::try_from(*queue.get_ref()) {
        Ok(n) if (1..=MAX_QUEUE).contains(&n) => n,
        _ => {
            report.at(
                queue.span(),
                key,
                format!("must be between 1 and {MAX_QUEUE} lines"),
            );
            DEFAULT_QUEUE
        }
    }
}

/// The host part of `host:port` (brackets removed from an IPv6 address), when the port is a
/// number.
fn host_of(address: &str) -> Option<&str> {
    let (host, port) = address.rsplit_once(':')?;
    port.parse::<u16>().ok().filter(|p| *p != 0)?;
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.strip_suffix(']')?,
        None if host.contains(':') => return None,
        None => host,
    };
    (!host.is_empty()).then_some(host)
}

/// A [`Report`] that knows whether this section added a problem to it: a section with one is
/// not used (its target is `None`), though its other keys are still checked.
struct Counted<'r> {
    report: &'r mut Report,
    problems: usize,
}

impl<'r> Counted<'r> {
    fn new(report: &'r mut Report) -> Self {
        Self {
            report,
            problems: 0,
        }
    }

    fn at(
        &mut self,
        span: std::ops::Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.problems += 1;
        self.report.at(span, key, message);
    }

    fn unplaced(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.problems += 1;
        self.report.unplaced(key, message);
    }

    fn require_file(&mut self, path: &Path, span: std::ops::Range<usize>, key: &str) {
        if !require_file(path, span, key, self.report) {
            self.problems += 1;
        }
    }

    fn clean(&self) -> bool {
        self.problems == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct File {
        audit: Audit,
    }

    #[derive(Deserialize)]
    struct Audit {
        syslog: Option<SyslogSection>,
        journald: Option<JournaldSection>,
    }

    type Targets = (Option<SyslogTarget>, Option<JournaldTarget>);

    /// Both sections validated from `text`, in a folder holding `ca.pem`, `c.pem` and `k.pem`,
    /// or the problems placed in the text.
    fn load(text: &str) -> Result<(Targets, PathBuf), String> {
        let dir = tempfile::tempdir().unwrap();
        for name in ["ca.pem", "c.pem", "k.pem"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut report = Report::default();
        let syslog = file
            .audit
            .syslog
            .and_then(|s| s.validate(dir.path(), &mut report));
        let journald = file
            .audit
            .journald
            .and_then(|s| s.validate(dir.path(), &mut report));
        report
            .finish(Path::new("gateway.toml"), text)
            .map(|()| ((syslog, journald), dir.path().to_path_buf()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn tls_target_defaults_its_name_queue_and_facility() {
        let ((syslog, journald), dir) =
            load("[audit.syslog]\naddress = \"siem.example.org:6514\"\nca = \"ca.pem\"\n").unwrap();
        assert_eq!(journald, None);
        assert_eq!(
            syslog.unwrap(),
            SyslogTarget {
                transport: SyslogTransport::Tls(TlsSyslog {
                    address: "siem.example.org:6514".into(),
                    server_name: "siem.example.org".into(),
                    ca: Some(dir.join("ca.pem")),
                    client_auth: None,
                }),
                facility: Facility::Authpriv,
                queue: DEFAULT_QUEUE,
            }
        );
        assert_eq!(Facility::Authpriv.code(), 10);
        assert_eq!(Facility::Local7.code(), 23);
    }

    #[test]
    fn datagram_and_journald_targets() {
        let ((syslog, journald), _) = load(
            "[audit.syslog]\nsocket = \"/dev/log\"\nfacility = \"local3\"\nqueue = 5\n[audit.journald]\n",
        )
        .unwrap();
        let syslog = syslog.unwrap();
        assert_eq!(
            syslog.transport,
            SyslogTransport::Datagram("/dev/log".into())
        );
        assert_eq!((syslog.facility, syslog.queue), (Facility::Local3, 5));
        assert_eq!(
            journald.unwrap(),
            JournaldTarget {
                socket: JOURNALD_SOCKET.into(),
                queue: DEFAULT_QUEUE
            }
        );
        let ((_, journald), dir) =
            load("[audit.journald]\nsocket = \"j.sock\"\nqueue = 7\n").unwrap();
        assert_eq!(
            journald.unwrap(),
            JournaldTarget {
                socket: dir.join("j.sock"),
                queue: 7
            }
        );
    }

    #[test]
    fn mutual_tls_and_ipv6_addresses() {
        let ((syslog, _), dir) = load(
            "[audit.syslog]\naddress = \"[::1]:6514\"\nclient_cert = \"c.pem\"\nclient_key = \"k.pem\"\n",
        )
        .unwrap();
        let SyslogTransport::Tls(tls) = syslog.unwrap().transport else {
            panic!("TLS expected");
        };
        assert_eq!(tls.server_name, "::1");
        assert_eq!(
            tls.client_auth,
            Some(ClientAuth {
                cert: dir.join("c.pem"),
                key: dir.join("k.pem")
            })
        );
    }

    #[test]
    fn every_problem_is_named_with_its_key_and_place() {
        let err = load(
            "[audit.syslog]\naddress = \"siem.example.org\"\nsocket = \"/dev/log\"\nqueue = 0\nca = \"gone.pem\"\n[audit.journald]\nqueue = -1\n",
        )
        .unwrap_err();
        for expected in [
            "gateway.toml:3:10: audit.syslog.socket: give either address",
            "gateway.toml:4:9: audit.syslog.queue: must be between 1 and 1000000",
            "gateway.toml:7:9: audit.journald.queue",
        ] {
            assert!(err.contains(expected), "{expected}\n{err}");
        }
        let err = load("[audit.syslog]\naddress = \"siem.example.org\"\nca = \"gone.pem\"\n")
            .unwrap_err();
        assert!(
            err.contains("audit.syslog.address: \"siem.example.org\" is not host:port"),
            "{err}"
        );
        let err = load(
            "[audit.syslog]\naddress = \"siem:6514\"\nca = \"gone.pem\"\nclient_cert = \"c.pem\"\nserver_name = \"a b\"\n",
        )
        .unwrap_err();
        assert!(
            err.contains("audit.syslog.ca: file") && err.contains("gone.pem"),
            "{err}"
        );
        assert!(
            err.contains("audit.syslog.client_key: client_cert needs client_key"),
            "{err}"
        );
        assert!(
            err.contains("audit.syslog.server_name: \"a b\" is neither"),
            "{err}"
        );
        let err = load("[audit.syslog]\nsocket = \"/dev/log\"\nca = \"ca.pem\"\n").unwrap_err();
        assert!(err.contains("audit.syslog.ca: only with address"), "{err}");
        let err = load("[audit.syslog]\nqueue = 3\n").unwrap_err();
        assert!(err.contains("audit.syslog: give address"), "{err}");
        let err = load("[audit.syslog]\nsocket = \"/dev/log\"\nfacility = \"nope\"\n").unwrap_err();
        assert!(err.contains("unknown variant `nope`"), "{err}");
        let err = load("[audit.journald]\nport = 1\n").unwrap_err();
        assert!(err.contains("unknown field `port`"), "{err}");
    }

    #[test]
    fn host_of_needs_a_port() {
        assert_eq!(host_of("a.org:6514"), Some("a.org"));
        assert_eq!(host_of("[2001:db8::1]:6514"), Some("2001:db8::1"));
        assert_eq!(host_of("2001:db8::1"), None);
        assert_eq!(host_of("a.org"), None);
        assert_eq!(host_of("a.org:0"), None);
        assert_eq!(host_of(":6514"), None);
    }
}

//! `[server]`: the public listeners and which peers are believed about the original client.
//!
//! ```toml
//! [server]
//! listen = ["0.0.0.0:443"]
//! http_redirect = ["0.0.0.0:80"]
//! trusted_proxies = ["10.0.0.0/8"]
//! ```

use std::net::SocketAddr;

use ipnet::IpNet;
use serde::Deserialize;
use toml::Spanned;

use super::error::Report;

/// `[server]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// HTTPS listen addresses.
    pub listen: Spanned<Vec<SocketAddr>>,
    /// Plain-HTTP listen addresses that only redirect to HTTPS.
    #[serde(default)]
    pub http_redirect: Vec<SocketAddr>,
    /// The port clients use for HTTPS (differs from the listen port behind a port mapping).
    pub public_https_port: Option<u16>,
    /// Peers whose `X-Forwarded-*` and `Forwarded` headers are believed.
    #[serde(default)]
    pub trusted_proxies: Vec<IpNet>,
}

/// Listeners and which peers are believed about the original client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// HTTPS listeners.
    pub listen: Vec<SocketAddr>,
    /// Plain-HTTP listeners that redirect to HTTPS.
    pub http_redirect: Vec<SocketAddr>,
    /// The HTTPS port in links and redirects.
    pub public_https_port: u16,
    /// Peers whose forwarding headers are believed.
    pub trusted_proxies: Vec<IpNet>,
}

impl ServerSection {
    /// The listeners: at least one HTTPS address; the public port defaults to the first
    /// listener's, so links work without a port mapping.
    pub fn validate(&self, report: &mut Report) -> Server {
        let listen = self.listen.get_ref().clone();
        if listen.is_empty() {
            report.at(
                self.listen.span(),
                "server.listen",
                "at least one HTTPS address is needed",
            );
        }
        let public_https_port = self
            .public_https_port
            .or_else(|| listen.first().map(SocketAddr::port))
            .unwrap_or(443);
        Server {
            listen,
            http_redirect: self.http_redirect.clone(),
            public_https_port,
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }
}

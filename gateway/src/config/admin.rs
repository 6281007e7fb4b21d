//! `[admin]`: the operator's listener (metrics, health, reload) and the token that guards its
//! state-changing requests.
//!
//! ```toml
//! [admin]
//! listen = "127.0.0.1:9090"
//! token = { file = "/etc/pforte/secrets/admin-token" }
//! ```

use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::error::Report;
use super::secret::{Secret, SecretSource};

/// `[admin]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSection {
    /// The admin listener; keep it on loopback or a private network.
    #[serde(default = "default_admin_listen")]
    pub listen: SocketAddr,
    /// A bearer token for state-changing admin requests.
    pub token: Option<Spanned<SecretSource>>,
}

impl Default for AdminSection {
    fn default() -> Self {
        Self {
            listen: default_admin_listen(),
            token: None,
        }
    }
}

fn default_admin_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9090))
}

/// The admin listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    /// Where it listens.
    pub listen: SocketAddr,
    /// Bearer token for state-changing requests; without one they are taken from loopback only.
    pub token: Option<Secret>,
}

impl AdminSection {
    /// The listener, with its token read from its secret source (relative to `base`).
    pub fn validate(&self, base: &Path, report: &mut Report) -> Admin {
        let token = self
            .token
            .as_ref()
            .and_then(|spanned| match spanned.get_ref().read(base) {
                Ok(secret) => Some(secret),
                Err(e) => {
                    report.at(spanned.span(), "admin.token", e.to_string());
                    None
                }
            });
        Admin {
            listen: self.listen,
            token,
        }
    }
}

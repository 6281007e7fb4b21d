//! `[app.identity_headers]`: the names under which an app receives the person's identity, for
//! apps that expect other names than Pforte's defaults, and the signed assertion if it wants one.

use serde::Deserialize;
use toml::Spanned;

use crate::config::error::ItemReport;

/// The identity header names an app receives (configurable per app in `apps.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityHeaders {
    /// The user name.
    pub user: http::HeaderName,
    /// The mail address.
    pub email: http::HeaderName,
    /// The groups, comma-separated.
    pub groups: http::HeaderName,
    /// The display name (UTF-8).
    pub name: http::HeaderName,
    /// A short-lived signed JWT about the person (ES256 by default, audience the app), for
    /// apps that verify identity cryptographically rather than trust headers; `None`: not sent.
    pub assertion: Option<http::HeaderName>,
}

impl Default for IdentityHeaders {
    fn default() -> Self {
        Self {
            user: http::HeaderName::from_static("x-forwarded-user"),
            email: http::HeaderName::from_static("x-forwarded-email"),
            groups: http::HeaderName::from_static("x-forwarded-groups"),
            name: http::HeaderName::from_static("x-forwarded-name"),
            assertion: None,
        }
    }
}

impl IdentityHeaders {
    /// Every name, for stripping client copies.
    pub fn all(&self) -> impl Iterator<Item = &http::HeaderName> + Clone {
        [&self.user, &self.email, &self.groups, &self.name]
            .into_iter()
            .chain(self.assertion.as_ref())
    }
}

/// `[app.identity_headers]` as written: other names for the identity headers.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityHeadersEntry {
    user: Option<Spanned<String>>,
    email: Option<Spanned<String>>,
    groups: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    assertion: Option<Spanned<String>>,
}

impl IdentityHeadersEntry {
    /// The defaults with the names the entry sets over them; each must be a valid header name
    /// the gateway does not manage itself.
    pub fn validate(&self, report: &mut ItemReport<'_>) -> IdentityHeaders {
        let mut headers = IdentityHeaders::default();
        for (value, slot, field) in [
            (&self.user, &mut headers.user, "identity_headers.user"),
            (&self.email, &mut headers.email, "identity_headers.email"),
            (&self.groups, &mut headers.groups, "identity_headers.groups"),
            (&self.name, &mut headers.name, "identity_headers.name"),
        ] {
            let Some(value) = value else { continue };
            match header_name(value) {
                Ok(name) => *slot = name,
                Err(message) => report.at(value.span(), field, message),
            }
        }
        if let Some(value) = &self.assertion {
            match header_name(value) {
                Ok(name) => headers.assertion = Some(name),
                Err(message) => report.at(value.span(), "identity_headers.assertion", message),
            }
        }
        headers
    }
}

/// A configured header name, checked: valid, and not one the gateway manages itself.
fn header_name(value: &Spanned<String>) -> Result<http::HeaderName, String> {
    match http::HeaderName::from_bytes(value.get_ref().as_bytes()) {
        Ok(name) if !is_reserved_header(&name) => Ok(name),
        Ok(name) => Err(format!(
            "{name} is set by the gateway itself; choose another header name"
        )),
        Err(_) => Err(format!("{:?} is not a header name", value.get_ref())),
    }
}

/// Headers an identity header must not replace: the ones HTTP and the proxy itself manage.
fn is_reserved_header(name: &http::HeaderName) -> bool {
    matches!(
        name.as_str(),
        "host"
            | "cookie"
            | "authorization"
            | "content-length"
            | "transfer-encoding"
            | "connection"
            | "upgrade"
            | "x-forwarded-for"
            | "x-forwarded-proto"
            | "x-forwarded-host"
            | "forwarded"
            | "x-request-id"
    )
}

//! `[app.request_headers]`: what an app accepts of the headers a client sends, and the catalogue
//! of header names that must never reach an app as a client wrote them.
//!
//! ```toml
//! [app.request_headers]
//! underscores = "drop"                      # default; "pass" lets names with `_` through
//! pass = ["X-HTTP-Method-Override"]         # catalogue names this app's clients really send
//! ```
//!
//! An app behind an identity gateway trusts some headers to come from the gateway alone. A client
//! must not be able to add them, in any spelling: CGI, PHP, WSGI and Rack turn `X_Forwarded_User`
//! and `X-Forwarded-User` into the same variable, so an underscore copy can win (Puma's
//! CVE-2024-45614). `docs/security.md` lists where each catalogue name comes from.

use http::HeaderName;
use serde::Deserialize;
use toml::Spanned;

/// Header names that carry who the person is, as common apps and identity proxies trust them.
/// Pforte sets its own identity headers after removing every client copy of these.
pub const IDENTITY: &[&str] = &[
    // Authelia's forward auth answer; many apps' "remote user" setting.
    "remote-user",
    "remote-groups",
    "remote-email",
    "remote-name",
    // Kubernetes' request-header authentication, Apache and OpenShift's oauth-proxy.
    "x-remote-user",
    "x-remote-group",
    "x-remote-groups",
    // oauth2-proxy (set_xauthrequest, pass_user_headers) and Pforte's own defaults.
    "x-auth-request-user",
    "x-auth-request-email",
    "x-auth-request-groups",
    "x-auth-request-preferred-username",
    "x-auth-request-access-token",
    "x-forwarded-user",
    "x-forwarded-email",
    "x-forwarded-groups",
    "x-forwarded-name",
    "x-forwarded-preferred-username",
    "x-forwarded-access-token",
    // Grafana's auth proxy, Gitea and Forgejo's reverse-proxy login.
    "x-webauth-user",
    "x-webauth-email",
    "x-webauth-fullname",
    "x-webauth-name",
    "x-webauth-groups",
    // Cloud front doors that apps integrate with: Google IAP, AWS ALB, Azure App Service.
    "x-goog-authenticated-user-email",
    "x-goog-authenticated-user-id",
    "x-goog-iap-jwt-assertion",
    "x-amzn-oidc-data",
    "x-amzn-oidc-identity",
    "x-amzn-oidc-accesstoken",
    "x-ms-client-principal",
    "x-ms-client-principal-name",
    "x-ms-client-principal-id",
    // mod_auth_openidc's tokens (its claims are matched by prefix below).
    "oidc-access-token",
    "oidc-id-token",
    "oidc-id-token-payload",
];

/// Prefixes of identity header families: Pforte's own (never passable), Pomerium's claims and
/// assertion, authentik, vouch-proxy, mod_auth_openidc's claims, Kubernetes' extra attributes.
pub const IDENTITY_PREFIXES: &[&str] = &[
    OWN_PREFIX,
    "x-pomerium-",
    "x-authentik-",
    "x-vouch-",
    "oidc-claim-",
    "x-remote-extra-",
];

/// The prefix of the headers Pforte itself sets (`X-Pforte-Assertion`, ...): a client copy
/// never reaches an app, whatever the app's settings.
pub const OWN_PREFIX: &str = "x-pforte-";

/// Headers with which frameworks let a request say it is another request than its request
/// line: Symfony, Zend and IIS read the path from `X-Original-URL`/`X-Rewrite-URL`, many
/// frameworks the method from `X-HTTP-Method-Override`. The policy judged the request line, so
/// a client copy would make the app serve what was never decided.
pub const OVERRIDES: &[&str] = &[
    "x-original-url",
    "x-rewrite-url",
    "x-original-uri",
    "x-original-method",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

/// Headers that front proxies set about the client or the outer request (address, port,
/// scheme, prefix). Believed, like `X-Forwarded-For`, only from a trusted proxy; a client's copy
/// from anywhere else is removed.
pub const FROM_PROXIES: &[&str] = &[
    "x-real-ip",
    "x-client-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "fastly-client-ip",
    "x-cluster-client-ip",
    "x-forwarded-port",
    "x-forwarded-server",
    "x-forwarded-prefix",
    "x-forwarded-scheme",
    "x-forwarded-ssl",
    "x-forwarded-uri",
    "front-end-https",
    "x-url-scheme",
];

/// The headers Pforte writes for every proxied request (`set_forwarding`): a client's underscore
/// spelling of one of them is removed too.
pub const FORWARDING: &[&str] = &[
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "forwarded",
    "x-request-id",
];

/// Whether request header names with `_` reach the app.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Underscores {
    /// Removed, as nginx does by default (`underscores_in_headers off`): the safe choice for
    /// apps that read headers through CGI-style variables.
    #[default]
    Drop,
    /// Passed, except spellings of protected names (compared with `_` read as `-`).
    Pass,
}

/// What an app accepts of the client's own request headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHeaders {
    /// Header names with `_`.
    pub underscores: Underscores,
    /// Catalogue names (identity or override headers) this app's clients legitimately send, so
    /// they reach the app as sent.
    pub pass: Vec<HeaderName>,
}

/// `[app.request_headers]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestHeadersEntry {
    #[serde(default)]
    underscores: Underscores,
    #[serde(default)]
    pass: Vec<Spanned<String>>,
}

impl RequestHeadersEntry {
    /// Checks the entry; `own` are the names Pforte sets for this app (its identity headers),
    /// which can never be passed. Each problem is reported through `err` with its span.
    pub fn validate<'a>(
        &self,
        own: impl Iterator<Item = &'a HeaderName> + Clone,
        mut err: impl FnMut(std::ops::Range<usize>, String),
    ) -> RequestHeaders {
        let mut pass = Vec::new();
        for value in &self.pass {
            let Ok(name) = HeaderName::from_bytes(value.get_ref().as_bytes()) else {
                err(
                    value.span(),
                    format!("{:?} is not a header name", value.get_ref()),
                );
                continue;
            };
            if name.as_str().starts_with(OWN_PREFIX) {
                err(
                    value.span(),
                    "X-Pforte-* headers are Pforte's own; a client's copy never passes".into(),
                );
            } else if own.clone().any(|o| *o == name) {
                err(
                    value.span(),
                    format!("{name} is set by Pforte for this app; a client's copy never passes"),
                );
            } else if !is_passable(name.as_str()) {
                err(
                    value.span(),
                    format!(
                        "{name} is not a protected header (see docs/security.md); other headers pass anyway"
                    ),
                );
            } else {
                pass.push(name);
            }
        }
        RequestHeaders {
            underscores: self.underscores,
            pass,
        }
    }
}

/// Whether an app may let clients' copies of `name` through: identity and override names, but
/// never Pforte's own.
fn is_passable(name: &str) -> bool {
    !name.starts_with(OWN_PREFIX)
        && (IDENTITY.contains(&name)
            || OVERRIDES.contains(&name)
            || IDENTITY_PREFIXES.iter().any(|p| name.starts_with(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(toml_text: &str) -> (RequestHeaders, Vec<String>) {
        let entry: RequestHeadersEntry = toml::from_str(toml_text).unwrap();
        let own = [HeaderName::from_static("x-forwarded-user")];
        let mut errors = Vec::new();
        let headers = entry.validate(own.iter(), |_, message| errors.push(message));
        (headers, errors)
    }

    #[test]
    fn passing_is_for_catalogue_names_that_pforte_does_not_set() {
        let (headers, errors) =
            check("underscores = \"pass\"\npass = [\"X-HTTP-Method-Override\", \"Remote-User\"]");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(headers.underscores, Underscores::Pass);
        assert_eq!(headers.pass.len(), 2);
        let (_, errors) =
            check("pass = [\"X-Pforte-Assertion\", \"X-Forwarded-User\", \"Accept\", \"a b\"]");
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[0].contains("Pforte's own"));
        assert!(errors[1].contains("set by Pforte"));
        assert!(errors[2].contains("not a protected header"));
        assert!(errors[3].contains("not a header name"));
        assert_eq!(check("").0, RequestHeaders::default());
    }

    #[test]
    fn catalogue_names_are_lower_case_header_names() {
        for name in IDENTITY
            .iter()
            .chain(IDENTITY_PREFIXES)
            .chain(OVERRIDES)
            .chain(FROM_PROXIES)
            .chain(FORWARDING)
        {
            assert_eq!(name.to_ascii_lowercase(), *name);
            assert!(!name.contains('_'), "{name}");
            assert!(HeaderName::from_bytes(name.as_bytes()).is_ok(), "{name}");
        }
    }
}

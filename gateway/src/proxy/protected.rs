//! The client's copies of headers an app trusts to come from the gateway are removed before a
//! request leaves: the app's own identity header names, the catalogue of identity and override
//! headers other apps and proxies trust (`config::request_headers`), every `X-Pforte-*` header,
//! front-proxy headers from peers that are not trusted proxies, and header names with `_` (or,
//! where an app lets those through, every `_` spelling of a protected name).
//!
//! Runs for every proxied request, so the guard is built once per app and a request whose
//! headers start with none of the protected first letters costs one table look per header.

use http::HeaderMap;
use http::header::HeaderName;

use crate::config::apps::IdentityHeaders;
use crate::config::request_headers::{
    FORWARDING, FROM_PROXIES, IDENTITY, IDENTITY_PREFIXES, OVERRIDES, OWN_PREFIX, RequestHeaders,
    Underscores,
};

/// One app's protected names, ready to check a request's headers.
#[derive(Debug, Clone)]
pub struct HeaderGuard {
    /// Removed from every client: identity and override names not passed by the app.
    always: Vec<Box<str>>,
    /// The app's passed names, exempt from the identity prefixes.
    passed: Vec<HeaderName>,
    /// Names with `_` are dropped.
    drop_underscores: bool,
    /// First bytes of every protected name: a header starting otherwise needs no closer look.
    first_bytes: [bool; 256],
}

impl HeaderGuard {
    /// The guard for an app that receives `identity` and accepts `request` of its clients.
    pub fn new(identity: &IdentityHeaders, request: &RequestHeaders) -> Self {
        let passed = |name: &str| request.pass.iter().any(|p| p.as_str() == name);
        let always: Vec<Box<str>> = identity
            .all()
            .map(HeaderName::as_str)
            .chain(IDENTITY.iter().copied().filter(|n| !passed(n)))
            .chain(OVERRIDES.iter().copied().filter(|n| !passed(n)))
            .map(Box::from)
            .collect();
        let mut first_bytes = [false; 256];
        let firsts = always
            .iter()
            .map(AsRef::as_ref)
            .chain(IDENTITY_PREFIXES.iter().copied())
            .chain(FROM_PROXIES.iter().copied())
            .chain(FORWARDING.iter().copied());
        for name in firsts {
            if let Some(&b) = name.as_bytes().first() {
                first_bytes[usize::from(b)] = true;
            }
        }
        Self {
            always,
            passed: request.pass.clone(),
            drop_underscores: request.underscores == Underscores::Drop,
            first_bytes,
        }
    }

    /// Removes every protected header a client sent; `trusted_peer` says whether the peer is a
    /// trusted proxy whose front-proxy headers are believed.
    pub fn strip(&self, headers: &mut HeaderMap, trusted_peer: bool) {
        if !headers
            .keys()
            .any(|name| self.is_protected(name, trusted_peer))
        {
            return;
        }
        let doomed: Vec<HeaderName> = headers
            .keys()
            .filter(|name| self.is_protected(name, trusted_peer))
            .cloned()
            .collect();
        for name in doomed {
            headers.remove(name);
        }
    }

    /// Whether a client's header `name` (lower case, as parsed) must not reach the app.
    fn is_protected(&self, name: &HeaderName, trusted_peer: bool) -> bool {
        let raw = name.as_str();
        let underscored = raw.contains('_');
        if underscored && self.drop_underscores {
            return true;
        }
        let Some(&first) = raw.as_bytes().first() else {
            return false;
        };
        if !self.first_bytes[usize::from(first)] {
            return false;
        }
        let is = |protected: &str| {
            if underscored {
                same_folded(raw, protected)
            } else {
                raw == protected
            }
        };
        let has_prefix =
            |prefix: &str| raw.len() >= prefix.len() && same_folded(&raw[..prefix.len()], prefix);
        if has_prefix(OWN_PREFIX) || self.always.iter().any(|n| is(n)) {
            return true;
        }
        if IDENTITY_PREFIXES.iter().any(|p| has_prefix(p))
            && !self.passed.iter().any(|p| is(p.as_str()))
        {
            return true;
        }
        if !trusted_peer && FROM_PROXIES.iter().any(|n| is(n)) {
            return true;
        }
        // An underscore spelling of a header Pforte writes itself: the real one is set anew.
        underscored && FORWARDING.iter().any(|n| is(n))
    }
}

/// Whether `raw` equals `protected` when `_` is read as `-` (both lower case).
fn same_folded(raw: &str, protected: &str) -> bool {
    raw.len() == protected.len()
        && raw
            .bytes()
            .zip(protected.bytes())
            .all(|(a, b)| a == b || (a == b'_' && b == b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn request(names: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for name in names {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_static("mallory"),
            );
        }
        headers
    }

    fn kept(guard: &HeaderGuard, names: &[&str], trusted: bool) -> Vec<String> {
        let mut headers = request(names);
        guard.strip(&mut headers, trusted);
        headers.keys().map(ToString::to_string).collect()
    }

    fn guard(request: RequestHeaders) -> HeaderGuard {
        let identity = IdentityHeaders {
            user: HeaderName::from_static("auth-user"),
            ..IdentityHeaders::default()
        };
        HeaderGuard::new(&identity, &request)
    }

    #[test]
    fn every_spelling_of_a_protected_name_goes() {
        let g = guard(RequestHeaders::default());
        let hostile = [
            "X_Forwarded_User",
            "X-Forwarded_User",
            "X_FORWARDED_GROUPS",
            "X_Pforte_Assertion",
            "x-pforte-user",
            "X-Pforte-Anything",
            "Remote-User",
            "X-Remote-User",
            "X-Auth-Request-Email",
            "X-WEBAUTH-USER",
            "X-Forwarded-Preferred-Username",
            "Remote-Groups",
            "auth-user",
            "X-Pomerium-Claim-Email",
            "X-Original-URL",
            "X-HTTP-Method-Override",
            "x_request_id",
        ];
        assert_eq!(kept(&g, &hostile, false), Vec::<String>::new());
        assert_eq!(
            kept(&g, &["accept", "user-agent", "x-custom", "cookie"], false),
            ["accept", "user-agent", "x-custom", "cookie"]
        );
    }

    #[test]
    fn underscores_pass_only_when_asked_and_never_as_a_protected_name() {
        let g = guard(RequestHeaders {
            underscores: Underscores::Pass,
            pass: Vec::new(),
        });
        assert_eq!(
            kept(
                &g,
                &[
                    "x_custom_thing",
                    "x_forwarded_user",
                    "X_Forwarded_For",
                    "x_pforte_x"
                ],
                false
            ),
            ["x_custom_thing"]
        );
        let dropping = guard(RequestHeaders::default());
        assert!(kept(&dropping, &["x_custom_thing"], false).is_empty());
    }

    #[test]
    fn front_proxy_headers_are_believed_from_trusted_proxies_only() {
        let g = guard(RequestHeaders::default());
        let names = ["x-real-ip", "true-client-ip", "x-forwarded-prefix"];
        assert!(kept(&g, &names, false).is_empty());
        assert_eq!(kept(&g, &names, true), names);
    }

    #[test]
    fn an_app_may_pass_catalogue_names_but_never_its_own_or_pforte_s() {
        let g = guard(RequestHeaders {
            underscores: Underscores::Drop,
            pass: vec![
                HeaderName::from_static("x-http-method-override"),
                HeaderName::from_static("x-authentik-username"),
            ],
        });
        assert_eq!(
            kept(
                &g,
                &[
                    "x-http-method-override",
                    "x-authentik-username",
                    "x-authentik-groups",
                    "auth-user",
                    "x-pforte-assertion"
                ],
                false
            ),
            ["x-http-method-override", "x-authentik-username"]
        );
    }
}

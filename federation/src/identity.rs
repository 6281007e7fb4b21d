//! The local names of people who come through a provider, all derived from the provider's
//! (issuer, `sub`) pair: the only pair OpenID Connect promises is stable and unique (Core
//! §5.7). An e-mail address can change hands; a `sub` at one issuer cannot.

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// The prefix of every guest's subject, so a guest never shares one with a directory person
/// (directory subjects are entryUUIDs or objectGUIDs).
pub const GUEST_PREFIX: &str = "guest-";

/// A stable, opaque digest of (issuer, `sub`): the two joined by a newline, which neither may
/// contain unnoticed, hashed with SHA-256, base64url without padding (43 characters).
pub fn digest_of(issuer: &str, sub: &str) -> String {
    let mut joined = Vec::with_capacity(issuer.len() + sub.len() + 1);
    joined.extend_from_slice(issuer.as_bytes());
    joined.push(b'\n');
    joined.extend_from_slice(sub.as_bytes());
    URL_SAFE_NO_PAD.encode(digest(&SHA256, &joined))
}

/// The store key of a secret value (a `state`, a binding cookie): its SHA-256, base64url, so
/// the value itself is never stored and keys compare without timing leaks on the value.
pub fn hashed(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, value.as_bytes()))
}

/// A guest's subject (sessions, `revoke_user`, the `sub` Pforte issues): `guest-` and the
/// digest of (issuer, `sub`).
pub fn guest_subject(issuer: &str, sub: &str) -> String {
    format!("{GUEST_PREFIX}{}", digest_of(issuer, sub))
}

/// A guest's shown login name: the first of `username_claim`, `email` and `sub` that is a
/// non-empty string, with `@{provider}` appended, so a guest never looks like a directory
/// name. Control characters are dropped and the name is cut to 200 characters.
pub fn guest_username(
    claims: &Map<String, Value>,
    sub: &str,
    username_claim: &str,
    provider: &str,
) -> String {
    let base = [username_claim, "email"]
        .iter()
        .find_map(|claim| claims.get(*claim).and_then(Value::as_str))
        .filter(|v| !v.trim().is_empty())
        .unwrap_or(sub);
    let clean: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    format!("{clean}@{provider}")
}

/// A guest's display name: the `name` claim, else the login name's first part.
pub fn guest_display_name(claims: &Map<String, Value>, username: &str) -> String {
    claims
        .get("name")
        .and_then(Value::as_str)
        .map(|n| {
            n.chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect::<String>()
        })
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| username.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn subjects_are_stable_distinct_and_opaque() {
        let a = guest_subject("https://a.example", "1");
        assert_eq!(a, guest_subject("https://a.example", "1"));
        assert_ne!(a, guest_subject("https://b.example", "1"));
        assert_ne!(a, guest_subject("https://a.example", "2"));
        // The separator keeps "issuer + sub" from sliding: (x, yz) is not (xy, z).
        assert_ne!(digest_of("x", "yz"), digest_of("xy", "z"));
        assert!(a.starts_with(GUEST_PREFIX));
        assert_eq!(a.len(), GUEST_PREFIX.len() + 43);
        assert!(!a.contains("a.example"));
    }

    #[test]
    fn usernames_fall_back_and_carry_the_provider() {
        let Value::Object(claims) = json!({"preferred_username": "paula", "email": "p@x.example"})
        else {
            unreachable!()
        };
        assert_eq!(
            guest_username(&claims, "s1", "preferred_username", "partner"),
            "paula@partner"
        );
        assert_eq!(
            guest_username(&claims, "s1", "upn", "partner"),
            "p@x.example@partner"
        );
        assert_eq!(
            guest_username(&Map::new(), "s1", "preferred_username", "partner"),
            "s1@partner"
        );
        let Value::Object(hostile) = json!({"preferred_username": "a\nb\u{0}c"}) else {
            unreachable!()
        };
        assert_eq!(
            guest_username(&hostile, "s", "preferred_username", "p"),
            "abc@p"
        );
    }
}

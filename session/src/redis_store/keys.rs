//! The names of everything the store keeps in Redis, all under one prefix.
//!
//! | key | type | holds | expires |
//! |---|---|---|---|
//! | `{p}s:{sid}` | hash | one session (see `record`) | with the session |
//! | `{p}t:{hash}` | string | one SSO ticket, sealed (see `crate::ticket`) | after 60 s |
//! | `{p}u:{subject}` | set | the sids of one person's sessions | with their last absolute expiry |
//! | `{p}f:{kind}:{name}` | hash | a failure counter: `n` count, `t` last failure | when forgotten |
//! | `{p}locked:{kind}` | sorted set | locked names, scored by lock end | with the last lock |
//! | `{p}revoked` | channel | sids to drop from every replica's cache | - |
//! | `{p}o:{kind}:{key}` | string | one short-lived record (see `crate::records`); `{kind}` is `code`, `redeemed`, `family`, `revoked` or `pending` (OIDC), `totp-step` (last accepted TOTP step, key = subject), `ceremony` (WebAuthn ceremony state, key = random id), `enrolment` (TOTP secret awaiting its code, key = sid), `identity-refresh` (a replica's claim to re-read a session's identity, key = sid), `pushed` (a pushed authorization request, key = digest of its handle), `device` (a device authorization, RFC 8628, key = digest of its device code), `user-code` (the device authorization a user code names, key = the normalised user code) `assertion-jti` (a client assertion's single use, key = digest of client and jti), `federated-login` (a login sent to an upstream provider, key = digest of its state), `federation-link` and `federation-linked` (a directory person's link to a provider account, key = digest of issuer and sub, and of issuer and local subject) or `upstream-session` (the local session an upstream session opened, key = digest of issuer and sid); `{key}` the caller's (at most 256 bytes) | with the TTL the caller gave |
//! | `{p}o:families:{sid}` | set | the refresh-family ids started from one session, for logout | with its longest-lived family |
//! | `{p}count` | string | the number of live sessions, as the last replica to count them found (see `watch`) | after the freshness its counter gave |
//! | `{p}counting` | string | a replica's claim to count the sessions now | as `{p}count` |
//! | `{p}logout` | list | logout notices (JSON `{"s":sid,"u":subject,"c":[clients]}`), oldest first | never: trimmed to the newest 10 000 |
//!
//! The logout list has no TTL because a notice must wait for a gateway, however long; it is
//! trimmed on every push instead, so a Redis that no gateway drains (only the admin CLI
//! revoking) holds at most 10 000 notices, a few megabytes.

use crate::id::Sid;
use crate::records::RecordKind;
use crate::throttle::ThrottleKind;
use crate::ticket::TicketKey;

/// Key names under one prefix.
#[derive(Debug, Clone)]
pub(super) struct Keys {
    prefix: String,
}

impl Keys {
    pub(super) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    pub(super) fn session_prefix(&self) -> String {
        format!("{}s:", self.prefix)
    }

    /// The shared session count, and the claim to make it.
    pub(super) fn count(&self) -> (String, String) {
        (
            format!("{}count", self.prefix),
            format!("{}counting", self.prefix),
        )
    }

    pub(super) fn session(&self, sid: &Sid) -> String {
        format!("{}s:{sid}", self.prefix)
    }

    pub(super) fn ticket(&self, key: &TicketKey) -> String {
        format!("{}t:{key}", self.prefix)
    }

    pub(super) fn user_prefix(&self) -> String {
        format!("{}u:", self.prefix)
    }

    pub(super) fn user(&self, subject: &str) -> String {
        format!("{}u:{subject}", self.prefix)
    }

    pub(super) fn counter(&self, kind: ThrottleKind, name: &str) -> String {
        format!("{}f:{}:{name}", self.prefix, kind.as_str())
    }

    pub(super) fn locked(&self, kind: ThrottleKind) -> String {
        format!("{}locked:{}", self.prefix, kind.as_str())
    }

    pub(super) fn channel(&self) -> String {
        format!("{}revoked", self.prefix)
    }

    /// An OIDC record; the caller has checked the key's length.
    pub(super) fn record(&self, kind: RecordKind, key: &str) -> String {
        format!("{}o:{}:{key}", self.prefix, kind.as_str())
    }

    pub(super) fn families(&self, sid: &Sid) -> String {
        format!("{}o:families:{sid}", self.prefix)
    }

    pub(super) fn logout(&self) -> String {
        format!("{}logout", self.prefix)
    }

    /// A SCAN pattern matching every session key, with the prefix's glob characters escaped.
    pub(super) fn session_pattern(&self) -> String {
        let mut pattern = String::with_capacity(self.prefix.len() + 4);
        for c in self.prefix.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push_str("s:*");
        pattern
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_under_the_prefix() {
        let keys = Keys::new("t1:");
        let sid = Sid::parse("0123456789abcdef").unwrap();
        assert_eq!(keys.session(&sid), "t1:s:0123456789abcdef");
        assert_eq!(keys.user("uuid-1"), "t1:u:uuid-1");
        assert_eq!(
            keys.counter(ThrottleKind::Account, "alice"),
            "t1:f:account:alice"
        );
        assert_eq!(keys.locked(ThrottleKind::Source), "t1:locked:source");
        assert_eq!(keys.channel(), "t1:revoked");
        assert_eq!(
            keys.record(RecordKind::AuthorizationCode, "d1g"),
            "t1:o:code:d1g"
        );
        assert_eq!(
            keys.record(RecordKind::TotpStep, "uuid-1"),
            "t1:o:totp-step:uuid-1"
        );
        assert_eq!(keys.families(&sid), "t1:o:families:0123456789abcdef");
        assert_eq!(keys.logout(), "t1:logout");
        let ticket = crate::ticket::Ticket::parse(&"A".repeat(43)).unwrap();
        let name = keys.ticket(&ticket.lookup());
        let hash = name.strip_prefix("t1:t:").unwrap();
        assert!(hash.len() == 64 && hash.bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn the_scan_pattern_escapes_glob_characters_of_the_prefix() {
        assert_eq!(Keys::new("a*b[1]:").session_pattern(), r"a\*b\[1\]:s:*");
    }
}

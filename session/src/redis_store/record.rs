//! A session's form in Redis: one small hash, read whole with one HGETALL.
//!
//! Fields: `k` the 32-byte [`SessionKey`] (checked in constant time on every read), `u` the
//! subject (so revocation finds the per-user set without decoding), `l` last seen (Unix
//! seconds, the only field a touch rewrites), `d` the rest as JSON with one- or two-letter
//! names, and one `c:{client}` field per OIDC client (added without rewriting `d`). A step-up
//! or an identity refresh rewrites `d` whole, by compare-and-set against the `d` it read (see
//! `scripts::REWRITE`).
//! Sessions written before second factors existed have no `m` (methods) and no `dv` (device)
//! in `d`: they read as a password login on an unknown device. The idle
//! expiry is not stored: every replica derives it from `l` and its idle timeout. A typical
//! session takes a few hundred bytes of Redis memory; the integration tests hold it under 1 KB.

use std::collections::HashMap;
use std::net::IpAddr;

use pforte_policy::LoginStrength;
use serde::{Deserialize, Serialize};

use crate::id::{SessionKey, Sid};
use crate::session::{Federated, Session};
use crate::settings::SessionSettings;
use crate::time::Timestamp;
use pforte_policy::AuthMethod;

pub(super) const KEY: &str = "k";
pub(super) const SUBJECT: &str = "u";
pub(super) const DATA: &str = "d";
pub(super) const LAST_SEEN: &str = "l";
pub(super) const CLIENT_PREFIX: &str = "c:";

/// The fields a touch never changes (a step-up rewrites them whole).
#[derive(Serialize, Deserialize)]
struct Data {
    #[serde(rename = "n")]
    username: String,
    #[serde(rename = "dn")]
    display_name: String,
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(rename = "g")]
    groups: Vec<String>,
    #[serde(rename = "lg")]
    login: LoginStrength,
    /// Missing in sessions written before second factors: those were password logins.
    #[serde(rename = "m", default = "password_only")]
    methods: Vec<AuthMethod>,
    #[serde(rename = "at")]
    auth_time: Timestamp,
    #[serde(rename = "cr")]
    created: Timestamp,
    #[serde(rename = "ax")]
    absolute_expires: Timestamp,
    #[serde(rename = "ip")]
    source: IpAddr,
    #[serde(rename = "dv", default, skip_serializing_if = "Option::is_none")]
    device: Option<String>,
    /// Missing in sessions written before identity refreshes: read as the creation time, so
    /// they are due for one at once.
    #[serde(rename = "ir", default, skip_serializing_if = "Option::is_none")]
    identity_refreshed: Option<Timestamp>,
    /// Missing in sessions of directory logins (and in all written before federation).
    #[serde(rename = "fd", default, skip_serializing_if = "Option::is_none")]
    federated: Option<Federated>,
}

/// What a session without stored methods did: it was written when a password was the only way
/// in.
fn password_only() -> Vec<AuthMethod> {
    vec![AuthMethod::Password]
}

/// The `d` field of a session: written at creation, rewritten whole by a step-up or an
/// identity refresh.
pub(super) fn data_field(session: &Session) -> Result<String, serde_json::Error> {
    serde_json::to_string(&Data {
        username: session.username.clone(),
        display_name: session.display_name.clone(),
        email: session.email.clone(),
        groups: session.groups.clone(),
        login: session.login,
        methods: session.methods.clone(),
        auth_time: session.auth_time,
        created: session.created,
        absolute_expires: session.absolute_expires,
        source: session.source,
        device: session.device.clone(),
        identity_refreshed: Some(session.identity_refreshed),
        federated: session.federated.clone(),
    })
}

/// Why a stored hash could not be read back.
#[derive(Debug, thiserror::Error)]
pub(super) enum Corrupt {
    #[error("field {0} is missing or malformed")]
    Field(&'static str),
    #[error("field d: {0}")]
    Data(#[from] serde_json::Error),
}

/// Reads the fields of HGETALL back into the key and the session.
pub(super) fn decode(
    sid: Sid,
    mut fields: HashMap<String, Vec<u8>>,
    timeouts: &SessionSettings,
) -> Result<(SessionKey, Session), Corrupt> {
    let key = fields
        .get(KEY)
        .and_then(|k| SessionKey::from_bytes(k))
        .ok_or(Corrupt::Field(KEY))?;
    let subject = fields
        .remove(SUBJECT)
        .and_then(|s| String::from_utf8(s).ok())
        .ok_or(Corrupt::Field(SUBJECT))?;
    let last_seen = fields
        .get(LAST_SEEN)
        .and_then(|l| std::str::from_utf8(l).ok()?.parse().ok())
        .map(Timestamp::from_unix_secs)
        .ok_or(Corrupt::Field(LAST_SEEN))?;
    let data: Data = serde_json::from_slice(fields.get(DATA).ok_or(Corrupt::Field(DATA))?)?;
    let mut clients: Vec<String> = fields
        .into_keys()
        .filter_map(|name| name.strip_prefix(CLIENT_PREFIX).map(str::to_owned))
        .collect();
    clients.sort();
    let mut session = Session {
        sid,
        subject,
        username: data.username,
        display_name: data.display_name,
        email: data.email,
        groups: data.groups,
        login: data.login,
        methods: data.methods,
        auth_time: data.auth_time,
        source: data.source,
        device: data.device,
        federated: data.federated,
        created: data.created,
        last_seen,
        idle_expires: last_seen,
        absolute_expires: data.absolute_expires,
        clients,
        identity_refreshed: data.identity_refreshed.unwrap_or(data.created),
    };
    session.seen_at(last_seen, timeouts);
    Ok((key, session))
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;
    use crate::id::SessionId;
    use crate::session::NewSession;

    #[test]
    fn a_session_roundtrips_through_its_fields() {
        let timeouts = SessionSettings::default();
        let key = SessionId::generate().unwrap().key();
        let now = Timestamp::from_unix_secs(1_700_000_000);
        let new = NewSession {
            subject: "6f1c-uuid".into(),
            username: "carol".into(),
            display_name: "Carol Ängström".into(),
            email: Some("carol@example.org".into()),
            groups: vec!["staff".into(), "admins".into()],
            login: LoginStrength::Mfa,
            methods: vec![AuthMethod::Password, AuthMethod::SecurityKey],
            auth_time: now,
            source: IpAddr::V6(Ipv6Addr::LOCALHOST),
            device: Some("Chrome on Windows".into()),
            federated: Some(Federated {
                provider: "partner".into(),
                issuer: "https://idp.partner.example".into(),
                subject: "u-1".into(),
                session: Some("upstream-sid".into()),
                guest: true,
                id_token: "h.p.s".into(),
            }),
        };
        let mut session = Session::open(new, key.sid(), now, &timeouts);
        let later = now.plus(std::time::Duration::from_secs(90));
        let fields = HashMap::from([
            (KEY.to_owned(), key.as_bytes().to_vec()),
            (SUBJECT.to_owned(), session.subject.clone().into_bytes()),
            (DATA.to_owned(), data_field(&session).unwrap().into_bytes()),
            (
                LAST_SEEN.to_owned(),
                later.unix_secs().to_string().into_bytes(),
            ),
            (format!("{CLIENT_PREFIX}wiki"), b"1".to_vec()),
        ]);
        let (back_key, back) = decode(key.sid(), fields, &timeouts).unwrap();
        session.seen_at(later, &timeouts);
        session.clients = vec!["wiki".into()];
        assert_eq!(back_key, key);
        assert_eq!(back, session);
    }

    #[test]
    fn a_session_written_before_second_factors_reads_as_a_password_login() {
        let timeouts = SessionSettings::default();
        let key = SessionId::generate().unwrap().key();
        // The `d` field exactly as the previous version wrote it.
        let old = br#"{"n":"carol","dn":"Carol","g":["staff"],"lg":"password","at":1700000000,"cr":1700000000,"ax":1700043200,"ip":"192.0.2.7"}"#;
        let fields = HashMap::from([
            (KEY.to_owned(), key.as_bytes().to_vec()),
            (SUBJECT.to_owned(), b"6f1c-uuid".to_vec()),
            (DATA.to_owned(), old.to_vec()),
            (LAST_SEEN.to_owned(), b"1700000000".to_vec()),
        ]);
        let (_, session) = decode(key.sid(), fields, &timeouts).unwrap();
        assert_eq!(session.methods, [AuthMethod::Password]);
        assert_eq!(session.device, None);
        assert_eq!(session.login, LoginStrength::Password);
        assert_eq!(session.username, "carol");
    }

    #[test]
    fn a_damaged_hash_is_an_error_not_a_panic() {
        let sid = SessionId::generate().unwrap().key().sid();
        let timeouts = SessionSettings::default();
        let empty = HashMap::new();
        assert!(decode(sid, empty, &timeouts).is_err());
        let bad = HashMap::from([
            (KEY.to_owned(), vec![0u8; 31]),
            (SUBJECT.to_owned(), b"x".to_vec()),
            (DATA.to_owned(), b"{}".to_vec()),
            (LAST_SEEN.to_owned(), b"12".to_vec()),
        ]);
        assert!(matches!(
            decode(sid, bad, &timeouts),
            Err(Corrupt::Field(KEY))
        ));
    }
}

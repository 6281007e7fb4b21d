//! Refresh tokens in families, rotated on every use (RFC 9700 §4.14.2).
//!
//! A family starts at a code exchange. Each use of its current token yields the next one
//! and retires the old; presenting a retired token means two parties hold the family (one
//! of them a thief), so the whole family is revoked. The state is a plain value: the gateway
//! stores it (e.g. in Redis) and writes it back only if `generation` is unchanged, so two
//! concurrent uses of one token cannot both win.
//!
//! ```text
//!  start ─▶ Active(gen 0, current = digest(t0)) ─rotate(t0)─▶ Active(gen 1, current = digest(t1))
//!                                                 rotate(t0) ─▶ Revoked (reuse detected)
//! ```

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::clients::Client;
use crate::code::Authentication;
use crate::error::{ErrorCode, ProtocolError};
use crate::scope::Scopes;
use crate::token_value::{OpaqueToken, TOKEN_BYTES};

/// Bytes of randomness in a family id.
pub const FAMILY_ID_BYTES: usize = 16;

/// A refresh token as the client holds it: `<family id>.<secret>`, so the store finds the
/// family with one lookup.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    family_id: String,
    secret: OpaqueToken,
}

impl RefreshToken {
    /// Splits a presented token; `None` if it is not shaped like one of ours.
    pub fn parse(text: &str) -> Option<Self> {
        let (family_id, secret) = text.split_once('.')?;
        if family_id.is_empty() || secret.is_empty() || secret.contains('.') {
            return None;
        }
        Some(Self {
            family_id: family_id.to_owned(),
            secret: OpaqueToken::presented(secret),
        })
    }

    /// The family this token belongs to: the key to load its state by.
    pub fn family_id(&self) -> &str {
        &self.family_id
    }

    /// The text to send to the client.
    pub fn expose(&self) -> String {
        format!("{}.{}", self.family_id, self.secret.expose())
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshToken")
            .field("family_id", &self.family_id)
            .finish_non_exhaustive()
    }
}

/// The stored state of one family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshFamily {
    /// The family id (also the first part of each of its tokens).
    pub id: String,
    /// The client the family was issued to.
    pub client_id: String,
    /// The person and their login, for the ID tokens issued on refresh.
    pub authentication: Authentication,
    /// The scopes granted at the code exchange; a refresh may narrow but never widen them.
    pub scopes: Scopes,
    /// When the family ends, whatever happens (Unix seconds).
    pub expires_at: u64,
    /// How many times the family was rotated; the store's compare-and-set guard.
    pub generation: u32,
    /// Digest of the one token that may be used next.
    current: String,
    /// Whether reuse or a logout ended the family.
    pub revoked: bool,
}

/// The outcome of presenting a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was current: store `family` (if `generation` is still the loaded one)
    /// and send `token` with tokens for `scopes`.
    Rotated {
        /// The new state.
        family: RefreshFamily,
        /// The next token, for the client.
        token: RefreshToken,
        /// The scopes of the tokens to issue now.
        scopes: Scopes,
    },
    /// A retired token was presented: store the revoked `family`, revoke what it issued,
    /// and answer `invalid_grant`.
    Reused {
        /// The revoked state.
        family: RefreshFamily,
    },
    /// Refused without changing the family (`invalid_grant` or `invalid_scope`).
    Refused(ProtocolError),
}

impl RefreshFamily {
    /// Starts a family for `client` at a code exchange; the random bytes are the family id
    /// and the first token's secret.
    pub fn start(
        client: &Client,
        authentication: Authentication,
        scopes: Scopes,
        id_bytes: [u8; FAMILY_ID_BYTES],
        secret_bytes: [u8; TOKEN_BYTES],
        now: u64,
    ) -> (Self, RefreshToken) {
        let token = RefreshToken {
            family_id: URL_SAFE_NO_PAD.encode(id_bytes),
            secret: OpaqueToken::from_random(secret_bytes),
        };
        let family = Self {
            id: token.family_id.clone(),
            client_id: client.id.clone(),
            authentication,
            scopes,
            expires_at: now.saturating_add(client.lifetimes.refresh_token),
            generation: 0,
            current: token.secret.digest(),
            revoked: false,
        };
        (family, token)
    }

    /// Applies a presented token to the family. `requested` is the token request's
    /// `scope`, if any; `secret_bytes` make the next token.
    pub fn rotate(
        &self,
        presented: &RefreshToken,
        client: &Client,
        requested: Option<Scopes>,
        secret_bytes: [u8; TOKEN_BYTES],
        now: u64,
    ) -> Rotation {
        let refuse = |d: &str| Rotation::Refused(ProtocolError::new(ErrorCode::InvalidGrant, d));
        if presented.family_id != self.id || self.client_id != client.id {
            return refuse("the refresh token was not issued to this client");
        }
        if self.revoked || now >= self.expires_at {
            return refuse("the refresh token is expired or revoked");
        }
        let digest = presented.secret.digest();
        if !bool::from(digest.as_bytes().ct_eq(self.current.as_bytes())) {
            let mut family = self.clone();
            family.revoked = true;
            family.generation = family.generation.saturating_add(1);
            return Rotation::Reused { family };
        }
        let scopes = requested.unwrap_or(self.scopes);
        if !scopes.is_subset_of(self.scopes) {
            return Rotation::Refused(ProtocolError::new(
                ErrorCode::InvalidScope,
                "a refresh may not widen the granted scopes",
            ));
        }
        let token = RefreshToken {
            family_id: self.id.clone(),
            secret: OpaqueToken::from_random(secret_bytes),
        };
        let mut family = self.clone();
        family.current = token.secret.digest();
        family.generation = family.generation.saturating_add(1);
        Rotation::Rotated {
            family,
            token,
            scopes,
        }
    }

    /// Whether `presented` is the family's one usable token (for introspection, which must
    /// not call a retired token active).
    pub fn is_current(&self, presented: &RefreshToken) -> bool {
        presented.family_id == self.id
            && bool::from(
                presented
                    .secret
                    .digest()
                    .as_bytes()
                    .ct_eq(self.current.as_bytes()),
            )
    }

    /// The family, revoked (logout of its session, or an admin's revocation).
    #[must_use]
    pub fn revoke(&self) -> Self {
        let mut family = self.clone();
        family.revoked = true;
        family.generation = family.generation.saturating_add(1);
        family
    }
}

#[cfg(test)]
mod tests {
    use pforte_policy::LoginStrength;

    use super::*;
    use crate::testing::clients;

    const T: u64 = 1_800_000_000;

    fn start() -> (RefreshFamily, RefreshToken) {
        let clients = clients();
        let auth = Authentication {
            sid: "sid-1".into(),
            subject: "uuid-alice".into(),
            auth_time: T,
            login: LoginStrength::Mfa,
            methods: vec![
                pforte_policy::AuthMethod::Password,
                pforte_policy::AuthMethod::Totp,
            ],
        };
        let scopes = Scopes::parse("openid email offline_access").unwrap();
        RefreshFamily::start(
            clients.get("nextcloud").unwrap(),
            auth,
            scopes,
            [1; 16],
            [2; 32],
            T,
        )
    }

    fn rotate(
        family: &RefreshFamily,
        token: &RefreshToken,
        client: &str,
        scope: Option<&str>,
        bytes: u8,
        now: u64,
    ) -> Rotation {
        let clients = clients();
        let scope = scope.map(|s| Scopes::parse(s).unwrap());
        family.rotate(token, clients.get(client).unwrap(), scope, [bytes; 32], now)
    }

    fn rotated(r: Rotation) -> (RefreshFamily, RefreshToken, Scopes) {
        match r {
            Rotation::Rotated {
                family,
                token,
                scopes,
            } => (family, token, scopes),
            other => panic!("expected a rotation, got {other:?}"),
        }
    }

    fn refused(r: Rotation) -> ErrorCode {
        match r {
            Rotation::Refused(e) => e.code,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn each_use_yields_a_new_token_and_a_new_generation() {
        let (f0, t0) = start();
        let wire = t0.expose();
        assert_eq!(RefreshToken::parse(&wire).unwrap(), t0);
        assert!(!format!("{t0:?}").contains(wire.split('.').nth(1).unwrap()));
        let (f1, t1, scopes) = rotated(rotate(&f0, &t0, "nextcloud", None, 3, T + 10));
        assert_ne!(t1, t0);
        assert_eq!(t1.family_id(), t0.family_id());
        assert_eq!(f1.generation, 1);
        assert_eq!(scopes, f0.scopes);
        let (f2, _, _) = rotated(rotate(&f1, &t1, "nextcloud", None, 4, T + 20));
        assert_eq!(f2.generation, 2);
    }

    #[test]
    fn reusing_a_rotated_token_revokes_the_family() {
        let (f0, t0) = start();
        let (f1, t1, _) = rotated(rotate(&f0, &t0, "nextcloud", None, 3, T + 10));
        let Rotation::Reused { family } = rotate(&f1, &t0, "nextcloud", None, 5, T + 20) else {
            panic!("reuse must be detected")
        };
        assert!(family.revoked);
        assert!(family.generation > f1.generation);
        // The legitimate holder's current token dies with the family.
        assert_eq!(
            refused(rotate(&family, &t1, "nextcloud", None, 6, T + 30)),
            ErrorCode::InvalidGrant
        );
    }

    #[test]
    fn tokens_are_bound_to_client_family_and_lifetime() {
        let (f0, t0) = start();
        assert_eq!(
            refused(rotate(&f0, &t0, "cli", None, 3, T)),
            ErrorCode::InvalidGrant
        );
        let mut other = f0.clone();
        other.id = "another".into();
        assert_eq!(
            refused(rotate(&other, &t0, "nextcloud", None, 3, T)),
            ErrorCode::InvalidGrant
        );
        let end = f0.expires_at;
        assert_eq!(
            refused(rotate(&f0, &t0, "nextcloud", None, 3, end)),
            ErrorCode::InvalidGrant
        );
        assert_eq!(
            refused(rotate(&f0.revoke(), &t0, "nextcloud", None, 3, T)),
            ErrorCode::InvalidGrant
        );
    }

    #[test]
    fn a_refresh_may_narrow_but_not_widen_scopes() {
        let (f0, t0) = start();
        let (_, _, scopes) = rotated(rotate(&f0, &t0, "nextcloud", Some("openid"), 3, T));
        assert_eq!(scopes.to_string(), "openid");
        assert_eq!(
            refused(rotate(&f0, &t0, "nextcloud", Some("openid groups"), 3, T)),
            ErrorCode::InvalidScope
        );
    }

    #[test]
    fn malformed_tokens_do_not_parse_and_families_survive_serde() {
        for bad in ["", "nodot", ".x", "x.", "a.b.c"] {
            assert!(RefreshToken::parse(bad).is_none(), "{bad}");
        }
        let (f0, _) = start();
        let json = serde_json::to_string(&f0).unwrap();
        assert_eq!(serde_json::from_str::<RefreshFamily>(&json).unwrap(), f0);
    }
}

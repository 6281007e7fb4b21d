//! Token revocation (RFC 7009): what a client's revocation request revokes.
//!
//! A client may revoke only its own tokens. Unknown or already dead tokens are answered
//! with success (RFC 7009 §2.2), so the endpoint does not confirm which tokens exist.

use crate::claims::AccessTokenClaims;
use crate::clients::Client;
use crate::error::{ErrorCode, ProtocolError};
use crate::refresh::RefreshFamily;

/// What the gateway must record for a revocation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// Nothing to do: the token is unknown, expired or already revoked.
    Nothing,
    /// Store this revoked family state (a refresh token ends its whole family).
    Family(RefreshFamily),
    /// Put this access token id on the revocation list until it would expire anyway.
    AccessToken {
        /// The token's `jti`.
        jti: String,
        /// Its `exp`: the list entry may be dropped then.
        until: u64,
    },
}

fn not_yours() -> ProtocolError {
    ProtocolError::new(
        ErrorCode::UnauthorizedClient,
        "the token was issued to another client",
    )
}

/// Revoking a refresh token: `family` is the one its family id named, if found.
pub fn revoke_refresh_token(
    family: Option<&RefreshFamily>,
    client: &Client,
    now: u64,
) -> Result<Revocation, ProtocolError> {
    match family {
        Some(f) if f.client_id != client.id => Err(not_yours()),
        Some(f) if !f.revoked && now < f.expires_at => Ok(Revocation::Family(f.revoke())),
        _ => Ok(Revocation::Nothing),
    }
}

/// Revoking an access token whose signature the gateway verified.
pub fn revoke_access_token(
    claims: &AccessTokenClaims,
    client: &Client,
    now: u64,
) -> Result<Revocation, ProtocolError> {
    if claims.client_id != client.id {
        return Err(not_yours());
    }
    if now >= claims.exp {
        return Ok(Revocation::Nothing);
    }
    Ok(Revocation::AccessToken {
        jti: claims.jti.clone(),
        until: claims.exp,
    })
}

#[cfg(test)]
mod tests {
    use pforte_policy::LoginStrength;

    use super::*;
    use crate::claims::{Issue, PairwiseSalt, access_token_claims};
    use crate::code::Authentication;
    use crate::scope::{Scope, Scopes};
    use crate::testing::{ISSUER, clients};

    const T: u64 = 1_800_000_000;

    fn auth() -> Authentication {
        Authentication {
            sid: "sid-1".into(),
            subject: "uuid-alice".into(),
            auth_time: T,
            login: LoginStrength::Password,
            methods: vec![pforte_policy::AuthMethod::Password],
        }
    }

    #[test]
    fn a_client_revokes_its_own_refresh_family_only() {
        let c = clients();
        let nc = c.get("nextcloud").unwrap();
        let scopes = Scopes::EMPTY.with(Scope::Openid);
        let (family, _) = RefreshFamily::start(nc, auth(), scopes, [1; 16], [2; 32], T);
        let Revocation::Family(revoked) = revoke_refresh_token(Some(&family), nc, T).unwrap()
        else {
            panic!("expected the family to be revoked")
        };
        assert!(revoked.revoked);
        assert_eq!(
            revoke_refresh_token(Some(&revoked), nc, T),
            Ok(Revocation::Nothing)
        );
        assert_eq!(revoke_refresh_token(None, nc, T), Ok(Revocation::Nothing));
        let err = revoke_refresh_token(Some(&family), c.get("cli").unwrap(), T).unwrap_err();
        assert_eq!(err.code, ErrorCode::UnauthorizedClient);
    }

    #[test]
    fn access_tokens_are_listed_until_they_expire() {
        let c = clients();
        let nc = c.get("nextcloud").unwrap();
        let salt = PairwiseSalt::new(b"s".to_vec());
        let at = Issue {
            issuer: ISSUER,
            salt: &salt,
            now: T,
        };
        let claims =
            access_token_claims(at, nc, &auth(), Scopes::EMPTY.with(Scope::Openid), [7; 16]);
        assert_eq!(
            revoke_access_token(&claims, nc, T + 1),
            Ok(Revocation::AccessToken {
                jti: claims.jti.clone(),
                until: claims.exp
            })
        );
        assert_eq!(
            revoke_access_token(&claims, nc, claims.exp),
            Ok(Revocation::Nothing)
        );
        let err = revoke_access_token(&claims, c.get("cli").unwrap(), T).unwrap_err();
        assert_eq!(err.code, ErrorCode::UnauthorizedClient);
    }
}

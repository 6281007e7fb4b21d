//! Access tokens presented back to the provider (userinfo, introspection, revocation): the
//! signature, issuer and type checked by the key set, then whether it is still alive.

use pforte_keys::{KeySet, VerifyOptions};
use pforte_oidc::claims::AccessTokenClaims;
use pforte_session::{SessionStore, Sid, StoreError, Timestamp};

use super::grants::Grants;
use super::issue::ACCESS_TOKEN_TYP;

/// The claims of `token` if it is one of this provider's access tokens with a valid signature
/// (expired ones included: callers decide what expiry means for them). A token signed with
/// `none`, an HMAC key or an unknown key, or an ID token passed off as an access token, is
/// `None`. `now` is the request's time.
pub fn verify(
    keys: &KeySet,
    issuer: &str,
    token: &str,
    now: Timestamp,
) -> Option<AccessTokenClaims> {
    let options = VerifyOptions::new(issuer, Vec::<String>::new())
        .with_typ(ACCESS_TOKEN_TYP)
        .with_leeway(u64::from(u32::MAX));
    keys.verify(token, &options, now.unix_secs()).ok()
}

/// Whether a verified token was revoked: by its client (its `jti` is listed), or because the
/// SSO session it was issued in has ended (at `now`).
pub async fn is_revoked(
    store: &SessionStore,
    claims: &AccessTokenClaims,
    now: Timestamp,
) -> Result<bool, StoreError> {
    if Grants::new(store).is_revoked(&claims.jti).await? {
        return Ok(true);
    }
    let Some(sid) = &claims.sid else {
        return Ok(false);
    };
    let Ok(sid) = Sid::parse(sid) else {
        return Ok(true);
    };
    Ok(store.get_by_sid(&sid, now).await?.is_none())
}

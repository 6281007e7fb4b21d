//! Access tokens presented back to the provider (userinfo, introspection, revocation): the
//! signature, issuer and type checked by the key set; whether it is still good (its `jti`
//! revoked, its session ended, its person no longer allowed) each caller asks (`access`).

use pforte_keys::{KeySet, VerifyOptions};
use pforte_oidc::claims::AccessTokenClaims;
use pforte_session::Timestamp;

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

//! ID tokens signed through the openidconnect adapter, checked by openidconnect's own verifier.

use chrono::{DateTime, Utc};
use openidconnect::core::{CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier, CoreJsonWebKeySet};
use openidconnect::{
    AccessToken, AccessTokenHash, Audience, ClientId, EmptyAdditionalClaims, IssuerUrl, Nonce,
    PrivateSigningKey, StandardClaims, SubjectIdentifier,
};
use pforte_keys::KeySet;

use crate::support::{ALL_SPECS, NOW, dir_with};

const ISS: &str = "https://login.example.org";

fn at(secs: u64) -> DateTime<Utc> {
    DateTime::from_timestamp(i64::try_from(secs).unwrap(), 0).unwrap()
}

fn id_token(set: &KeySet, access_token: &AccessToken, nonce: &Nonce) -> CoreIdToken {
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(ISS.into()).unwrap(),
        vec![Audience::new("mail".into())],
        at(NOW + 300),
        at(NOW),
        StandardClaims::new(SubjectIdentifier::new("alice".into())),
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(nonce.clone()));
    let signer = set.oidc_signer();
    CoreIdToken::new(claims, &signer, signer.alg(), Some(access_token), None).unwrap()
}

fn verifier(set: &KeySet) -> CoreIdTokenVerifier<'static> {
    let jwks: CoreJsonWebKeySet = serde_json::from_value(set.jwks().clone()).unwrap();
    CoreIdTokenVerifier::new_public_client(
        ClientId::new("mail".into()),
        IssuerUrl::new(ISS.into()).unwrap(),
        jwks,
    )
    .set_allowed_algs([set.oidc_signer().alg()])
    .set_time_fn(|| at(NOW + 1))
}

#[test]
fn id_tokens_verify_with_openidconnect_including_at_hash() {
    for spec in ALL_SPECS {
        let (_tmp, _dir, set) = dir_with(spec);
        let access_token = AccessToken::new("opaque-access-token".into());
        let nonce = Nonce::new("n-0S6_WzA2Mj".into());
        let token = id_token(&set, &access_token, &nonce);
        let verifier = verifier(&set);
        let claims = token.claims(&verifier, &nonce).unwrap();
        assert_eq!(claims.subject().as_str(), "alice", "{spec:?}");
        let expected = AccessTokenHash::from_token(
            &access_token,
            token.signing_alg().unwrap(),
            token.signing_key(&verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(claims.access_token_hash(), Some(&expected), "{spec:?}");
        let other = AccessTokenHash::from_token(
            &AccessToken::new("another".into()),
            token.signing_alg().unwrap(),
            token.signing_key(&verifier).unwrap(),
        )
        .unwrap();
        assert_ne!(claims.access_token_hash(), Some(&other));
    }
}

#[test]
fn id_tokens_carry_the_active_kid_and_refuse_another_algorithm() {
    let (_tmp, _dir, set) = dir_with(pforte_keys::KeySpec::Es256);
    let token = id_token(&set, &AccessToken::new("t".into()), &Nonce::new("n".into()));
    let text = serde_json::to_value(&token).unwrap();
    let header = jsonwebtoken::decode_header(text.as_str().unwrap()).unwrap();
    assert_eq!(header.kid.as_deref(), Some(set.active().kid()));
    let wrong = openidconnect::core::CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256;
    assert!(set.oidc_signer().sign(&wrong, b"message").is_err());
}

//! One usable key: its private half for signing and its public half as a JWK.

use std::fmt;
use std::path::Path;

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{DecodingKey, EncodingKey};
use openidconnect::core::CoreJsonWebKey;

use crate::alg::Alg;
use crate::error::KeyError;
use crate::meta::KeyState;

/// A key read from the directory and ready to sign (if active) and verify.
///
/// Its `Debug` shows only the kid, algorithm and state: the private key must
/// never reach a log.
pub struct PublishedKey {
    kid: String,
    alg: Alg,
    state: KeyState,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: serde_json::Value,
    oidc_jwk: CoreJsonWebKey,
}

impl PublishedKey {
    /// Parses a PKCS#8 PEM private key; `path` only names the file in errors.
    pub(crate) fn from_pem(
        kid: &str,
        alg: Alg,
        state: KeyState,
        pem: &[u8],
        path: &Path,
    ) -> Result<PublishedKey, KeyError> {
        let bad = |reason: String| KeyError::BadKey {
            path: path.to_owned(),
            reason,
        };
        let encoding = match alg {
            Alg::Es256 => EncodingKey::from_ec_pem(pem),
            Alg::Rs256 => EncodingKey::from_rsa_pem(pem),
            Alg::EdDsa => EncodingKey::from_ed_pem(pem),
        }
        .map_err(|e| bad(format!("not a PKCS#8 {alg} key ({e})")))?;
        let mut jwk = Jwk::from_encoding_key(&encoding, alg.jwt())
            .map_err(|e| bad(format!("not a {alg} key ({e})")))?;
        jwk.common.key_id = Some(kid.to_owned());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| bad(e.to_string()))?;
        let jwk = serde_json::to_value(&jwk).map_err(|e| bad(e.to_string()))?;
        let oidc_jwk = serde_json::from_value(jwk.clone()).map_err(|e| bad(e.to_string()))?;
        Ok(PublishedKey {
            kid: kid.to_owned(),
            alg,
            state,
            encoding,
            decoding,
            jwk,
            oidc_jwk,
        })
    }

    /// The key id that tokens name in their header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this key signs and verifies with.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The key's state when the snapshot was loaded.
    pub fn state(&self) -> KeyState {
        self.state
    }

    /// The public key as an RFC 7517 JWK (kty, crv/x/y or n/e, kid, alg, use).
    pub fn jwk(&self) -> &serde_json::Value {
        &self.jwk
    }

    pub(crate) fn encoding(&self) -> &EncodingKey {
        &self.encoding
    }

    pub(crate) fn decoding(&self) -> &DecodingKey {
        &self.decoding
    }

    pub(crate) fn oidc_jwk(&self) -> &CoreJsonWebKey {
        &self.oidc_jwk
    }
}

impl fmt::Debug for PublishedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishedKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

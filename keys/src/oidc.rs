//! The active key as an `openidconnect` signing key, so the gateway can build
//! ID tokens with `CoreIdToken::new` (which also computes `at_hash` and
//! `c_hash`). `openidconnect` ships no ECDSA signer, and its RSA one reads only
//! PKCS#1; this adapter covers all of Pforte's algorithms through the same
//! signer as [`KeySet::sign`].

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use openidconnect::{PrivateSigningKey, SigningError};

use crate::alg::Alg;
use crate::key::PublishedKey;
use crate::keyset::KeySet;

/// The active key, borrowed from a [`KeySet`], signing for `openidconnect`.
#[derive(Debug, Clone, Copy)]
pub struct OidcSigner<'a> {
    key: &'a PublishedKey,
}

impl KeySet {
    /// The active key as an `openidconnect` signer.
    pub fn oidc_signer(&self) -> OidcSigner<'_> {
        OidcSigner { key: self.active() }
    }
}

impl OidcSigner<'_> {
    /// The algorithm to pass to `CoreIdToken::new` alongside this signer.
    pub fn alg(&self) -> CoreJwsSigningAlgorithm {
        match self.key.alg() {
            Alg::Es256 => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            Alg::Rs256 => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            Alg::EdDsa => CoreJwsSigningAlgorithm::EdDsa,
        }
    }
}

impl PrivateSigningKey for OidcSigner<'_> {
    type VerificationKey = CoreJsonWebKey;

    fn sign(
        &self,
        signature_alg: &CoreJwsSigningAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, SigningError> {
        if *signature_alg != self.alg() {
            return Err(SigningError::UnsupportedAlg(format!(
                "{signature_alg:?} (this key signs {})",
                self.key.alg()
            )));
        }
        let signature =
            jsonwebtoken::crypto::sign(message, self.key.encoding(), self.key.alg().jwt())
                .map_err(|e| SigningError::Other(e.to_string()))?;
        URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|e| SigningError::Other(e.to_string()))
    }

    fn as_verification_key(&self) -> CoreJsonWebKey {
        self.key.oidc_jwk().clone()
    }
}

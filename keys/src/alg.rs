//! The signing algorithms Pforte offers and how each key type is generated.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair};

use crate::error::KeyError;

/// A JWS algorithm a Pforte key signs with; only asymmetric ones, so that
/// publishing the verification key never lets anyone forge tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Alg {
    /// ECDSA on P-256 with SHA-256: the default, small and fast to sign.
    #[serde(rename = "ES256")]
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256: for clients that know nothing else.
    #[serde(rename = "RS256")]
    Rs256,
    /// Ed25519: the fastest signer, for clients that support it.
    #[serde(rename = "EdDSA")]
    EdDsa,
}

impl Alg {
    /// The name used in JWS headers, JWKS and metadata files.
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::Es256 => "ES256",
            Alg::Rs256 => "RS256",
            Alg::EdDsa => "EdDSA",
        }
    }

    pub(crate) fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            Alg::Es256 => jsonwebtoken::Algorithm::ES256,
            Alg::Rs256 => jsonwebtoken::Algorithm::RS256,
            Alg::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name is not one of `ES256`, `RS256`, `EdDSA`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported algorithm {0:?}: use ES256, RS256 or EdDSA")]
pub struct UnknownAlg(pub String);

impl FromStr for Alg {
    type Err = UnknownAlg;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ES256" => Ok(Alg::Es256),
            "RS256" => Ok(Alg::Rs256),
            "EdDSA" => Ok(Alg::EdDsa),
            other => Err(UnknownAlg(other.to_owned())),
        }
    }
}

/// What kind of key to generate: the algorithm plus, for RSA, the modulus size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeySpec {
    /// A P-256 key for ES256.
    #[default]
    Es256,
    /// A 2048-bit RSA key for RS256.
    Rs256Bits2048,
    /// A 3072-bit RSA key for RS256.
    Rs256Bits3072,
    /// An Ed25519 key for EdDSA.
    Ed25519,
}

impl KeySpec {
    /// The algorithm keys of this kind sign with.
    pub fn alg(self) -> Alg {
        match self {
            KeySpec::Es256 => Alg::Es256,
            KeySpec::Rs256Bits2048 | KeySpec::Rs256Bits3072 => Alg::Rs256,
            KeySpec::Ed25519 => Alg::EdDsa,
        }
    }

    /// A fresh private key as PKCS#8 v1 DER (v1 because JWT libraries expect it for Ed25519).
    pub(crate) fn generate_pkcs8(self) -> Result<Vec<u8>, KeyError> {
        let failed = |what: &str| KeyError::Generate(format!("{what} ({})", self.alg()));
        match self {
            KeySpec::Es256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .and_then(|k| k.to_pkcs8v1())
                .map(|d| d.as_ref().to_vec())
                .map_err(|_| failed("ECDSA P-256")),
            KeySpec::Rs256Bits2048 | KeySpec::Rs256Bits3072 => {
                let size = if self == KeySpec::Rs256Bits2048 {
                    KeySize::Rsa2048
                } else {
                    KeySize::Rsa3072
                };
                aws_lc_rs::rsa::KeyPair::generate(size)
                    .and_then(|k| AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&k))
                    .map(|d| d.as_ref().to_vec())
                    .map_err(|_| failed("RSA"))
            }
            KeySpec::Ed25519 => Ed25519KeyPair::generate()
                .and_then(|k| k.to_pkcs8v1())
                .map(|d| d.as_ref().to_vec())
                .map_err(|_| failed("Ed25519")),
        }
    }

    /// The spec of an existing key, so that rotation replaces a key with one of the same kind.
    pub(crate) fn of_pkcs8(alg: Alg, der: &[u8]) -> Option<KeySpec> {
        match alg {
            Alg::Es256 => Some(KeySpec::Es256),
            Alg::EdDsa => Some(KeySpec::Ed25519),
            Alg::Rs256 => {
                let bits = aws_lc_rs::rsa::KeyPair::from_pkcs8(der)
                    .ok()?
                    .public_modulus_len()
                    * 8;
                Some(if bits >= 3072 {
                    KeySpec::Rs256Bits3072
                } else {
                    KeySpec::Rs256Bits2048
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_round_trip_and_hmac_is_unknown() {
        for alg in [Alg::Es256, Alg::Rs256, Alg::EdDsa] {
            assert_eq!(alg.as_str().parse::<Alg>().unwrap(), alg);
        }
        for name in ["HS256", "none", "es256"] {
            assert!(name.parse::<Alg>().is_err(), "{name}");
        }
    }
}

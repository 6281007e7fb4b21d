//! The smallest certificate keys BSI TR-02102-2 (Version 2026-01, with TR-02102-1's key
//! lengths) allows a TLS server: RSA of 3000 bits, elliptic curves of 250 bits (secp256r1,
//! brainpoolP256r1 and larger; Ed25519 is a 255-bit curve). A weaker certificate is refused at
//! load, so no reload can put one in service.

use x509_parser::oid_registry::{OID_SIG_ED448, OID_SIG_ED25519};
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

/// RSA moduli below this many bits are refused.
pub const MIN_RSA_BITS: usize = 3000;
/// Elliptic-curve keys below this many bits are refused.
pub const MIN_EC_BITS: usize = 250;

/// Why a certificate's key is not strong enough.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WeakKey {
    /// Fewer bits than the TR asks for this kind of key.
    #[error(
        "the certificate's {kind} key has {bits} bits; BSI TR-02102-2 asks for at least {minimum}"
    )]
    TooShort {
        /// `RSA` or `EC`.
        kind: &'static str,
        /// The key's size.
        bits: usize,
        /// The TR's minimum.
        minimum: usize,
    },
    /// A kind of key the TR does not recommend for TLS (DSA, GOST, unknown).
    #[error("the certificate's key is of a kind BSI TR-02102-2 does not recommend (not RSA or EC)")]
    Kind,
    /// The key could not be parsed.
    #[error("cannot read the certificate's public key: {0}")]
    Unreadable(String),
}

/// Checks the leaf certificate's public key against the TR's minimum sizes.
pub fn check(spki: &SubjectPublicKeyInfo<'_>) -> Result<(), WeakKey> {
    let algorithm = &spki.algorithm.algorithm;
    if *algorithm == OID_SIG_ED25519 || *algorithm == OID_SIG_ED448 {
        return Ok(());
    }
    let parsed = spki
        .parsed()
        .map_err(|e| WeakKey::Unreadable(e.to_string()))?;
    let (kind, bits, minimum) = match parsed {
        PublicKey::RSA(rsa) => ("RSA", significant_bits(rsa.modulus), MIN_RSA_BITS),
        PublicKey::EC(point) => ("EC", point.key_size(), MIN_EC_BITS),
        _ => return Err(WeakKey::Kind),
    };
    if bits < minimum {
        return Err(WeakKey::TooShort {
            kind,
            bits,
            minimum,
        });
    }
    Ok(())
}

/// The size of a big-endian unsigned integer in bits, leading zeros not counted (x509-parser's
/// own `key_size` assumes exactly one leading zero byte).
fn significant_bits(bytes: &[u8]) -> usize {
    let trimmed = match bytes.iter().position(|&b| b != 0) {
        Some(first) => &bytes[first..],
        None => return 0,
    };
    let lead = trimmed.first().map_or(0, |b| b.leading_zeros() as usize);
    trimmed.len() * 8 - lead
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::PublicKeyData;
    use x509_parser::prelude::FromDer;

    fn spki_of(key: &rcgen::KeyPair) -> Vec<u8> {
        key.subject_public_key_info()
    }

    fn check_der(der: &[u8]) -> Result<(), WeakKey> {
        let (_, spki) = SubjectPublicKeyInfo::from_der(der).unwrap();
        check(&spki)
    }

    fn rsa(bits: usize) -> rcgen::KeyPair {
        let key = aws_lc_rs::rsa::KeyPair::generate(match bits {
            2048 => aws_lc_rs::rsa::KeySize::Rsa2048,
            3072 => aws_lc_rs::rsa::KeySize::Rsa3072,
            _ => aws_lc_rs::rsa::KeySize::Rsa4096,
        })
        .unwrap();
        let der =
            aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&key).unwrap();
        rcgen::KeyPair::try_from(der.as_ref()).unwrap()
    }

    #[test]
    fn counts_bits_without_leading_zeros() {
        assert_eq!(significant_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(significant_bits(&[0x01, 0xff]), 9);
        assert_eq!(significant_bits(&[0, 0]), 0);
    }

    #[test]
    fn rsa_below_3000_bits_is_refused_and_3072_accepted() {
        assert_eq!(
            check_der(&spki_of(&rsa(2048))),
            Err(WeakKey::TooShort {
                kind: "RSA",
                bits: 2048,
                minimum: 3000
            })
        );
        assert_eq!(check_der(&spki_of(&rsa(3072))), Ok(()));
    }

    #[test]
    fn nist_curves_and_ed25519_pass() {
        for alg in [
            &rcgen::PKCS_ECDSA_P256_SHA256,
            &rcgen::PKCS_ECDSA_P384_SHA384,
            &rcgen::PKCS_ED25519,
        ] {
            let key = rcgen::KeyPair::generate_for(alg).unwrap();
            assert_eq!(check_der(&spki_of(&key)), Ok(()), "{alg:?}");
        }
    }

    #[test]
    fn a_short_curve_is_refused() {
        // A secp224r1 key (an uncompressed point of 2 × 28 bytes): below the TR's 250 bits.
        let mut spki = vec![0x30, 0x4e, 0x30, 0x10];
        spki.extend([0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]); // id-ecPublicKey
        spki.extend([0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x21]); // secp224r1
        spki.extend([0x03, 0x3a, 0x00, 0x04]);
        spki.extend([7u8; 56]);
        assert_eq!(
            check_der(&spki),
            Err(WeakKey::TooShort {
                kind: "EC",
                bits: 224,
                minimum: 250
            })
        );
    }
}

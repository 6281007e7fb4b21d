//! The handshake signatures the gateway makes: never RSA PKCS#1 v1.5. BSI TR-02102-2 (Version
//! 2026-01) lists only RSA-PSS (and ECDSA) for the server's signature in TLS 1.2 and 1.3; rustls
//! would fall back to PKCS#1 v1.5 for a TLS 1.2 client that offers no PSS scheme, which such a
//! client now cannot negotiate. TLS 1.3 never uses PKCS#1 v1.5 for handshakes anyway.

use std::sync::Arc;

use rustls::sign::{Signer, SigningKey};
use rustls::{SignatureAlgorithm, SignatureScheme};
use rustls_pki_types::SubjectPublicKeyInfoDer;

/// A certificate's key that chooses among the client's offered schemes all but PKCS#1 v1.5.
#[derive(Debug)]
pub struct PssOnly(pub Arc<dyn SigningKey>);

impl SigningKey for PssOnly {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let allowed: Vec<SignatureScheme> = offered
            .iter()
            .copied()
            .filter(|scheme| {
                !matches!(
                    scheme,
                    SignatureScheme::RSA_PKCS1_SHA1
                        | SignatureScheme::RSA_PKCS1_SHA256
                        | SignatureScheme::RSA_PKCS1_SHA384
                        | SignatureScheme::RSA_PKCS1_SHA512
                )
            })
            .collect();
        self.0.choose_scheme(&allowed)
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        self.0.public_key()
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.0.algorithm()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::crypto::aws_lc_rs::sign::any_supported_type;

    #[test]
    fn an_rsa_key_signs_with_pss_and_never_with_pkcs1() {
        let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa3072).unwrap();
        let der =
            aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&key).unwrap();
        let der = rustls_pki_types::PrivatePkcs8KeyDer::from(der.as_ref().to_vec());
        let key = PssOnly(any_supported_type(&der.into()).unwrap());
        assert!(
            key.choose_scheme(&[SignatureScheme::RSA_PKCS1_SHA256])
                .is_none()
        );
        let signer = key
            .choose_scheme(&[
                SignatureScheme::RSA_PKCS1_SHA256,
                SignatureScheme::RSA_PSS_SHA256,
            ])
            .unwrap();
        assert_eq!(signer.scheme(), SignatureScheme::RSA_PSS_SHA256);
    }
}

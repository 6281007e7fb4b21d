//! The checkpoint signing key and the public keys a verifier trusts. The key directory is not the
//! OIDC signing keys' directory: a token key is read by every replica and rotated every few
//! weeks, a checkpoint key proves the log and its public half is copied off the host to verify
//! with after an incident.
//!
//! The directory holds `<kid>.key` (the Ed25519 private key, PKCS#8 PEM, mode 0600) and
//! `<kid>.pub` (its public key, SubjectPublicKeyInfo PEM, which `openssl pkeyutl -verify` reads).
//! The kid is the first 16 hex digits of the SHA-256 of the 32-byte public key. Exactly one
//! private key signs; a retired key keeps only its `.pub`, so old checkpoints still verify.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, ParsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{AuditError, io_err};
use crate::hash::Hash;

const PRIVATE_TAG: &str = "PRIVATE KEY";
const PUBLIC_TAG: &str = "PUBLIC KEY";

/// The key that signs checkpoints.
pub struct SigningKey {
    kid: String,
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The directory's signing key, made (with the folder, mode 0700) when there is none yet, so
    /// a new gateway signs from its first start. More than one private key is refused: which one
    /// signs must never be a guess.
    pub fn load_or_create(dir: &Path) -> Result<SigningKey, AuditError> {
        if let Some(key) = Self::load(dir)? {
            return Ok(key);
        }
        create_private_dir(dir)?;
        let pair = Ed25519KeyPair::generate().map_err(|_| AuditError::BadKey {
            path: dir.to_owned(),
            reason: "the system could not make a key".into(),
        })?;
        let kid = kid_of(pair.public_key().as_ref());
        let pkcs8 = pair.to_pkcs8().map_err(|_| AuditError::BadKey {
            path: dir.to_owned(),
            reason: "the new key could not be encoded".into(),
        })?;
        let public = public_pem(&pair, dir)?;
        write_new(
            &dir.join(format!("{kid}.key")),
            &pem::encode(&pem::Pem::new(PRIVATE_TAG, pkcs8.as_ref().to_vec())),
            0o600,
        )?;
        write_new(&dir.join(format!("{kid}.pub")), &public, 0o644)?;
        Ok(SigningKey { kid, pair })
    }

    /// The directory's signing key, `None` when the directory has no private key (or does not
    /// exist): `pforte-admin` run by someone who may not read it writes events without a
    /// checkpoint rather than failing the change it records.
    pub fn load(dir: &Path) -> Result<Option<SigningKey>, AuditError> {
        let private = files_with(dir, "key")?;
        let path = match private.as_slice() {
            [] => return Ok(None),
            [one] => one,
            [first, ..] => {
                return Err(AuditError::BadKey {
                    path: first.clone(),
                    reason: format!(
                        "{} holds {} private keys; keep the one that signs and only the .pub of the others",
                        dir.display(),
                        private.len()
                    ),
                });
            }
        };
        let text = fs::read_to_string(path).map_err(io_err(path))?;
        let bad = |reason: String| AuditError::BadKey {
            path: path.clone(),
            reason,
        };
        let block = pem::parse(&text).map_err(|e| bad(e.to_string()))?;
        if block.tag() != PRIVATE_TAG {
            return Err(bad(format!(
                "a {} PEM block, not a private key",
                block.tag()
            )));
        }
        let pair = Ed25519KeyPair::from_pkcs8(block.contents())
            .map_err(|e| bad(format!("not an Ed25519 PKCS#8 key: {e}")))?;
        let kid = kid_of(pair.public_key().as_ref());
        Ok(Some(SigningKey { kid, pair }))
    }

    /// The key's id, written into every checkpoint it signs.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// An Ed25519 signature over `message`, base64url without padding.
    pub fn sign(&self, message: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(self.pair.sign(message).as_ref())
    }
}

/// Why a signature is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureFault {
    /// The kid is not among the trusted keys.
    UnknownKey,
    /// The signature does not match the message under the key.
    BadSignature,
}

/// The public keys whose checkpoints are believed.
#[derive(Default)]
pub struct TrustedKeys {
    keys: BTreeMap<String, ParsedPublicKey>,
}

impl std::fmt::Debug for TrustedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.keys.keys()).finish()
    }
}

impl TrustedKeys {
    /// Every `<kid>.pub` of `dir` (a key directory, or a copy of its public keys kept off the
    /// host). A file whose key does not hash to its name is refused: a renamed key must not
    /// vouch under another kid.
    pub fn load_dir(dir: &Path) -> Result<TrustedKeys, AuditError> {
        let mut keys = BTreeMap::new();
        for path in files_with(dir, "pub")? {
            let (kid, key) = read_public(&path)?;
            keys.insert(kid, key);
        }
        Ok(TrustedKeys { keys })
    }

    /// How many keys are trusted.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is trusted: nothing signed can then be believed.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Checks `signature` (base64url) over `message` by the key `kid`.
    pub fn check(&self, kid: &str, message: &[u8], signature: &str) -> Result<(), SignatureFault> {
        let key = self.keys.get(kid).ok_or(SignatureFault::UnknownKey)?;
        let raw = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| SignatureFault::BadSignature)?;
        key.verify_sig(message, &raw)
            .map_err(|_| SignatureFault::BadSignature)
    }
}

fn read_public(path: &Path) -> Result<(String, ParsedPublicKey), AuditError> {
    let text = fs::read_to_string(path).map_err(io_err(path))?;
    let bad = |reason: String| AuditError::BadKey {
        path: path.to_owned(),
        reason,
    };
    let block = pem::parse(&text).map_err(|e| bad(e.to_string()))?;
    if block.tag() != PUBLIC_TAG {
        return Err(bad(format!(
            "a {} PEM block, not a public key",
            block.tag()
        )));
    }
    let key = ParsedPublicKey::new(&ED25519, block.contents())
        .map_err(|e| bad(format!("not an Ed25519 public key: {e}")))?;
    let raw = spki_raw(block.contents()).ok_or_else(|| bad("not an Ed25519 public key".into()))?;
    let kid = kid_of(raw);
    let named = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    if named != kid {
        return Err(bad(format!("the key's id is {kid}, not {named}")));
    }
    Ok((kid, key))
}

/// The 32 key bytes at the end of an Ed25519 SubjectPublicKeyInfo (44 bytes: a fixed 12-byte
/// header, RFC 8410).
fn spki_raw(der: &[u8]) -> Option<&[u8]> {
    const HEADER: [u8; 12] = [
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    der.strip_prefix(&HEADER).filter(|raw| raw.len() == 32)
}

fn public_pem(pair: &Ed25519KeyPair, dir: &Path) -> Result<String, AuditError> {
    let der: PublicKeyX509Der<'_> = pair.public_key().as_der().map_err(|_| AuditError::BadKey {
        path: dir.to_owned(),
        reason: "the public key could not be encoded".into(),
    })?;
    Ok(pem::encode(&pem::Pem::new(
        PUBLIC_TAG,
        der.as_ref().to_vec(),
    )))
}

fn kid_of(raw_public: &[u8]) -> String {
    let mut hex = Hash::of(raw_public).to_string();
    hex.truncate(16);
    hex
}

fn files_with(dir: &Path, extension: &str) -> Result<Vec<PathBuf>, AuditError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry.map_err(io_err(dir))?.path();
        if path.extension().and_then(|e| e.to_str()) == Some(extension) {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

fn create_private_dir(dir: &Path) -> Result<(), AuditError> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_err(dir))
}

fn write_new(path: &Path, text: &str, mode: u32) -> Result<(), AuditError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(io_err(path))?;
    file.write_all(text.as_bytes()).map_err(io_err(path))?;
    file.sync_all().map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_made_key_signs_what_its_public_key_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::load_or_create(&dir.path().join("audit-keys")).unwrap();
        let again = SigningKey::load_or_create(&dir.path().join("audit-keys")).unwrap();
        assert_eq!(key.kid(), again.kid());
        let trusted = TrustedKeys::load_dir(&dir.path().join("audit-keys")).unwrap();
        assert_eq!(trusted.len(), 1);
        let signature = key.sign(b"head");
        assert_eq!(trusted.check(key.kid(), b"head", &signature), Ok(()));
        assert_eq!(
            trusted.check(key.kid(), b"other", &signature),
            Err(SignatureFault::BadSignature)
        );
        assert_eq!(
            trusted.check("0000000000000000", b"head", &signature),
            Err(SignatureFault::UnknownKey)
        );
    }

    #[test]
    fn two_private_keys_and_renamed_public_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::load_or_create(dir.path()).unwrap();
        let other = tempfile::tempdir().unwrap();
        let second = SigningKey::load_or_create(other.path()).unwrap();
        fs::copy(
            other.path().join(format!("{}.key", second.kid())),
            dir.path().join(format!("{}.key", second.kid())),
        )
        .unwrap();
        let err = SigningKey::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("2 private keys"), "{err}");
        fs::rename(
            dir.path().join(format!("{}.pub", key.kid())),
            dir.path().join("0123456789abcdef.pub"),
        )
        .unwrap();
        let err = TrustedKeys::load_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not 0123456789abcdef"), "{err}");
    }
}

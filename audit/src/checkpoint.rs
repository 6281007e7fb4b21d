//! Checkpoints: a replica's chain head (its last event's sequence number and hash) at a time,
//! signed. The chain alone cannot tell a log rewritten whole, hashes recomputed, from the
//! original, since anyone can compute SHA-256; and it cannot tell a cut-off tail from a log that
//! ended there. A signed checkpoint can, once a copy of it is kept where the gateway's host
//! cannot rewrite it (a syslog receiver, a SIEM).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::canonical;
use crate::error::AuditError;
use crate::hash::Hash;
use crate::keys::{SignatureFault, SigningKey, TrustedKeys};

/// The event name of a checkpoint line.
pub const EVENT: &str = "audit_checkpoint";

/// What a checkpoint vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The chain.
    pub replica: String,
    /// The sequence number of the chain's last event before the checkpoint.
    pub seq: u64,
    /// That event's hash, 64 hex digits.
    pub head: String,
    /// When, RFC 3339 UTC.
    pub time: String,
    /// The kid of the signing key.
    pub key: String,
}

impl Checkpoint {
    /// The bytes signed: the checkpoint's canonical JSON.
    pub fn payload(&self) -> Result<String, AuditError> {
        let mut out = String::with_capacity(160);
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => canonical::write_object(&map, &mut out)?,
            _ => {
                return Err(AuditError::NotCanonical {
                    field: "checkpoint".into(),
                    reason: "not an object",
                });
            }
        }
        Ok(out)
    }

    /// The head as a hash; `None` when it is not 64 lowercase hex digits.
    pub fn head_hash(&self) -> Option<Hash> {
        Hash::from_hex(&self.head)
    }

    /// The fields of the checkpoint event that carries this checkpoint, signed by `key` (whose
    /// kid must be `self.key`).
    pub fn signed_fields(&self, key: &SigningKey) -> Result<Map<String, Value>, AuditError> {
        let signature = key.sign(self.payload()?.as_bytes());
        let mut fields = Map::new();
        fields.insert("event".into(), Value::String(EVENT.into()));
        fields.insert(
            "checkpoint".into(),
            serde_json::to_value(self).map_err(|_| AuditError::NotCanonical {
                field: "checkpoint".into(),
                reason: "not an object",
            })?,
        );
        fields.insert("signature".into(), Value::String(signature));
        Ok(fields)
    }

    /// Checks `signature` over this checkpoint against the trusted keys.
    pub fn check(&self, signature: &str, keys: &TrustedKeys) -> Result<(), SignatureFault> {
        let payload = self.payload().map_err(|_| SignatureFault::BadSignature)?;
        keys.check(&self.key, payload.as_bytes(), signature)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_signed_checkpoint_checks_and_a_changed_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::load_or_create(dir.path()).unwrap();
        let keys = TrustedKeys::load_dir(dir.path()).unwrap();
        let checkpoint = Checkpoint {
            replica: "gw-a".into(),
            seq: 41,
            head: Hash::of(b"41").to_string(),
            time: "2026-12-07T22:00:00Z".into(),
            key: key.kid().into(),
        };
        let fields = checkpoint.signed_fields(&key).unwrap();
        let signature = fields["signature"].as_str().unwrap();
        assert_eq!(checkpoint.check(signature, &keys), Ok(()));
        let moved = Checkpoint {
            seq: 42,
            ..checkpoint.clone()
        };
        assert_eq!(
            moved.check(signature, &keys),
            Err(SignatureFault::BadSignature)
        );
    }
}

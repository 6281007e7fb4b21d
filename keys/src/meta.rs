//! The `<kid>.toml` metadata file: what a key is for and where it is in its life.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::alg::Alg;
use crate::error::KeyError;

/// Where a key is in its life; only `active` signs, all three may be published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Published in the JWKS so clients learn it before it signs.
    Next,
    /// Signs every new token; exactly one key is active.
    Active,
    /// No longer signs; published until the retention window has passed,
    /// so tokens it signed keep verifying until they expire.
    Retired,
}

/// A key's metadata as stored on disk; timestamps are unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyMeta {
    pub alg: Alg,
    pub state: KeyState,
    pub created: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activated: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired: Option<u64>,
}

impl KeyMeta {
    /// Parses and checks a metadata file's text; `path` only names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<KeyMeta, KeyError> {
        let meta: KeyMeta = toml::from_str(text).map_err(|e| KeyError::Metadata {
            path: path.to_owned(),
            reason: e.message().to_owned(),
        })?;
        if meta.state == KeyState::Retired && meta.retired.is_none() {
            return Err(KeyError::Metadata {
                path: path.to_owned(),
                reason: "a retired key needs `retired` (unix seconds)".to_owned(),
            });
        }
        Ok(meta)
    }

    /// The file text for this metadata.
    pub fn render(&self) -> Result<String, KeyError> {
        toml::to_string(self).map_err(|e| KeyError::Generate(format!("metadata: {e}")))
    }

    /// Whether this key belongs in the JWKS at `now`, given how long retired keys stay.
    pub fn is_published(&self, now: u64, retire_after: u64) -> bool {
        match (self.state, self.retired) {
            (KeyState::Retired, Some(at)) => now < at.saturating_add(retire_after),
            (KeyState::Retired, None) => false,
            (KeyState::Next | KeyState::Active, _) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trips_and_refuses_unknown_fields() {
        let meta = KeyMeta {
            alg: Alg::EdDsa,
            state: KeyState::Retired,
            created: 1,
            activated: Some(2),
            retired: Some(3),
        };
        let text = meta.render().unwrap();
        assert_eq!(KeyMeta::parse(Path::new("k.toml"), &text).unwrap(), meta);
        let err = KeyMeta::parse(Path::new("k.toml"), &format!("{text}colour = 1\n")).unwrap_err();
        assert!(err.to_string().starts_with("k.toml: "), "{err}");
    }

    #[test]
    fn retired_key_leaves_the_jwks_when_the_window_ends() {
        let meta = KeyMeta {
            alg: Alg::Es256,
            state: KeyState::Retired,
            created: 0,
            activated: Some(0),
            retired: Some(100),
        };
        assert!(meta.is_published(149, 50));
        assert!(!meta.is_published(150, 50));
    }
}

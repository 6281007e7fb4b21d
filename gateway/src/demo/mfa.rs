//! The demo's second factors: a sealing key made on the first start, and an authenticator app
//! enrolled for alice, so that a newcomer can open the admin console (its rule asks for a
//! second factor) with codes from `oathtool` or any authenticator app. Carol enrols a passkey
//! herself from the security page.

use std::path::Path;

use pforte_directory::{FactorKind, FileDirectory, FileSettings};
use pforte_factors::seal::{Purpose, Sealer, generate_key};
use pforte_factors::totp::StoredTotp;

use super::DemoError;

/// The person whose authenticator app the demo enrols.
const ALICE: &str = "alice";

/// Alice's authenticator app, as the demo prints it.
pub struct AliceTotp {
    /// The `otpauth://` URI to scan or paste.
    pub uri: String,
    /// The key in base32, for `oathtool --totp -b`.
    pub secret: String,
}

/// The sealing key in `path`, made when missing (readable by its owner only).
pub fn ensure_key(path: &Path) -> Result<String, DemoError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    if let Ok(key) = std::fs::read_to_string(path) {
        return Ok(key);
    }
    let key = generate_key().map_err(|e| DemoError::Mfa(e.to_string()))?;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut file| file.write_all(format!("{key}\n").as_bytes()))
        .map_err(|source| DemoError::Write {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(key)
}

/// Alice's authenticator app in the people file at `people`, enrolled when she has none.
pub async fn ensure_alice(people: &Path, key: &str, issuer: &str) -> Result<AliceTotp, DemoError> {
    let fail = |e: &dyn std::fmt::Display| DemoError::Mfa(e.to_string());
    let sealer = Sealer::new(key).map_err(|e| fail(&e))?;
    let directory = FileDirectory::load(&FileSettings {
        path: people.to_path_buf(),
    })
    .map_err(|e| fail(&e))?;
    let alice = directory
        .lookup(ALICE)
        .map_err(|e| fail(&e))?
        .ok_or_else(|| DemoError::Mfa(format!("{ALICE} is not in {}", people.display())))?;
    let stored = directory
        .factors(ALICE)
        .map_err(|e| fail(&e))?
        .unwrap_or_default();
    let existing = stored.totp.iter().find_map(|sealed| {
        let plain = sealer.open(Purpose::Totp, &alice.subject, sealed).ok()?;
        serde_json::from_slice::<StoredTotp>(&plain).ok()
    });
    let totp = match existing {
        Some(totp) => totp,
        None => {
            let now = pforte_session::Clock::system().now().unix_secs();
            let totp = StoredTotp::generate("oathtool", now).map_err(|e| fail(&e))?;
            let plain = serde_json::to_vec(&totp).map_err(|e| fail(&e))?;
            let sealed = sealer
                .seal(Purpose::Totp, &alice.subject, &plain)
                .map_err(|e| fail(&e))?;
            directory
                .add_factor(ALICE, FactorKind::Totp, &sealed)
                .await
                .map_err(|e| fail(&e))?;
            totp
        }
    };
    Ok(AliceTotp {
        uri: totp.otpauth_uri(issuer, ALICE).map_err(|e| fail(&e))?,
        secret: totp.secret,
    })
}

//! New and changed factors: a TOTP enrolment (its secret kept, sealed, in the session store
//! until the person confirms it with a code), recovery-code sets, renaming and removing.
//! Everything saved goes to the directory sealed for its person.

use std::time::Duration;

use pforte_directory::{Directory, FactorKind};
use pforte_factors::recovery;
use pforte_factors::seal::{Purpose, Sealer};
use pforte_factors::totp::StoredTotp;
use pforte_session::{RecordKind, SessionStore, Timestamp};

use super::account::{Owner, PersonFactors, seal};
use super::code::Verdict;
use super::replay;
use super::{FactorError, Keeping};

/// How long a shown QR code may be confirmed.
const ENROLMENT_LIFETIME: Duration = Duration::from_secs(600);

/// The longest name a person may give a factor, in characters.
pub const MAX_NAME_CHARS: usize = 60;

/// A factor's name as typed: trimmed, control characters dropped, cut to [`MAX_NAME_CHARS`];
/// `fallback` when nothing is left.
pub fn clean_name(typed: &str, fallback: &str) -> String {
    let name: String = typed
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    if name.is_empty() {
        fallback.to_owned()
    } else {
        name
    }
}

/// The TOTP enrolment waiting in session `sid`, or a new one (a fresh secret) when there is
/// none: reloading the page shows the same QR code until it expires or is confirmed.
pub async fn pending_or_new_totp(
    store: &SessionStore,
    sealer: &Sealer,
    sid: &str,
    subject: &str,
    now: Timestamp,
) -> Result<StoredTotp, FactorError> {
    if let Some(pending) = pending_totp(store, sealer, sid, subject).await? {
        return Ok(pending);
    }
    let totp =
        StoredTotp::generate("", now.unix_secs()).map_err(|e| FactorError::Make(e.to_string()))?;
    let sealed = seal(sealer, Purpose::Enrolment, subject, &totp)?;
    store
        .put_record(
            RecordKind::Enrolment,
            sid,
            sealed.as_bytes(),
            ENROLMENT_LIFETIME,
        )
        .await?;
    Ok(totp)
}

async fn pending_totp(
    store: &SessionStore,
    sealer: &Sealer,
    sid: &str,
    subject: &str,
) -> Result<Option<StoredTotp>, FactorError> {
    let Some(bytes) = store.get_record(RecordKind::Enrolment, sid).await? else {
        return Ok(None);
    };
    let opened = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|sealed| sealer.open(Purpose::Enrolment, subject, sealed).ok())
        .and_then(|plain| serde_json::from_slice(&plain).ok());
    Ok(opened)
}

/// Confirms the enrolment waiting in session `sid` with a code from the app: a fresh right
/// code saves the factor (named `name`) and ends the enrolment; anything else saves nothing.
/// No enrolment waiting is [`Verdict::Wrong`].
pub async fn confirm_totp(
    keeping: Keeping<'_>,
    sid: &str,
    owner: Owner<'_>,
    name: &str,
    code: &str,
    now: Timestamp,
) -> Result<Verdict, FactorError> {
    let Keeping {
        sessions: store,
        directory,
        sealer,
    } = keeping;
    let Some(mut totp) = pending_totp(store, sealer, sid, owner.subject).await? else {
        return Ok(Verdict::Wrong);
    };
    let step = match totp.check(code, now.unix_secs()) {
        Ok(Some(step)) => step,
        Ok(None) => return Ok(Verdict::Wrong),
        Err(_) => return Ok(Verdict::Malformed),
    };
    if !replay::claim(store, owner.subject, step).await? {
        return Ok(Verdict::Replayed);
    }
    totp.name = name.to_owned();
    let sealed = seal(sealer, Purpose::Totp, owner.subject, &totp)?;
    directory
        .add_factor(owner.username, FactorKind::Totp, &sealed)
        .await?;
    store.take_record(RecordKind::Enrolment, sid).await?;
    Ok(Verdict::Totp)
}

/// Replaces the person's recovery codes with a new set and returns the codes to show, once.
/// Ten slow hashes, made in the shared pool of slow hashes.
pub async fn new_recovery_codes(
    directory: &Directory,
    sealer: &Sealer,
    owner: Owner<'_>,
    existing: &PersonFactors,
    now: Timestamp,
) -> Result<Vec<String>, FactorError> {
    let set = pforte_directory::slow_hash::run(move || recovery::generate_set(now.unix_secs()))
        .await
        .map_err(|e| FactorError::Make(e.to_string()))?
        .map_err(|e| FactorError::Make(e.to_string()))?;
    for old in &existing.recovery {
        directory
            .remove_factor(owner.username, FactorKind::RecoveryCode, &old.sealed)
            .await?;
    }
    let mut shown = Vec::with_capacity(set.len());
    for code in set {
        let sealed = seal(sealer, Purpose::RecoveryCode, owner.subject, &code.stored)?;
        directory
            .add_factor(owner.username, FactorKind::RecoveryCode, &sealed)
            .await?;
        shown.push(code.shown);
    }
    Ok(shown)
}

/// Removes the factor with `handle`; `false` when the person has none with it.
pub async fn remove(
    directory: &Directory,
    factors: &PersonFactors,
    owner: Owner<'_>,
    handle: &str,
) -> Result<bool, FactorError> {
    let found = factors
        .totp
        .iter()
        .find(|f| f.handle() == handle)
        .map(|f| (FactorKind::Totp, &f.sealed))
        .or_else(|| {
            factors
                .passkeys
                .iter()
                .find(|f| f.handle() == handle)
                .map(|f| (FactorKind::Passkey, &f.sealed))
        });
    let Some((kind, sealed)) = found else {
        return Ok(false);
    };
    Ok(directory
        .remove_factor(owner.username, kind, sealed)
        .await?)
}

/// Renames the authenticator app with `handle` (passkeys are renamed by `passkeys`); `false`
/// when the person has none with it or it changed meanwhile.
pub async fn rename_totp(
    directory: &Directory,
    sealer: &Sealer,
    factors: &PersonFactors,
    owner: Owner<'_>,
    handle: &str,
    name: &str,
) -> Result<bool, FactorError> {
    let Some(factor) = factors.totp.iter().find(|f| f.handle() == handle) else {
        return Ok(false);
    };
    let mut renamed = factor.value.clone();
    renamed.name = name.to_owned();
    let sealed = seal(sealer, Purpose::Totp, owner.subject, &renamed)?;
    Ok(directory
        .replace_factor(owner.username, FactorKind::Totp, &factor.sealed, &sealed)
        .await?)
}

/// Renames the passkey with `handle` (its record's `name`); `false` when the person has none
/// with it or it changed meanwhile.
pub async fn rename_passkey(
    directory: &Directory,
    sealer: &Sealer,
    factors: &PersonFactors,
    owner: Owner<'_>,
    handle: &str,
    name: &str,
) -> Result<bool, FactorError> {
    let Some(factor) = factors.passkeys.iter().find(|f| f.handle() == handle) else {
        return Ok(false);
    };
    let mut renamed = factor.value.clone();
    let Some(record) = renamed.as_object_mut() else {
        return Ok(false);
    };
    record.insert("name".to_owned(), serde_json::Value::from(name));
    let sealed = seal(sealer, Purpose::Passkey, owner.subject, &renamed)?;
    Ok(directory
        .replace_factor(owner.username, FactorKind::Passkey, &factor.sealed, &sealed)
        .await?)
}

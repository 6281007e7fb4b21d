//! A person's second factors: read from the directory, opened with the sealing key, each kept
//! with its sealed form so that it can be removed or replaced exactly (the directory compares
//! values). A value that does not open (damaged, sealed for someone else, or with a key no
//! longer configured) is left out and logged without its content: it cannot be used, and it
//! must not stop the person from using the others.

use pforte_directory::{Directory, FactorKind, StoredFactors};
use pforte_factors::recovery::StoredRecoveryCode;
use pforte_factors::seal::{Purpose, Sealer};
use pforte_factors::totp::StoredTotp;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::FactorError;

/// One opened factor and the sealed text the directory keeps for it.
#[derive(Debug, Clone)]
pub struct Opened<T> {
    /// The value as the directory has it.
    pub sealed: String,
    /// What it says.
    pub value: T,
}

impl<T> Opened<T> {
    /// A short stable handle for forms (remove, rename): the first 12 hex digits of the sealed
    /// value's SHA-256. It names the factor without showing any of it.
    pub fn handle(&self) -> String {
        handle_of(&self.sealed)
    }
}

/// The handle of a sealed value (see [`Opened::handle`]).
pub fn handle_of(sealed: &str) -> String {
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, sealed.as_bytes());
    hash.as_ref()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A person's opened factors.
#[derive(Debug, Clone, Default)]
pub struct PersonFactors {
    /// Authenticator apps.
    pub totp: Vec<Opened<StoredTotp>>,
    /// Unused recovery codes.
    pub recovery: Vec<Opened<StoredRecoveryCode>>,
    /// Passkeys and security keys, as the directory keeps them (opened by `passkeys`).
    pub passkeys: Vec<Opened<serde_json::Value>>,
}

impl PersonFactors {
    /// Whether the person has a factor that proves possession (recovery codes alone do not
    /// count: they are for losing one).
    pub fn has_second_factor(&self) -> bool {
        !self.totp.is_empty() || !self.passkeys.is_empty()
    }
}

/// Who the factors belong to: the login name the directory knows them by and the stable
/// subject their seals are bound to.
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    /// The login name.
    pub username: &'a str,
    /// The directory's stable id.
    pub subject: &'a str,
}

/// Reads and opens `owner`'s factors; `None` when the directory no longer knows the person (or
/// they are disabled).
pub async fn load(
    directory: &Directory,
    sealer: &Sealer,
    owner: Owner<'_>,
) -> Result<Option<PersonFactors>, FactorError> {
    let Some(stored) = directory.factors(owner.username).await? else {
        return Ok(None);
    };
    Ok(Some(open_all(sealer, owner.subject, stored)))
}

fn open_all(sealer: &Sealer, subject: &str, stored: StoredFactors) -> PersonFactors {
    PersonFactors {
        totp: open_each(sealer, Purpose::Totp, subject, stored.totp),
        recovery: open_each(
            sealer,
            Purpose::RecoveryCode,
            subject,
            stored.recovery_codes,
        ),
        passkeys: open_each(sealer, Purpose::Passkey, subject, stored.passkeys),
    }
}

fn open_each<T: DeserializeOwned>(
    sealer: &Sealer,
    purpose: Purpose,
    subject: &str,
    values: Vec<String>,
) -> Vec<Opened<T>> {
    values
        .into_iter()
        .filter_map(|sealed| match open_one(sealer, purpose, subject, &sealed) {
            Ok(value) => Some(Opened { sealed, value }),
            Err(reason) => {
                tracing::warn!(
                    kind = ?purpose,
                    factor = %handle_of(&sealed),
                    %reason,
                    "a stored second factor does not open; it is ignored"
                );
                None
            }
        })
        .collect()
}

fn open_one<T: DeserializeOwned>(
    sealer: &Sealer,
    purpose: Purpose,
    subject: &str,
    sealed: &str,
) -> Result<T, String> {
    let plain = sealer
        .open(purpose, subject, sealed)
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&plain).map_err(|e| format!("not a factor record: {e}"))
}

/// Seals `value` for `subject` as a factor of `purpose`.
pub fn seal<T: Serialize>(
    sealer: &Sealer,
    purpose: Purpose,
    subject: &str,
    value: &T,
) -> Result<String, FactorError> {
    let plain = serde_json::to_vec(value).map_err(|e| FactorError::Make(e.to_string()))?;
    Ok(sealer.seal(purpose, subject, &plain)?)
}

/// The directory's kind for a sealing purpose that is kept there.
pub fn kind_of(purpose: Purpose) -> Option<FactorKind> {
    match purpose {
        Purpose::Totp => Some(FactorKind::Totp),
        Purpose::Passkey => Some(FactorKind::Passkey),
        Purpose::RecoveryCode => Some(FactorKind::RecoveryCode),
        Purpose::Enrolment => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_that_do_not_open_are_left_out_and_the_rest_kept() {
        let sealer = Sealer::new(&pforte_factors::seal::generate_key().unwrap()).unwrap();
        let totp = StoredTotp::generate("phone", 1).unwrap();
        let good = seal(&sealer, Purpose::Totp, "uuid-a", &totp).unwrap();
        let someone_elses = seal(&sealer, Purpose::Totp, "uuid-b", &totp).unwrap();
        let factors = open_all(
            &sealer,
            "uuid-a",
            StoredFactors {
                totp: vec![good.clone(), someone_elses, "garbage".into()],
                passkeys: vec![],
                recovery_codes: vec![good.clone()],
            },
        );
        assert_eq!(factors.totp.len(), 1);
        assert_eq!(factors.totp[0].value, totp);
        assert_eq!(factors.totp[0].sealed, good);
        assert!(
            factors.recovery.is_empty(),
            "a TOTP value is no recovery code"
        );
        assert!(factors.has_second_factor());
        assert_eq!(factors.totp[0].handle().len(), 12);
    }
}

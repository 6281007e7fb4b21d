//! Checking a code a person typed: from an authenticator app (TOTP, with the replay guard) or a
//! recovery code (used up in the directory, atomically, so two replicas cannot both accept it).

use pforte_directory::{Directory, FactorKind};
use pforte_factors::recovery::TypedCode;
use pforte_session::{SessionStore, Timestamp};

use super::FactorError;
use super::account::{Owner, PersonFactors};
use super::replay;

/// What a typed code turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A fresh code of an authenticator app.
    Totp,
    /// An unused recovery code, now used up; this many are left.
    RecoveryCode {
        /// Unused codes left after this one.
        left: usize,
    },
    /// A right code of a step already used (or older than one used): replayed.
    Replayed,
    /// A well-formed code that matches nothing (or a recovery code already used).
    Wrong,
    /// Not the shape of any code.
    Malformed,
}

/// Checks a code from an authenticator app against every TOTP factor of the person.
pub async fn check_totp(
    store: &SessionStore,
    factors: &PersonFactors,
    subject: &str,
    code: &str,
    now: Timestamp,
) -> Result<Verdict, FactorError> {
    let now_unix = now.unix_secs();
    let mut malformed = factors.totp.is_empty();
    for factor in &factors.totp {
        match factor.value.check(code, now_unix) {
            Ok(Some(step)) => {
                return Ok(if replay::claim(store, subject, step).await? {
                    Verdict::Totp
                } else {
                    Verdict::Replayed
                });
            }
            Ok(None) => {}
            Err(pforte_factors::totp::TotpError::Malformed) => malformed = true,
            Err(e) => tracing::warn!(error = %e, "a TOTP factor cannot be checked"),
        }
    }
    Ok(if malformed && !factors.totp.is_empty() {
        Verdict::Malformed
    } else {
        Verdict::Wrong
    })
}

/// Checks a recovery code and uses it up. The hash check runs in the shared pool of slow
/// hashes.
pub async fn use_recovery_code(
    directory: &Directory,
    factors: &PersonFactors,
    owner: Owner<'_>,
    typed: &str,
) -> Result<Verdict, FactorError> {
    let Some(code) = TypedCode::parse(typed) else {
        return Ok(Verdict::Malformed);
    };
    let Some(candidate) = factors
        .recovery
        .iter()
        .find(|c| c.value.id == code.id())
        .cloned()
    else {
        return Ok(Verdict::Wrong);
    };
    let stored = candidate.value.clone();
    let matches = pforte_directory::slow_hash::run(move || code.matches(&stored))
        .await
        .map_err(|e| FactorError::Make(e.to_string()))?;
    if !matches {
        return Ok(Verdict::Wrong);
    }
    if !directory
        .remove_factor(owner.username, FactorKind::RecoveryCode, &candidate.sealed)
        .await?
    {
        // Another request used it first.
        return Ok(Verdict::Wrong);
    }
    Ok(Verdict::RecoveryCode {
        left: factors.recovery.len().saturating_sub(1),
    })
}

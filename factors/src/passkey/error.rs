//! Why a passkey ceremony was refused: one variant per condition the login host answers
//! differently (a page, a log line, a metric label), never a panic.

use webauthn_rs::prelude::WebauthnError;

/// A refused or impossible passkey operation.
///
/// The variants from [`PasskeyError::TooLarge`] on are the browser's (or an attacker's) doing
/// and deserve a 4xx answer; [`PasskeyError::Origin`] and [`PasskeyError::Internal`] are the
/// deployment's.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// The login host's origin cannot serve as a WebAuthn relying party (configuration).
    #[error("passkeys cannot be offered on {origin}: {reason}")]
    Origin {
        /// The origin as configured.
        origin: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A browser's answer, or a ceremony state, is larger than anything a real one could be.
    #[error("the passkey answer is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The browser's answer is not the JSON of a WebAuthn credential.
    #[error("the passkey answer is not a WebAuthn credential: {0}")]
    Malformed(String),
    /// The kept ceremony state is garbled, altered, or belongs to another kind of ceremony.
    #[error("the passkey ceremony state is unreadable: {0}")]
    State(&'static str),
    /// The name given to a passkey is empty, too long or holds control characters.
    #[error("a passkey name must be 1 to {max} characters without control characters", max = super::stored::MAX_NAME_CHARS)]
    Name,
    /// A stored passkey (as kept in the directory) cannot be read back.
    #[error("a stored passkey is unreadable: {0}")]
    Stored(String),
    /// An authentication was asked for a person without passkeys.
    #[error("the person has no passkey")]
    NoCredentials,
    /// The answer was made with a credential that is not (or no longer) the person's.
    #[error("the passkey used is not registered for this person")]
    UnknownCredential,
    /// The answer was made for another site: a relying-party id or origin that is not ours
    /// (what a phishing site relaying the ceremony produces).
    #[error("the passkey answer was made for another origin")]
    WrongOrigin,
    /// The answer signs another challenge than this ceremony's: replayed or from another ceremony.
    #[error("the passkey answer does not answer this ceremony's challenge")]
    ChallengeMismatch,
    /// The authenticator did not verify the person (PIN, biometrics), which is required.
    #[error("the authenticator did not verify the user")]
    UserNotVerified,
    /// The signature counter did not move forward: the credential may have been cloned.
    /// The crate recommends treating the credential as compromised.
    #[error("the passkey's signature counter went back: the credential may be cloned")]
    PossibleClone,
    /// The backup flags contradict what was registered (backup-eligible cannot be lost, and a
    /// credential that was not backup-eligible cannot be backed up): the credential must be
    /// registered again.
    #[error("the passkey's backup flags are inconsistent with its registration")]
    BackupFlags,
    /// The authenticator already holds a credential registered for this person.
    #[error("this authenticator is already registered")]
    AlreadyRegistered,
    /// A passwordless answer without a user handle (the credential is not discoverable).
    #[error("the passkey answer names no user")]
    NoUserHandle,
    /// Any other refusal by webauthn-rs (bad signature, unsupported key, bad attestation data).
    #[error("the passkey answer was refused")]
    Refused(#[source] WebauthnError),
    /// Options or state could not be serialised (a bug, not bad input).
    #[error("passkey ceremony data could not be serialised: {0}")]
    Internal(String),
}

impl From<WebauthnError> for PasskeyError {
    fn from(e: WebauthnError) -> Self {
        use WebauthnError as W;
        match e {
            W::InvalidRPOrigin | W::InvalidRPIDHash => Self::WrongOrigin,
            W::MismatchedChallenge | W::ChallengeNotFound | W::InvalidClientDataType => {
                Self::ChallengeMismatch
            }
            W::UserNotVerified | W::UserNotPresent => Self::UserNotVerified,
            W::CredentialPossibleCompromise => Self::PossibleClone,
            W::CredentialBackupEligibilityInconsistent => Self::BackupFlags,
            W::CredentialNotFound => Self::UnknownCredential,
            W::CredentialExcludedFromRequest | W::CredentialAlreadyExists => {
                Self::AlreadyRegistered
            }
            W::InvalidUserUniqueId => Self::NoUserHandle,
            W::ParseBase64Failure(_)
            | W::ParseCBORFailure(_)
            | W::ParseJSONFailure(_)
            | W::ParseNOMFailure
            | W::ParseInsufficientBytesAvailable => Self::Malformed(e.to_string()),
            other => Self::Refused(other),
        }
    }
}

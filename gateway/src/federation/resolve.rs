//! The local person a verified login through a provider becomes.
//!
//! ```text
//! guest provider ─▶ groups mapped by the file's rules ─▶ a person only the provider knows
//!                   (subject guest-…, name user@provider)  | no rule, no default ─▶ refused
//! link provider  ─▶ link (issuer, sub) known ─▶ that directory subject, read fresh
//!                   (disabled or deleted since ─▶ refused: offboarding works)
//!                └▶ no link ─▶ the verified claim ─▶ one directory person by mail or name
//!                              ─▶ link kept (refused if the person is linked to another account)
//! ```

use pforte_directory::{Directory, DirectoryError, UserRecord};
use pforte_federation::identity::{guest_display_name, guest_subject, guest_username};
use pforte_federation::link::{LinkRefusal, Match};
use pforte_federation::{Mode, Provider, UpstreamClaims};
use pforte_session::{SessionStore, StoreError};
use serde_json::Value;

use super::records::{self, Linked};

/// Who a login is locally.
#[derive(Debug)]
pub struct Local {
    /// The person as sessions and the policy see them.
    pub person: UserRecord,
    /// Whether they exist only through the provider.
    pub guest: bool,
}

/// Why a verified login does not become a local person.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The claim that would link is missing or the provider does not vouch for it.
    #[error(transparent)]
    Unverified(#[from] LinkRefusal),
    /// No enabled directory person has the claim's value, or the linked person is gone.
    #[error("no enabled directory person matches")]
    NoPerson,
    /// Two directory people have the claim's value: a link must name one.
    #[error("two directory people match")]
    Ambiguous,
    /// The person is linked to another account at this provider.
    #[error("the directory person is linked to another account at this provider")]
    LinkedElsewhere,
    /// A guest no rule maps, at a provider without a default group.
    #[error(transparent)]
    Unmapped(#[from] pforte_federation::Unmapped),
    /// A link provider without a directory to link to.
    #[error("no directory is configured to link to")]
    NoDirectory,
    /// The directory did not answer (or two people share the claim's value).
    #[error("the directory: {0}")]
    Directory(#[from] DirectoryError),
    /// The session store did not answer.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Refusal {
    /// The reason's name in the audit log (`federated_login_refused`).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Unverified(_) => "unverified",
            Self::NoPerson | Self::NoDirectory | Self::Ambiguous => "no_person",
            Self::LinkedElsewhere => "linked_elsewhere",
            Self::Unmapped(_) => "unmapped",
            Self::Directory(_) | Self::Store(_) => "unavailable",
        }
    }
}

/// The local person for `claims`, verified from `provider`.
pub async fn resolve(
    provider: &Provider,
    claims: &UpstreamClaims,
    directory: Option<&Directory>,
    store: &SessionStore,
) -> Result<Local, Refusal> {
    match &provider.mode {
        Mode::Guest(rules) => {
            let groups = rules.map(&claims.all)?;
            let username = guest_username(
                &claims.all,
                &claims.sub,
                &provider.username_claim,
                &provider.id,
            );
            let verified_email = claims.all.get("email_verified") == Some(&Value::Bool(true));
            let person = UserRecord {
                subject: guest_subject(&provider.issuer, &claims.sub),
                display_name: guest_display_name(&claims.all, &username),
                username,
                email: claims
                    .all
                    .get("email")
                    .and_then(Value::as_str)
                    .filter(|_| verified_email)
                    .map(str::to_owned),
                groups,
            };
            Ok(Local {
                person,
                guest: true,
            })
        }
        Mode::Link(rule) => {
            let directory = directory.ok_or(Refusal::NoDirectory)?;
            if let Some(subject) =
                records::linked_subject(store, &provider.issuer, &claims.sub).await?
            {
                let person = directory
                    .find_by_subject(&subject)
                    .await?
                    .ok_or(Refusal::NoPerson)?;
                return Ok(Local {
                    person,
                    guest: false,
                });
            }
            let value = rule.value(&claims.all)?;
            let found = match rule.match_by {
                Match::Mail => directory.find_by_mail(value).await,
                Match::Username => directory.lookup(value).await,
            };
            let person = match found {
                Ok(Some(person)) => person,
                Ok(None) => return Err(Refusal::NoPerson),
                Err(DirectoryError::Ambiguous) => return Err(Refusal::Ambiguous),
                Err(error) => return Err(error.into()),
            };
            match records::link(store, &provider.issuer, &claims.sub, &person.subject).await? {
                Linked::Yes => Ok(Local {
                    person,
                    guest: false,
                }),
                Linked::Elsewhere => Err(Refusal::LinkedElsewhere),
            }
        }
    }
}

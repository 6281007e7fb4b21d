//! The TOTP replay guard: a code is accepted only for a step newer than the last one accepted
//! for the person, on any replica. The last step is a record in the shared session store that
//! only moves forward: created with an insert that only one replica wins, then moved with
//! compare-and-set. It lives three steps, after which no code of its step is accepted anyway.

use std::time::Duration;

use pforte_factors::totp::{STEP_SECONDS, is_fresh};
use pforte_session::{RecordKind, SessionStore, StoreError};

/// How long the last accepted step is remembered: past the window of its codes.
const REMEMBER: Duration = Duration::from_secs(3 * STEP_SECONDS);

/// How often a claim retries after losing a race to another replica.
const ATTEMPTS: usize = 4;

/// Claims `step` for `subject`: `true` when no code of this or a later step was accepted
/// before, and now none can be.
pub async fn claim(store: &SessionStore, subject: &str, step: u64) -> Result<bool, StoreError> {
    let key = record_key(subject);
    let new = step.to_string();
    for _ in 0..ATTEMPTS {
        match store.get_record(RecordKind::TotpStep, &key).await? {
            None => {
                if store
                    .insert_record(RecordKind::TotpStep, &key, new.as_bytes(), REMEMBER)
                    .await?
                {
                    return Ok(true);
                }
            }
            Some(current) => {
                let last = std::str::from_utf8(&current)
                    .ok()
                    .and_then(|text| text.parse::<u64>().ok());
                if !is_fresh(step, last) {
                    return Ok(false);
                }
                if store
                    .replace_record(
                        RecordKind::TotpStep,
                        &key,
                        &current,
                        new.as_bytes(),
                        REMEMBER,
                    )
                    .await?
                {
                    return Ok(true);
                }
            }
        }
    }
    Ok(false)
}

/// The record's key: a digest of the subject, so any subject fits the store's key limit.
fn record_key(subject: &str) -> String {
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, subject.as_bytes());
    hash.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use pforte_session::{Backend, Clock, StoreSettings, Timestamp};

    use super::*;

    async fn store(clock: &Clock) -> SessionStore {
        let settings = StoreSettings {
            backend: Backend::Memory,
            ..StoreSettings::default()
        };
        SessionStore::open(&settings, clock.clone()).await.unwrap()
    }

    #[tokio::test]
    async fn a_step_is_claimed_once_and_older_steps_never_after_it() {
        let clock = Clock::manual(Timestamp::from_unix_secs(1_000_000));
        let store = store(&clock).await;
        assert!(claim(&store, "uuid-a", 100).await.unwrap());
        assert!(
            !claim(&store, "uuid-a", 100).await.unwrap(),
            "the same step"
        );
        assert!(!claim(&store, "uuid-a", 99).await.unwrap(), "an older step");
        assert!(
            claim(&store, "uuid-b", 100).await.unwrap(),
            "another person"
        );
        assert!(claim(&store, "uuid-a", 101).await.unwrap(), "the next step");
    }

    #[tokio::test]
    async fn a_damaged_record_is_overwritten_rather_than_locking_the_person_out() {
        let clock = Clock::manual(Timestamp::from_unix_secs(1_000_000));
        let store = store(&clock).await;
        store
            .put_record(RecordKind::TotpStep, &record_key("a"), b"junk", REMEMBER)
            .await
            .unwrap();
        assert!(claim(&store, "a", 5).await.unwrap());
        assert!(!claim(&store, "a", 5).await.unwrap());
    }
}

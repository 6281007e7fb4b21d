//! The order of a login, kept apart from LDAP so that tests can watch it:
//!
//! ```text
//! user search (cached, found or not) ──▶ bind as the DN, or the dummy bind ──▶ right password
//!                                                                            ──▶ group walk (cached)
//! ```
//!
//! Everything before the bind is the same for every name: one user search, or none while the
//! answer for that name, found or not, is cached. The work that only an existing account needs
//! (the group walk) waits until the password is right, so neither the answer nor the work done
//! tells an unknown name from a wrong password.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cache::TtlCache;
use crate::error::{AuthError, DirectoryError, FailureReason};
use crate::nesting::normalise_dn;
use crate::record::UserRecord;

use super::user::UserEntry;

/// What a login asks of the directory; [`LdapDirectory`](super::LdapDirectory) runs each step on
/// its pools, the tests count them.
pub(crate) trait Steps {
    /// The user search: the entry behind `username` with its disabled flag, or `None`.
    async fn find(&self, username: &str) -> Result<Option<UserEntry>, DirectoryError>;
    /// Whether `password` is the password of `dn`.
    async fn bind(&self, dn: &str, password: &str) -> Result<bool, DirectoryError>;
    /// A bind for a name without an entry, whose answer does not matter: it costs what a bind
    /// costs.
    async fn bind_as_nobody(&self, password: &str);
    /// The record of `user` with its groups walked.
    async fn groups(&self, user: &UserEntry) -> Result<UserRecord, DirectoryError>;
}

/// Answers kept for the cache ttl: user searches by lowercased username (a name without an
/// entry too, so a repeated unknown name costs what a repeated known one does) and group walks by
/// DN. Each map holds at most the cache capacity.
#[derive(Debug)]
pub(crate) struct Caches {
    entries: TtlCache<Option<Arc<UserEntry>>>,
    records: TtlCache<UserRecord>,
}

impl Caches {
    /// Caches keeping each answer for `ttl`, at most `capacity` of each kind.
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            entries: TtlCache::new(ttl, capacity),
            records: TtlCache::new(ttl, capacity),
        }
    }

    /// The entry behind `username`, from the cache or one user search; found or not, the answer
    /// is kept. `true` with it when it came from the cache.
    async fn entry(
        &self,
        steps: &impl Steps,
        username: &str,
    ) -> Result<(Option<Arc<UserEntry>>, bool), DirectoryError> {
        let key = username.to_lowercase();
        if let Some(cached) = self.entries.get(&key, Instant::now()) {
            return Ok((cached, true));
        }
        let found = steps.find(username).await?.map(Arc::new);
        self.entries.insert(key, found.clone(), Instant::now());
        Ok((found, false))
    }

    /// The record of `user` with groups, from the cache or a group walk.
    async fn record(
        &self,
        steps: &impl Steps,
        user: &UserEntry,
    ) -> Result<UserRecord, DirectoryError> {
        let key = normalise_dn(&user.entry.dn);
        if let Some(record) = self.records.get(&key, Instant::now()) {
            return Ok(record);
        }
        let record = steps.groups(user).await?;
        self.records.insert(key, record.clone(), Instant::now());
        Ok(record)
    }
}

/// Checks `password` for `username` (both already checked as input): user search, bind, and only
/// after a right password the group walk. A disabled account is refused as disabled whatever the
/// password, after its bind like every other account, and its groups are never walked. A right
/// password on a cached entry reads the entry and the groups again before it succeeds, so an
/// account disabled within the cache's lifetime cannot log in again.
pub(crate) async fn authenticate(
    steps: &impl Steps,
    caches: &Caches,
    username: &str,
    password: &str,
) -> Result<UserRecord, AuthError> {
    let (found, cached) = caches.entry(steps, username).await?;
    let Some(user) = found else {
        steps.bind_as_nobody(password).await;
        return Err(AuthError::InvalidCredentials(FailureReason::UnknownUser));
    };
    // A server may refuse a disabled account's bind with an error of its own rather than
    // invalidCredentials (389-DS: unwillingToPerform, "Account inactivated" for nsAccountLock);
    // the account is refused as disabled all the same, not reported as a directory failure.
    let bind = steps.bind(&user.entry.dn, password).await;
    if user.disabled {
        return Err(AuthError::InvalidCredentials(FailureReason::Disabled));
    }
    let password_ok = bind?;
    if !password_ok {
        return Err(AuthError::InvalidCredentials(FailureReason::WrongPassword));
    }
    if cached {
        // The cached answer may be older than a disable made since (by `pforte-admin` in
        // another process): a right password opens a session only on a fresh entry.
        return reread(steps, caches, username)
            .await?
            .ok_or(AuthError::InvalidCredentials(FailureReason::Disabled));
    }
    Ok(caches.record(steps, &user).await?)
}

/// The enabled user called `username` with groups; `None` for an unknown or disabled account.
pub(crate) async fn lookup(
    steps: &impl Steps,
    caches: &Caches,
    username: &str,
) -> Result<Option<UserRecord>, DirectoryError> {
    match caches.entry(steps, username).await?.0 {
        Some(user) if !user.disabled => Ok(Some(caches.record(steps, &user).await?)),
        _ => Ok(None),
    }
}

/// The enabled user called `username` with groups, read fresh past both caches (a session's
/// periodic identity refresh must see a change made seconds ago); the fresh answers replace the
/// cached ones, so a login right after sees them too. `None` for an unknown or disabled account.
pub(crate) async fn reread(
    steps: &impl Steps,
    caches: &Caches,
    username: &str,
) -> Result<Option<UserRecord>, DirectoryError> {
    let found = steps.find(username).await?.map(Arc::new);
    caches
        .entries
        .insert(username.to_lowercase(), found.clone(), Instant::now());
    let Some(user) = found.filter(|user| !user.disabled) else {
        return Ok(None);
    };
    let record = steps.groups(&user).await?;
    caches
        .records
        .insert(normalise_dn(&user.entry.dn), record.clone(), Instant::now());
    Ok(Some(record))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::ldap::entry::Entry;
    use crate::ldap::settings::LdapSettings;
    use crate::ldap::user::record;

    /// One step a login took.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Call {
        Find(String),
        Bind(String),
        BindAsNobody,
        Groups(String),
    }

    /// A directory with alice (password alicepw) and disabled dave (davepw), recording each step.
    #[derive(Default)]
    struct Fake {
        calls: Mutex<Vec<Call>>,
        down: bool,
        /// dave's binds fail with an error, as 389-DS answers for an nsAccountLock'ed account.
        refuses_locked_binds: bool,
        /// Alice is disabled from now on (as by an admin in another process).
        disable_alice: std::sync::atomic::AtomicBool,
    }

    impl Fake {
        fn log(&self, call: Call) {
            self.calls.lock().unwrap().push(call);
        }

        /// The steps taken since the last call.
        fn take(&self) -> Vec<Call> {
            std::mem::take(&mut *self.calls.lock().unwrap())
        }
    }

    fn dn(name: &str) -> String {
        format!("uid={name},ou=people")
    }

    impl Steps for Fake {
        async fn find(&self, username: &str) -> Result<Option<UserEntry>, DirectoryError> {
            self.log(Call::Find(username.to_owned()));
            if self.down {
                return Err(DirectoryError::PoolTimeout);
            }
            let name = username.to_lowercase();
            Ok(["alice", "dave"]
                .contains(&name.as_str())
                .then(|| UserEntry {
                    entry: Entry::new(
                        &dn(&name),
                        &[
                            ("entryUUID", &[name.as_bytes()]),
                            ("uid", &[name.as_bytes()]),
                        ],
                    ),
                    disabled: name == "dave"
                        || (name == "alice"
                            && self.disable_alice.load(std::sync::atomic::Ordering::SeqCst)),
                }))
        }

        async fn bind(&self, dn: &str, password: &str) -> Result<bool, DirectoryError> {
            self.log(Call::Bind(dn.to_owned()));
            if self.refuses_locked_binds && dn == self::dn("dave") {
                return Err(DirectoryError::Operation {
                    url: "ldap://389-ds".into(),
                    message: "rc=53 (unwillingToPerform): Account inactivated.".into(),
                });
            }
            Ok(dn.strip_prefix("uid=").and_then(|r| r.split(',').next())
                == password.strip_suffix("pw"))
        }

        async fn bind_as_nobody(&self, _password: &str) {
            self.log(Call::BindAsNobody);
        }

        async fn groups(&self, user: &UserEntry) -> Result<UserRecord, DirectoryError> {
            self.log(Call::Groups(user.entry.dn.clone()));
            record(&LdapSettings::default(), &user.entry, vec!["staff".into()])
        }
    }

    fn caches() -> Caches {
        Caches::new(Duration::from_secs(30), 100)
    }

    fn refusal(result: Result<UserRecord, AuthError>) -> FailureReason {
        match result {
            Err(AuthError::InvalidCredentials(reason)) => reason,
            other => panic!("expected invalid credentials, got {other:?}"),
        }
    }

    /// Which kind of work each step is: a search, a bind, a group walk.
    fn kinds(calls: &[Call]) -> Vec<&'static str> {
        calls
            .iter()
            .map(|c| match c {
                Call::Find(_) => "search",
                Call::Bind(_) | Call::BindAsNobody => "bind",
                Call::Groups(_) => "groups",
            })
            .collect()
    }

    #[tokio::test]
    async fn a_wrong_password_and_an_unknown_name_do_the_same_work() {
        let (fake, caches) = (Fake::default(), caches());
        let wrong = refusal(authenticate(&fake, &caches, "alice", "bobpw").await);
        let wrong_calls = fake.take();
        let unknown = refusal(authenticate(&fake, &caches, "mallory", "bobpw").await);
        let unknown_calls = fake.take();
        assert_eq!(wrong, FailureReason::WrongPassword);
        assert_eq!(unknown, FailureReason::UnknownUser);
        assert_eq!(
            wrong_calls,
            [Call::Find("alice".into()), Call::Bind(dn("alice"))]
        );
        assert_eq!(
            unknown_calls,
            [Call::Find("mallory".into()), Call::BindAsNobody]
        );
        assert_eq!(kinds(&wrong_calls), kinds(&unknown_calls));
    }

    #[tokio::test]
    async fn a_name_without_entry_is_cached_like_one_with() {
        let (fake, caches) = (Fake::default(), caches());
        for name in ["alice", "mallory"] {
            let _ = authenticate(&fake, &caches, name, "bobpw").await;
        }
        fake.take();
        let _ = authenticate(&fake, &caches, "ALICE", "bobpw").await;
        let warm_wrong = fake.take();
        let _ = authenticate(&fake, &caches, "Mallory", "bobpw").await;
        let warm_unknown = fake.take();
        assert_eq!(warm_wrong, [Call::Bind(dn("alice"))], "no search again");
        assert_eq!(warm_unknown, [Call::BindAsNobody], "no search again");
        assert_eq!(
            lookup(&fake, &caches, "mallory").await.unwrap(),
            None,
            "lookups share the cache"
        );
        assert_eq!(fake.take(), []);
    }

    #[tokio::test]
    async fn groups_are_walked_after_a_right_password_only_and_then_reused() {
        let (fake, caches) = (Fake::default(), caches());
        let alice = authenticate(&fake, &caches, "alice", "alicepw")
            .await
            .unwrap();
        assert_eq!(alice.groups, ["staff"]);
        assert_eq!(
            fake.take(),
            [
                Call::Find("alice".into()),
                Call::Bind(dn("alice")),
                Call::Groups(dn("alice"))
            ]
        );
        assert_eq!(lookup(&fake, &caches, "alice").await.unwrap(), Some(alice));
        assert_eq!(fake.take(), [], "the lookup is answered from the caches");
        let again = authenticate(&fake, &caches, "alice", "alicepw").await;
        assert!(again.is_ok());
        assert_eq!(
            fake.take(),
            [
                Call::Bind(dn("alice")),
                Call::Find("alice".into()),
                Call::Groups(dn("alice"))
            ],
            "a right password on a cached entry is confirmed on a fresh one"
        );
    }

    #[tokio::test]
    async fn an_account_disabled_after_it_was_cached_cannot_log_in_again() {
        let (fake, caches) = (Fake::default(), caches());
        authenticate(&fake, &caches, "alice", "alicepw")
            .await
            .unwrap();
        fake.disable_alice
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let reason = refusal(authenticate(&fake, &caches, "alice", "alicepw").await);
        assert_eq!(reason, FailureReason::Disabled);
        assert_eq!(
            lookup(&fake, &caches, "alice").await.unwrap(),
            None,
            "the cache learnt it"
        );
    }

    #[tokio::test]
    async fn a_reread_asks_past_the_caches_and_refreshes_them() {
        let (fake, caches) = (Fake::default(), caches());
        let alice = lookup(&fake, &caches, "alice").await.unwrap();
        fake.take();
        assert_eq!(reread(&fake, &caches, "alice").await.unwrap(), alice);
        assert_eq!(
            fake.take(),
            [Call::Find("alice".into()), Call::Groups(dn("alice"))],
            "a fresh search and group walk although both were cached"
        );
        assert_eq!(reread(&fake, &caches, "dave").await.unwrap(), None);
        assert_eq!(
            fake.take(),
            [Call::Find("dave".into())],
            "no walk for a disabled account"
        );
        assert_eq!(lookup(&fake, &caches, "alice").await.unwrap(), alice);
        assert_eq!(fake.take(), [], "the fresh answers went into the caches");
        let down = Fake {
            down: true,
            ..Fake::default()
        };
        assert!(
            reread(&down, &caches, "alice").await.is_err(),
            "an outage is an error, never None"
        );
    }

    #[tokio::test]
    async fn a_disabled_account_is_refused_after_its_bind_whatever_the_password() {
        let (fake, caches) = (Fake::default(), caches());
        for password in ["davepw", "alicepw"] {
            let reason = refusal(authenticate(&fake, &caches, "dave", password).await);
            assert_eq!(reason, FailureReason::Disabled, "{password}");
        }
        assert_eq!(
            fake.take(),
            [
                Call::Find("dave".into()),
                Call::Bind(dn("dave")),
                Call::Bind(dn("dave"))
            ],
            "bound each time, groups never walked"
        );
        assert_eq!(lookup(&fake, &caches, "dave").await.unwrap(), None);
        assert_eq!(fake.take(), []);
    }

    #[tokio::test]
    async fn a_disabled_account_whose_bind_the_server_refuses_is_refused_as_disabled() {
        let fake = Fake {
            refuses_locked_binds: true,
            ..Fake::default()
        };
        let reason = refusal(authenticate(&fake, &caches(), "dave", "davepw").await);
        assert_eq!(reason, FailureReason::Disabled);
        assert_eq!(
            fake.take(),
            [Call::Find("dave".into()), Call::Bind(dn("dave"))]
        );
    }

    #[tokio::test]
    async fn a_failed_search_binds_nobody_and_is_not_cached() {
        let (fake, caches) = (
            Fake {
                down: true,
                ..Fake::default()
            },
            caches(),
        );
        for _ in 0..2 {
            let result = authenticate(&fake, &caches, "alice", "alicepw").await;
            assert!(
                matches!(result, Err(AuthError::Unavailable(_))),
                "{result:?}"
            );
        }
        assert_eq!(
            fake.take(),
            [Call::Find("alice".into()), Call::Find("alice".into())]
        );
    }
}

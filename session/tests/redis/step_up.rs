//! Step-up in Redis: a second factor checked on one replica raises the session on every
//! replica within the revocation bound, without ending it; sessions written by the version
//! before second factors still read and step up.

use std::time::Duration;

use pforte_policy::LoginStrength;
use pforte_session::{AuthMethod, SessionId, SessionStore, Timestamp};

use crate::support::{
    login, redis_settings, replica, shared_url, unique_prefix, unique_subject, within,
};

const BOUND: Duration = Duration::from_secs(1);

/// Two replicas under a fresh prefix, and that prefix.
async fn two_replicas() -> (SessionStore, SessionStore, String) {
    let prefix = unique_prefix();
    let settings = redis_settings(&shared_url(), &prefix);
    (replica(&settings).await, replica(&settings).await, prefix)
}

async fn raw<T: redis::FromRedisValue>(command: &mut redis::Cmd) -> T {
    let mut conn = redis::Client::open(shared_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    command.query_async(&mut conn).await.unwrap()
}

/// Rewrites a session's display name in Redis behind the stores' backs (no publication), and
/// says whether `store` still answers with another name: then it answers from its cache.
async fn answers_from_cache(store: &SessionStore, id: &SessionId, key: &str, probe: u32) -> bool {
    let data: String = raw(redis::cmd("HGET").arg(key).arg("d")).await;
    let mut data: serde_json::Value = serde_json::from_str(&data).unwrap();
    let name = format!("probe {probe}");
    data["dn"] = name.clone().into();
    let () = raw(redis::cmd("HSET").arg(key).arg("d").arg(data.to_string())).await;
    let seen = store.get(id, Timestamp::now()).await.unwrap().unwrap();
    seen.display_name != name
}

#[tokio::test]
async fn a_step_up_on_one_replica_is_seen_on_the_other_within_the_bound() {
    let (a, b, prefix) = two_replicas().await;
    let now = Timestamp::now();
    let (id, session) = a.create(login(&unique_subject()), now).await.unwrap();
    assert!(a.add_client(&session.sid, "wiki").await.unwrap());
    let key = format!("{prefix}s:{}", session.sid);

    // B answers from its cache (once its subscriber has confirmed it), as after any request:
    // without the step-up's publication it would keep its copy for good.
    let mut probe = 0;
    let warm = within(BOUND * 2, || {
        probe += 1;
        answers_from_cache(&b, &id, &key, probe)
    })
    .await;
    assert!(warm.is_some(), "B never answered from its cache");
    let cached = b.get(&id, now).await.unwrap().unwrap();
    assert_eq!(cached.login, LoginStrength::Password);

    // The second factor, checked a minute later (the manual time the caller passes).
    let later = now.plus(Duration::from_secs(60));
    let raised = a
        .step_up(&session.sid, AuthMethod::Totp, later)
        .await
        .unwrap()
        .expect("a live session steps up");
    assert_eq!(raised.login, LoginStrength::Mfa);
    assert_eq!(raised.methods, [AuthMethod::Password, AuthMethod::Totp]);
    assert_eq!(raised.auth_time, later);
    let on_a = a.get(&id, later).await.unwrap().unwrap();
    assert_eq!(
        on_a.login,
        LoginStrength::Mfa,
        "at once on the replica that made it"
    );

    let took = within(BOUND, || async {
        b.get(&id, later).await.unwrap().unwrap().login == LoginStrength::Mfa
    })
    .await;
    assert!(
        took.is_some(),
        "replica B still sees a password session after {BOUND:?}"
    );
    let on_b = b.get(&id, later).await.unwrap().unwrap();
    assert_eq!(*on_b, *on_a);
    assert_eq!(on_b.methods, [AuthMethod::Password, AuthMethod::Totp]);
    assert_eq!(on_b.auth_time, later);
    assert_eq!(
        on_b.clients,
        ["wiki"],
        "the session is the same one, clients and all"
    );
    assert!(
        a.next_logout(Duration::ZERO).await.unwrap().is_none(),
        "a step-up is not a logout: no notice for the session's clients"
    );

    // The same factor twice is recorded once; another one is appended.
    a.step_up(&session.sid, AuthMethod::Totp, later)
        .await
        .unwrap();
    let both = b
        .step_up(&session.sid, AuthMethod::SecurityKey, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        both.methods,
        [
            AuthMethod::Password,
            AuthMethod::Totp,
            AuthMethod::SecurityKey
        ]
    );
}

#[tokio::test]
async fn an_ended_session_does_not_step_up() {
    let (a, b, _) = two_replicas().await;
    let now = Timestamp::now();
    let (id, session) = a.create(login(&unique_subject()), now).await.unwrap();
    assert!(a.revoke(&session.sid).await.unwrap());
    assert!(
        b.step_up(&session.sid, AuthMethod::Totp, now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        a.get(&id, now).await.unwrap().is_none(),
        "nothing is brought back"
    );
}

#[tokio::test]
async fn a_session_written_before_second_factors_reads_and_steps_up() {
    let (a, b, prefix) = two_replicas().await;
    let now = Timestamp::now();
    let (id, session) = a.create(login(&unique_subject()), now).await.unwrap();
    let key = format!("{prefix}s:{}", session.sid);
    // The `d` field as the previous version wrote it: no methods, no device.
    let old = format!(
        r#"{{"n":"alice","dn":"Alice Liddell","e":"alice@example.org","g":["staff"],"lg":"password","at":{t},"cr":{t},"ax":{ax},"ip":"192.0.2.10"}}"#,
        t = now.unix_secs(),
        ax = session.absolute_expires.unix_secs(),
    );
    let () = raw(redis::cmd("HSET").arg(&key).arg("d").arg(old)).await;

    let read = b
        .get(&id, now)
        .await
        .unwrap()
        .expect("an old session still reads");
    assert_eq!(read.methods, [AuthMethod::Password]);
    assert_eq!(read.device, None);
    assert_eq!(read.login, LoginStrength::Password);
    assert_eq!(read.groups, ["staff"]);

    let raised = b
        .step_up(&session.sid, AuthMethod::RecoveryCode, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        raised.methods,
        [AuthMethod::Password, AuthMethod::RecoveryCode]
    );
    let seen = a.get(&id, now).await.unwrap().unwrap();
    assert_eq!(seen.login, LoginStrength::Mfa);
    assert_eq!(
        seen.methods,
        [AuthMethod::Password, AuthMethod::RecoveryCode]
    );
}

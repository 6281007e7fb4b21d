//! The Redis store against a real redis-server: what two gateway replicas sharing it must see.
//!
//! Most tests use the harness's Redis (PFORTE_TEST_REDIS_URL), each under its own key prefix;
//! the ones that count commands, kill the server or speak TLS start a redis-server of their own.

#![allow(clippy::unwrap_used, clippy::expect_used)]
// These tests wait for a real Redis and measure real time.
#![allow(clippy::disallowed_methods)]

mod failover;
mod identity;
mod records;
mod step_up;
mod support;
mod tickets;

use std::collections::HashMap;
use std::time::Duration;

use pforte_session::{
    Clock, RedisSettings, RedisStore, SessionId, SessionSettings, SessionStore, StoreError,
    Throttle, ThrottleKind, ThrottleSettings, Timestamp,
};
use support::{
    PrivateRedis, login, redis_settings, replica, two_replicas, unique_prefix, unique_subject,
    within,
};

const BOUND: Duration = Duration::from_secs(1);

#[tokio::test]
async fn a_session_created_on_one_replica_is_read_on_another() {
    let (a, b) = two_replicas().await;
    let now = Timestamp::now();
    let (id, created) = a.create(login(&unique_subject()), now).await.unwrap();
    let read = b
        .get(&id, now)
        .await
        .unwrap()
        .expect("replica B knows the session");
    assert_eq!(*read, *created);

    let unknown = SessionId::generate().unwrap();
    assert!(b.get(&unknown, now).await.unwrap().is_none());
}

#[tokio::test]
async fn revoke_on_one_replica_is_refused_by_the_other_within_the_bound() {
    let (a, b) = two_replicas().await;
    let now = Timestamp::now();
    let (id, session) = a.create(login(&unique_subject()), now).await.unwrap();
    // B has it cached, as after any request.
    for _ in 0..3 {
        assert!(b.get(&id, now).await.unwrap().is_some());
    }

    assert!(a.revoke(&session.sid).await.unwrap());
    let took = within(BOUND, || async { b.get(&id, now).await.unwrap().is_none() }).await;
    assert!(
        took.is_some(),
        "replica B still accepts a session revoked on A after {BOUND:?}"
    );
    assert!(a.get(&id, now).await.unwrap().is_none());
}

#[tokio::test]
async fn revoke_user_ends_every_session_of_that_person_on_every_replica() {
    let (a, b) = two_replicas().await;
    let now = Timestamp::now();
    let subject = unique_subject();
    let (one, _) = a.create(login(&subject), now).await.unwrap();
    let (two, _) = b.create(login(&subject), now).await.unwrap();
    let (other, _) = a.create(login(&unique_subject()), now).await.unwrap();
    for id in [&one, &two, &other] {
        assert!(b.get(id, now).await.unwrap().is_some());
    }

    assert_eq!(a.revoke_user(&subject).await.unwrap(), 2);
    let took = within(BOUND, || async {
        b.get(&one, now).await.unwrap().is_none() && b.get(&two, now).await.unwrap().is_none()
    })
    .await;
    assert!(
        took.is_some(),
        "replica B still accepts revoked sessions after {BOUND:?}"
    );
    assert!(
        b.get(&other, now).await.unwrap().is_some(),
        "another person's session survives"
    );
}

#[tokio::test]
async fn sessions_are_listed_and_counted_for_the_admin() {
    let (a, b) = two_replicas().await;
    let now = Timestamp::now();
    let subject = unique_subject();
    let (_, first) = a.create(login(&subject), now).await.unwrap();
    let (_, second) = b.create(login(&subject), now).await.unwrap();
    a.create(login(&unique_subject()), now).await.unwrap();

    let mine: Vec<_> = b
        .list(Some(&subject), now)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.sid)
        .collect();
    assert_eq!(mine.len(), 2);
    assert!(mine.contains(&first.sid) && mine.contains(&second.sid));
    assert_eq!(b.list(None, now).await.unwrap().len(), 3);
    assert_eq!(b.count(now).await.unwrap(), 3);

    a.revoke(&first.sid).await.unwrap();
    let left: Vec<_> = b
        .list(Some(&subject), now)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.sid)
        .collect();
    assert_eq!(left, [second.sid]);
    assert_eq!(a.count(now).await.unwrap(), 2);
}

#[tokio::test]
async fn the_live_count_is_made_by_one_replica_and_read_by_the_others() {
    let (a, b) = two_replicas().await;
    let now = Timestamp::now();
    let fresh = Duration::from_secs(60);
    a.create(login(&unique_subject()), now).await.unwrap();
    assert_eq!(
        a.live_count(now, fresh).await.unwrap(),
        None,
        "A claims the count and makes it in the background"
    );
    let counted = within(Duration::from_secs(2), || async {
        b.live_count(now, fresh).await.unwrap() == Some(1)
    })
    .await;
    assert!(counted.is_some(), "B reads what A counted");
    b.create(login(&unique_subject()), now).await.unwrap();
    assert_eq!(
        b.live_count(now, fresh).await.unwrap(),
        Some(1),
        "kept for a minute, not counted again"
    );
    assert_eq!(
        b.count(now).await.unwrap(),
        2,
        "the exact count walks the keys"
    );
}

#[tokio::test]
async fn the_idle_timeout_holds_across_replicas_and_a_touch_anywhere_extends_it() {
    let (a, b) = two_replicas().await;
    let idle = SessionSettings::default().idle_timeout;
    let t0 = Timestamp::now();
    let (id, session) = a.create(login(&unique_subject()), t0).await.unwrap();
    assert!(b.get(&id, t0).await.unwrap().is_some());

    let nearly = t0.plus(idle - Duration::from_secs(10));
    a.touch(&session, nearly).await.unwrap();
    // B's cached copy says idle-expired here; it must ask Redis and see A's touch.
    let after_first_idle = t0.plus(idle + Duration::from_secs(10));
    let seen = b
        .get(&id, after_first_idle)
        .await
        .unwrap()
        .expect("touched on A, alive on B");
    assert_eq!(seen.last_seen, nearly);

    let idle_since_touch = nearly.plus(idle);
    assert!(b.get(&id, idle_since_touch).await.unwrap().is_none());
    assert!(a.get(&id, idle_since_touch).await.unwrap().is_none());
}

#[tokio::test]
async fn clients_added_on_one_replica_show_on_the_other() {
    let (a, b) = two_replicas().await;
    let now = Timestamp::now();
    let (id, session) = a.create(login(&unique_subject()), now).await.unwrap();
    assert!(b.get(&id, now).await.unwrap().unwrap().clients.is_empty());
    assert!(a.add_client(&session.sid, "wiki").await.unwrap());
    let took = within(BOUND, || async {
        b.get(&id, now).await.unwrap().unwrap().clients == ["wiki"]
    })
    .await;
    assert!(took.is_some());
}

#[tokio::test]
async fn brute_force_counters_are_shared_and_cleared() {
    let (a, b) = two_replicas().await;
    let now = Timestamp::now();
    let account = ThrottleKind::Account;
    for _ in 0..3 {
        assert_eq!(
            a.record_failure(account, "bob", now).await.unwrap(),
            Throttle::Allowed
        );
    }
    let wait = Throttle::Wait {
        until: now.plus(Duration::from_secs(1)),
    };
    assert_eq!(b.record_failure(account, "bob", now).await.unwrap(), wait);
    assert_eq!(a.check(account, "bob", now).await.unwrap(), wait);
    assert_eq!(
        a.check(ThrottleKind::Source, "bob", now).await.unwrap(),
        Throttle::Allowed
    );

    for _ in 4..ThrottleSettings::default().lock_after {
        a.record_failure(account, "bob", now).await.unwrap();
    }
    let until = now.plus(ThrottleSettings::default().lock_for);
    assert_eq!(
        b.check(account, "bob", now).await.unwrap(),
        Throttle::Locked { until }
    );
    assert_eq!(
        b.locked(account, now).await.unwrap(),
        [("bob".to_owned(), until)]
    );

    let both = b.login_check("bob", "10.0.0.9", now).await.unwrap();
    assert_eq!(both.verdict, Throttle::Locked { until });
    assert!(both.account_failures);

    a.clear(account, "bob").await.unwrap();
    assert_eq!(
        b.check(account, "bob", now).await.unwrap(),
        Throttle::Allowed
    );
    assert!(b.locked(account, now).await.unwrap().is_empty());
    let clean = b.login_check("bob", "10.0.0.9", now).await.unwrap();
    assert_eq!(clean.verdict, Throttle::Allowed);
    assert!(
        !clean.account_failures,
        "nothing left to clear after a success"
    );

    // The address's counter decides too, in the same round trip.
    for _ in 0..ThrottleSettings::default().lock_after {
        a.record_failure(ThrottleKind::Source, "10.0.0.9", now)
            .await
            .unwrap();
    }
    let source_locked = b.login_check("carol", "10.0.0.9", now).await.unwrap();
    assert!(matches!(source_locked.verdict, Throttle::Locked { .. }));
    assert!(!source_locked.account_failures);
    a.clear(ThrottleKind::Source, "10.0.0.9").await.unwrap();
}

#[tokio::test]
async fn a_session_takes_at_most_one_kilobyte_of_redis_memory() {
    let prefix = unique_prefix();
    let store = replica(&redis_settings(&support::shared_url(), &prefix)).await;
    let now = Timestamp::now();
    let (_, session) = store.create(login(&unique_subject()), now).await.unwrap();
    store.add_client(&session.sid, "mail").await.unwrap();

    let client = redis::Client::open(support::shared_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let bytes: u64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(format!("{prefix}s:{}", session.sid))
        .query_async(&mut conn)
        .await
        .unwrap();
    println!("one session: {bytes} bytes of Redis memory");
    assert!(bytes <= 1024, "a session takes {bytes} bytes");
}

/// Calls per command since the server started, from INFO commandstats.
async fn command_calls(conn: &mut redis::aio::MultiplexedConnection) -> HashMap<String, u64> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(conn)
        .await
        .unwrap();
    info.lines()
        .filter_map(|line| {
            let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = stats.split(',').find_map(|kv| kv.strip_prefix("calls="))?;
            Some((name.to_owned(), calls.parse().ok()?))
        })
        .collect()
}

/// Commands other than the subscribers' pings and our own INFO between two snapshots.
fn work_between(
    before: &HashMap<String, u64>,
    after: &HashMap<String, u64>,
) -> HashMap<String, u64> {
    after
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "ping" | "info"))
        .map(|(name, calls)| (name.clone(), calls - before.get(name).copied().unwrap_or(0)))
        .filter(|(_, delta)| *delta > 0)
        .collect()
}

#[tokio::test]
async fn a_cached_session_is_answered_without_asking_redis() {
    let server = PrivateRedis::start();
    let settings = redis_settings(&server.url(), "pforte:");
    let a = replica(&settings).await;
    let b = replica(&settings).await;
    let now = Timestamp::now();
    let (id, _) = a.create(login(&unique_subject()), now).await.unwrap();
    let mut observer = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();

    // The first read on B goes to Redis (which shows the count is honest)...
    let before = command_calls(&mut observer).await;
    assert!(b.get(&id, now).await.unwrap().is_some());
    let after_first = command_calls(&mut observer).await;
    assert!(work_between(&before, &after_first).contains_key("hgetall"));

    // ...and once B's subscriber has confirmed its cache (within the bound of starting), reads
    // stop asking...
    let warm = within(BOUND, || async {
        let start = command_calls(&mut observer.clone()).await;
        assert!(b.get(&id, now).await.unwrap().is_some());
        work_between(&start, &command_calls(&mut observer.clone()).await).is_empty()
    })
    .await;
    assert!(warm.is_some(), "B never answered from its cache");

    // ...so a hundred requests, each with its touch, cost no command at all.
    let after_first = command_calls(&mut observer).await;
    for _ in 0..100 {
        let session = b.get(&id, now).await.unwrap().unwrap();
        b.touch(&session, now).await.unwrap();
    }
    let after = command_calls(&mut observer).await;
    assert_eq!(work_between(&after_first, &after), HashMap::new());
}

#[tokio::test]
async fn an_unreachable_redis_is_unavailable_never_no_session() {
    let mut server = PrivateRedis::start();
    let settings = redis_settings(&server.url(), "pforte:");
    let store = replica(&settings).await;
    let now = Timestamp::now();
    let (id, _) = store.create(login(&unique_subject()), now).await.unwrap();
    let cached = within(BOUND, || async {
        store.get(&id, now).await.unwrap().is_some()
    })
    .await;
    assert!(cached.is_some());

    server.kill();
    // Until the cache stops being trusted (within the bound) it may still answer; after that
    // every read must fail loudly. At no point may the session look absent.
    let failing = within(BOUND * 2, || async {
        match store.get(&id, now).await {
            Ok(Some(_)) => false,
            Err(StoreError::Unavailable(_)) => true,
            Ok(None) => panic!("a Redis outage must not read as \"no session\""),
            Err(other) => panic!("expected Unavailable, got {other:?}"),
        }
    })
    .await;
    let failing = failing.expect("the cache kept answering with Redis down");
    assert!(
        failing <= BOUND,
        "the cache was trusted {failing:?} after Redis went down"
    );
    for _ in 0..3 {
        assert!(matches!(
            store.get(&id, now).await,
            Err(StoreError::Unavailable(_))
        ));
    }
    let unknown = SessionId::generate().unwrap();
    assert!(matches!(
        store.get(&unknown, now).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        store.check(ThrottleKind::Account, "bob", now).await,
        Err(StoreError::Unavailable(_))
    ));

    let dead = redis_settings(&format!("redis://127.0.0.1:{}", server.port()), "pforte:");
    let refused = RedisStore::connect(
        &dead,
        SessionSettings::default(),
        ThrottleSettings::default(),
        Clock::system(),
    )
    .await;
    assert!(matches!(refused, Err(StoreError::Unavailable(_))));
}

#[tokio::test]
async fn rediss_with_a_private_ca_works() {
    let server = PrivateRedis::start_tls();
    let mut settings = redis_settings(&format!("rediss://localhost:{}", server.port()), "pforte:");
    settings.ca_file = Some(support::tls_dir().join("ca.crt"));
    let store = replica(&settings).await;
    let now = Timestamp::now();
    let (id, _) = store.create(login(&unique_subject()), now).await.unwrap();
    assert!(store.get(&id, now).await.unwrap().is_some());

    settings.ca_file = None;
    let untrusted = RedisStore::connect(
        &settings,
        SessionSettings::default(),
        ThrottleSettings::default(),
        Clock::system(),
    )
    .await;
    assert!(
        untrusted.is_err(),
        "a server signed by an unknown CA must be refused"
    );
}

#[tokio::test]
async fn a_ca_file_with_sentinel_is_refused_not_ignored() {
    let mut settings =
        RedisSettings::sentinel(&["redis://127.0.0.1:1".to_owned()], "pforte").unwrap();
    settings.ca_file = Some(support::tls_dir().join("ca.crt"));
    let refused = RedisStore::connect(
        &settings,
        SessionSettings::default(),
        ThrottleSettings::default(),
        Clock::system(),
    )
    .await;
    assert!(matches!(
        refused,
        Err(StoreError::Settings(
            pforte_session::SettingsError::SentinelTls
        ))
    ));
}

#[tokio::test]
async fn the_store_enum_opens_memory_too() {
    let store = SessionStore::open(&pforte_session::StoreSettings::default(), Clock::system())
        .await
        .unwrap();
    let now = Timestamp::now();
    let (id, _) = store.create(login(&unique_subject()), now).await.unwrap();
    assert!(matches!(store, SessionStore::Memory(_)));
    assert!(store.get(&id, now).await.unwrap().is_some());
}

/// Runs a command on a server of the test's own.
async fn ask<T: redis::FromRedisValue>(
    url: &str,
    command: &mut redis::Cmd,
) -> redis::RedisResult<T> {
    let mut conn = redis::Client::open(url)?
        .get_multiplexed_async_connection()
        .await?;
    command.query_async(&mut conn).await
}

#[tokio::test]
async fn with_sentinel_the_store_follows_a_failover() {
    let master = PrivateRedis::start();
    let standby = PrivateRedis::start_replica_of(master.port());
    let sentinel = PrivateRedis::start_sentinel(master.port());
    let settings = {
        let mut s = RedisSettings::sentinel(&[sentinel.url()], "pforte").unwrap();
        s.key_prefix = unique_prefix();
        s
    };
    let store = replica(&settings).await;
    let now = Timestamp::now();
    let (before, _) = store.create(login(&unique_subject()), now).await.unwrap();
    let synced = within(Duration::from_secs(10), || async {
        let acked: i64 = ask(&master.url(), redis::cmd("WAIT").arg(1).arg(200))
            .await
            .unwrap();
        acked == 1
    })
    .await;
    assert!(synced.is_some(), "the standby did not replicate");

    // Sentinel learns of the standby from the master, then promotes it on request.
    let promoted = within(Duration::from_secs(20), || async {
        ask::<String>(
            &sentinel.url(),
            redis::cmd("SENTINEL").arg("FAILOVER").arg("pforte"),
        )
        .await
        .is_ok()
    })
    .await;
    assert!(promoted.is_some(), "sentinel refused to fail over");
    let switched = within(Duration::from_secs(20), || async {
        let master: (String, u16) = ask(
            &sentinel.url(),
            redis::cmd("SENTINEL")
                .arg("GET-MASTER-ADDR-BY-NAME")
                .arg("pforte"),
        )
        .await
        .unwrap();
        master.1 == standby.port()
    })
    .await;
    assert!(switched.is_some(), "sentinel did not switch to the standby");
    // Writes that reach the old master before Sentinel demotes it are lost: that is Redis's
    // asynchronous replication, not the store. Once it is demoted, they must not reach it.
    let demoted = within(Duration::from_secs(20), || async {
        // Sentinel kills the old master's clients as it demotes it: an error means "not yet".
        let role: Option<Vec<redis::Value>> = ask(&master.url(), &mut redis::cmd("ROLE")).await.ok();
        matches!(role.as_deref().and_then(<[_]>::first), Some(redis::Value::BulkString(r)) if r == b"slave")
    })
    .await;
    assert!(demoted.is_some(), "sentinel did not demote the old master");

    // The store reaches the new master (after at most a few Unavailable answers)...
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let (after, session) = loop {
        match store.create(login(&unique_subject()), now).await {
            Ok(created) => break created,
            Err(StoreError::Unavailable(_)) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(other) => panic!("the store did not follow the failover: {other}"),
        }
    };
    let key = format!("{}s:{}", settings.key_prefix, session.sid);
    let on_new_master: i64 = ask(&standby.url(), redis::cmd("EXISTS").arg(&key))
        .await
        .unwrap();
    assert_eq!(
        on_new_master, 1,
        "the new session was not written to the new master"
    );
    // ...and sessions from before the failover survive it.
    assert!(store.get(&before, now).await.unwrap().is_some());
    assert!(store.get(&after, now).await.unwrap().is_some());
}

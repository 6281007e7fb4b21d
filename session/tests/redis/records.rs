//! The OIDC provider's records, refresh-family index and logout queue in Redis, as replicas
//! sharing it (and the admin CLI, a store of its own) use them.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use pforte_session::{
    LOGOUT_QUEUE_CAP, LogoutNotice, MAX_RECORD_KEY_BYTES, RecordKind, SessionStore, Sid,
    StoreError, Timestamp,
};

use crate::support::{login, redis_settings, replica, shared_url, unique_prefix, unique_subject};

const CODE: RecordKind = RecordKind::AuthorizationCode;
const FAMILY: RecordKind = RecordKind::RefreshFamily;
const MINUTE: Duration = Duration::from_secs(60);

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

/// A session of a fresh person that handed tokens to `clients`.
async fn session_with(store: &SessionStore, subject: &str, clients: &[&str]) -> Sid {
    let (_, session) = store
        .create(login(subject), Timestamp::now())
        .await
        .unwrap();
    for client in clients {
        assert!(store.add_client(&session.sid, client).await.unwrap());
    }
    session.sid
}

#[tokio::test]
async fn a_record_put_on_one_replica_is_read_on_another_until_it_expires() {
    let (a, b, prefix) = two_replicas().await;
    a.put_record(CODE, "digest-1", b"\x00code\xff", MINUTE)
        .await
        .unwrap();
    assert_eq!(
        b.get_record(CODE, "digest-1").await.unwrap().as_deref(),
        Some(&b"\x00code\xff"[..])
    );
    assert_eq!(
        b.get_record(RecordKind::RedeemedCode, "digest-1")
            .await
            .unwrap(),
        None,
        "each kind is its own key space"
    );
    let ttl: i64 = raw(redis::cmd("PTTL").arg(format!("{prefix}o:code:digest-1"))).await;
    assert!((59_000..=60_000).contains(&ttl), "PTTL {ttl}");

    // Redis counts TTLs down on its own clock, which no test clock moves: check the TTL the
    // store set, then run it out at once instead of waiting for it.
    b.put_record(CODE, "digest-1", b"v2", Duration::from_millis(200))
        .await
        .unwrap();
    assert_eq!(
        a.get_record(CODE, "digest-1").await.unwrap().as_deref(),
        Some(&b"v2"[..])
    );
    let key = format!("{prefix}o:code:digest-1");
    let ttl: i64 = raw(redis::cmd("PTTL").arg(&key)).await;
    assert!((1..=200).contains(&ttl), "PTTL {ttl}");
    let _: i64 = raw(redis::cmd("PEXPIRE").arg(&key).arg(0)).await;
    assert_eq!(a.get_record(CODE, "digest-1").await.unwrap(), None);
    assert_eq!(a.take_record(CODE, "digest-1").await.unwrap(), None);
    assert!(
        !a.replace_record(CODE, "digest-1", b"v2", b"v3", MINUTE)
            .await
            .unwrap()
    );

    // A zero TTL is cut to a millisecond, never an error or a record without expiry (PTTL -1);
    // -2 says it is already gone.
    a.put_record(CODE, "zero", b"v", Duration::ZERO)
        .await
        .unwrap();
    let ttl: i64 = raw(redis::cmd("PTTL").arg(format!("{prefix}o:code:zero"))).await;
    assert!(ttl == -2 || (0..=1).contains(&ttl), "PTTL {ttl}");
}

#[tokio::test]
async fn of_two_replicas_inserting_one_key_exactly_one_wins() {
    let (a, b, _) = two_replicas().await;
    let (first, second) = tokio::join!(
        a.insert_record(CODE, "guard", b"from a", MINUTE),
        b.insert_record(CODE, "guard", b"from b", MINUTE),
    );
    assert!(first.unwrap() ^ second.unwrap(), "exactly one insert wins");
    let kept = a.get_record(CODE, "guard").await.unwrap().unwrap();
    assert!(kept == b"from a" || kept == b"from b");
    assert!(
        !a.insert_record(CODE, "guard", b"again", MINUTE)
            .await
            .unwrap()
    );
    assert_eq!(a.get_record(CODE, "guard").await.unwrap().unwrap(), kept);
}

#[tokio::test]
async fn keys_longer_than_the_limit_are_refused_without_asking_redis() {
    let (a, _, _) = two_replicas().await;
    let long = "k".repeat(MAX_RECORD_KEY_BYTES + 1);
    let refused = |result: Result<(), StoreError>| {
        assert!(matches!(result, Err(StoreError::RecordKeyTooLong { .. })));
    };
    refused(a.put_record(CODE, &long, b"v", MINUTE).await);
    refused(a.get_record(CODE, &long).await.map(drop));
    refused(a.take_record(CODE, &long).await.map(drop));
    refused(
        a.replace_record(CODE, &long, b"", b"", MINUTE)
            .await
            .map(drop),
    );
    let sid = session_with(&a, &unique_subject(), &[]).await;
    refused(a.link_family(&sid, &long, MINUTE).await);

    let longest = "k".repeat(MAX_RECORD_KEY_BYTES);
    a.put_record(CODE, &longest, b"v", MINUTE).await.unwrap();
    assert!(a.take_record(CODE, &longest).await.unwrap().is_some());
}

#[tokio::test]
async fn of_twenty_concurrent_takers_exactly_one_gets_the_record() {
    let (a, b, _) = two_replicas().await;
    for round in 0..10 {
        let key = format!("code-{round}");
        a.put_record(CODE, &key, b"once", MINUTE).await.unwrap();
        let takers = (0..20).map(|i| {
            let store = if i % 2 == 0 { &a } else { &b };
            store.take_record(CODE, &key)
        });
        let won: Vec<_> = join_all(takers)
            .await
            .into_iter()
            .filter_map(Result::unwrap)
            .collect();
        assert_eq!(won, [b"once".to_vec()], "round {round}");
    }
}

#[tokio::test]
async fn of_concurrent_compare_and_sets_exactly_one_wins() {
    let (a, b, _) = two_replicas().await;
    for round in 0..10 {
        let key = format!("family-{round}");
        a.put_record(FAMILY, &key, b"generation 1", MINUTE)
            .await
            .unwrap();
        let values: Vec<Vec<u8>> = (0..20)
            .map(|i| format!("rotation {i}").into_bytes())
            .collect();
        let rotations = values.iter().enumerate().map(|(i, new)| {
            let store = if i % 2 == 0 { &a } else { &b };
            store.replace_record(FAMILY, &key, b"generation 1", new, MINUTE)
        });
        let results: Vec<bool> = join_all(rotations)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let winners: Vec<usize> = (0..20).filter(|i| results[*i]).collect();
        let [winner] = winners[..] else {
            panic!("round {round}: winners {winners:?}");
        };
        assert_eq!(
            b.get_record(FAMILY, &key).await.unwrap(),
            Some(values[winner].clone())
        );
    }
    assert!(
        !a.replace_record(FAMILY, "missing", b"", b"x", MINUTE)
            .await
            .unwrap(),
        "a missing record is never replaced"
    );
    assert_eq!(a.get_record(FAMILY, "missing").await.unwrap(), None);
}

#[tokio::test]
async fn families_are_indexed_under_their_session_and_the_index_only_grows_its_ttl() {
    let (a, b, prefix) = two_replicas().await;
    let sid = session_with(&a, &unique_subject(), &[]).await;
    assert!(b.families_of(&sid).await.unwrap().is_empty());
    a.link_family(&sid, "fam-b", MINUTE).await.unwrap();
    b.link_family(&sid, "fam-a", MINUTE * 10).await.unwrap();
    a.link_family(&sid, "fam-b", MINUTE).await.unwrap();
    assert_eq!(b.families_of(&sid).await.unwrap(), ["fam-a", "fam-b"]);

    a.link_family(&sid, "fam-c", Duration::from_secs(1))
        .await
        .unwrap();
    let ttl: i64 = raw(redis::cmd("PTTL").arg(format!("{prefix}o:families:{sid}"))).await;
    assert!(ttl > 590_000, "a shorter TTL cut the index to {ttl} ms");

    // The index outlives the session, for the logout that revokes its families.
    a.revoke(&sid).await.unwrap();
    assert_eq!(a.families_of(&sid).await.unwrap().len(), 3);

    let short = session_with(&a, &unique_subject(), &[]).await;
    a.link_family(&short, "fam", Duration::from_millis(200))
        .await
        .unwrap();
    let ttl: i64 = raw(redis::cmd("PTTL").arg(format!("{prefix}o:families:{short}"))).await;
    assert!(
        (1..=200).contains(&ttl),
        "a new index expires with its TTL, not {ttl} ms"
    );
}

#[tokio::test]
async fn revoking_a_session_with_clients_queues_one_notice_and_one_without_none() {
    let (a, b, _) = two_replicas().await;
    let subject = unique_subject();
    let quiet = session_with(&a, &subject, &[]).await;
    let noisy = session_with(&a, &subject, &["wiki", "mail", "wiki"]).await;
    assert!(a.revoke(&quiet).await.unwrap());
    assert!(a.revoke(&noisy).await.unwrap());
    assert!(
        !a.revoke(&noisy).await.unwrap(),
        "a second revoke queues nothing"
    );

    let notice = b.next_logout(Duration::from_secs(1)).await.unwrap();
    assert_eq!(
        notice,
        Some(LogoutNotice {
            sid: noisy,
            subject,
            clients: vec!["mail".into(), "wiki".into()],
        })
    );
    assert_eq!(a.next_logout(Duration::ZERO).await.unwrap(), None);
}

#[tokio::test]
async fn revoke_user_queues_a_notice_for_each_session_with_clients() {
    let (a, b, _) = two_replicas().await;
    let subject = unique_subject();
    let one = session_with(&a, &subject, &["wiki"]).await;
    let two = session_with(&b, &subject, &["mail", "chat"]).await;
    session_with(&a, &subject, &[]).await;
    let other = session_with(&a, &unique_subject(), &["wiki"]).await;
    assert_eq!(a.revoke_user(&subject).await.unwrap(), 3);

    let mut notices = Vec::new();
    while let Some(notice) = b.next_logout(Duration::ZERO).await.unwrap() {
        notices.push(notice);
    }
    notices.sort_by_key(|n| n.sid);
    let mut expected = vec![
        LogoutNotice {
            sid: one,
            subject: subject.clone(),
            clients: vec!["wiki".into()],
        },
        LogoutNotice {
            sid: two,
            subject,
            clients: vec!["chat".into(), "mail".into()],
        },
    ];
    expected.sort_by_key(|n| n.sid);
    assert_eq!(notices, expected);
    assert!(notices.iter().all(|n| n.sid != other));
}

#[tokio::test]
async fn next_logout_waits_for_a_notice_and_gives_none_when_none_comes() {
    let (a, b, _) = two_replicas().await;
    let start = Instant::now();
    assert_eq!(
        b.next_logout(Duration::from_millis(300)).await.unwrap(),
        None
    );
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(290) && waited < Duration::from_millis(1500),
        "waited {waited:?}"
    );

    let sid = session_with(&a, &unique_subject(), &["wiki"]).await;
    let (notice, ()) = tokio::join!(b.next_logout(Duration::from_secs(5)), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        a.revoke(&sid).await.unwrap();
    });
    assert_eq!(notice.unwrap().map(|n| n.sid), Some(sid));
}

#[tokio::test]
async fn a_waiting_taker_does_not_hold_up_the_stores_other_commands() {
    let (a, _, _) = two_replicas().await;
    a.put_record(CODE, "k", b"v", MINUTE).await.unwrap();
    let (_, took) = tokio::join!(a.next_logout(Duration::from_secs(2)), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let start = Instant::now();
        assert!(a.get_record(CODE, "k").await.unwrap().is_some());
        start.elapsed()
    });
    assert!(took < Duration::from_millis(500), "a read took {took:?}");
}

#[tokio::test]
async fn each_notice_reaches_exactly_one_of_two_stores() {
    let prefix = unique_prefix();
    let settings = redis_settings(&shared_url(), &prefix);
    // The admin CLI revokes through a store of its own; two gateways drain the queue.
    let admin = replica(&settings).await;
    let (one, two) = (replica(&settings).await, replica(&settings).await);
    let mut revoked = HashSet::new();
    for _ in 0..20 {
        let sid = session_with(&admin, &unique_subject(), &["wiki"]).await;
        revoked.insert(sid);
    }

    let drain = |store: Arc<SessionStore>| async move {
        let mut got = Vec::new();
        while let Some(notice) = store.next_logout(Duration::from_millis(500)).await.unwrap() {
            got.push(notice.sid);
        }
        got
    };
    let takers = (
        tokio::spawn(drain(Arc::new(one))),
        tokio::spawn(drain(Arc::new(two))),
    );
    for sid in &revoked {
        assert!(admin.revoke(sid).await.unwrap());
    }
    let (got_one, got_two) = (takers.0.await.unwrap(), takers.1.await.unwrap());
    let mut all: Vec<Sid> = got_one.iter().chain(&got_two).copied().collect();
    assert_eq!(
        all.len(),
        revoked.len(),
        "{} + {}",
        got_one.len(),
        got_two.len()
    );
    all.sort();
    all.dedup();
    assert_eq!(all.into_iter().collect::<HashSet<_>>(), revoked);
}

#[tokio::test]
async fn a_taker_that_gives_up_does_not_swallow_the_next_notice() {
    let (a, b, _) = two_replicas().await;
    let abandoned = tokio::time::timeout(Duration::from_millis(100), b.next_logout(MINUTE)).await;
    assert!(abandoned.is_err(), "nothing to take yet");
    let sid = session_with(&a, &unique_subject(), &["wiki"]).await;
    a.revoke(&sid).await.unwrap();
    let notice = b.next_logout(Duration::from_secs(2)).await.unwrap();
    assert_eq!(notice.map(|n| n.sid), Some(sid));
}

#[tokio::test]
async fn a_damaged_notice_is_skipped() {
    let (a, b, prefix) = two_replicas().await;
    let _: i64 = raw(redis::cmd("RPUSH")
        .arg(format!("{prefix}logout"))
        .arg("not json"))
    .await;
    let sid = session_with(&a, &unique_subject(), &["wiki"]).await;
    a.revoke(&sid).await.unwrap();
    let notice = b.next_logout(Duration::from_secs(1)).await.unwrap();
    assert_eq!(notice.map(|n| n.sid), Some(sid));
}

#[tokio::test]
async fn the_queue_has_no_ttl_and_keeps_only_the_newest_notices() {
    let (a, b, prefix) = two_replicas().await;
    let queue = format!("{prefix}logout");
    let filler = vec!["old"; LOGOUT_QUEUE_CAP];
    let _: i64 = raw(redis::cmd("RPUSH").arg(&queue).arg(&filler)).await;
    let sid = session_with(&a, &unique_subject(), &["wiki"]).await;
    a.revoke(&sid).await.unwrap();

    let len: usize = raw(redis::cmd("LLEN").arg(&queue)).await;
    assert_eq!(len, LOGOUT_QUEUE_CAP);
    let ttl: i64 = raw(redis::cmd("TTL").arg(&queue)).await;
    assert_eq!(ttl, -1, "the queue must not expire");
    let newest: Vec<u8> = raw(redis::cmd("LINDEX").arg(&queue).arg(-1)).await;
    assert!(
        String::from_utf8(newest)
            .unwrap()
            .contains(&sid.to_string())
    );
    let _: i64 = raw(redis::cmd("DEL").arg(&queue)).await;
    assert_eq!(b.next_logout(Duration::ZERO).await.unwrap(), None);
}

//! SSO hand-over tickets between two replicas sharing Redis: issued by the login host's replica,
//! redeemed once by the app host's.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pforte_session::{SessionStore, Timestamp};

use crate::support::{login, redis_settings, replica, shared_url, unique_prefix, unique_subject};

const APP: &str = "wiki.example.org";

/// Two replicas under a fresh prefix, and that prefix.
async fn two_replicas() -> (SessionStore, SessionStore, String) {
    let prefix = unique_prefix();
    let settings = redis_settings(&shared_url(), &prefix);
    (replica(&settings).await, replica(&settings).await, prefix)
}

async fn raw_connection() -> redis::aio::MultiplexedConnection {
    redis::Client::open(shared_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Every key matching `pattern`, by SCAN (the shared Redis may hold many keys).
async fn keys_matching(conn: &mut redis::aio::MultiplexedConnection, pattern: &str) -> Vec<String> {
    let mut cursor = 0u64;
    let mut names = Vec::new();
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .unwrap();
        names.extend(batch);
        if next == 0 {
            names.sort();
            names.dedup();
            return names;
        }
        cursor = next;
    }
}

#[tokio::test]
async fn a_ticket_issued_on_one_replica_is_redeemed_once_on_another() {
    let (a, b, _) = two_replicas().await;
    let now = Timestamp::now();
    let (id, _) = a.create(login(&unique_subject()), now).await.unwrap();
    let ticket = a.issue_ticket(&id, APP, now).await.unwrap();

    let handed = b
        .redeem_ticket(&ticket, APP, now)
        .await
        .unwrap()
        .expect("replica B redeems the ticket");
    assert_eq!(handed.to_cookie_value(), id.to_cookie_value());
    assert!(b.get(&handed, now).await.unwrap().is_some());
    assert!(b.redeem_ticket(&ticket, APP, now).await.unwrap().is_none());
    assert!(a.redeem_ticket(&ticket, APP, now).await.unwrap().is_none());
}

#[tokio::test]
async fn concurrent_redemptions_hand_the_session_to_exactly_one() {
    let (a, b, _) = two_replicas().await;
    let now = Timestamp::now();
    let (id, _) = a.create(login(&unique_subject()), now).await.unwrap();
    for round in 0..20 {
        let ticket = a.issue_ticket(&id, APP, now).await.unwrap();
        let (one, two, three, four) = tokio::join!(
            a.redeem_ticket(&ticket, APP, now),
            b.redeem_ticket(&ticket, APP, now),
            a.redeem_ticket(&ticket, APP, now),
            b.redeem_ticket(&ticket, APP, now),
        );
        let winners = [one, two, three, four]
            .into_iter()
            .filter_map(Result::unwrap)
            .collect::<Vec<_>>();
        assert_eq!(winners.len(), 1, "round {round}");
        assert_eq!(winners[0].to_cookie_value(), id.to_cookie_value());
    }
}

#[tokio::test]
async fn a_ticket_for_another_host_late_or_garbled_gives_nothing() {
    let (a, b, _) = two_replicas().await;
    let now = Timestamp::now();
    let (id, _) = a.create(login(&unique_subject()), now).await.unwrap();

    let ticket = a.issue_ticket(&id, APP, now).await.unwrap();
    assert!(
        b.redeem_ticket(&ticket, "evil.example.org", now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(b.redeem_ticket(&ticket, APP, now).await.unwrap().is_none());

    let late = a.issue_ticket(&id, APP, now).await.unwrap();
    let expired = now.plus(Duration::from_secs(60));
    assert!(
        b.redeem_ticket(&late, APP, expired)
            .await
            .unwrap()
            .is_none()
    );

    let huge = "A".repeat(1 << 20);
    for bad in ["", &ticket[..42], &format!("{ticket}A"), "%00", &huge] {
        assert!(b.redeem_ticket(bad, APP, now).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn redis_holds_the_ticket_sealed_under_a_hash_for_sixty_seconds() {
    let (a, _, prefix) = two_replicas().await;
    let now = Timestamp::now();
    let (id, _) = a.create(login(&unique_subject()), now).await.unwrap();
    let ticket = a.issue_ticket(&id, APP, now).await.unwrap();

    let mut conn = raw_connection().await;
    let names = keys_matching(&mut conn, &format!("{prefix}t:*")).await;
    let [name] = names.as_slice() else {
        panic!("one ticket key under {prefix}: {names:?}");
    };
    assert!(!name.contains(&ticket));
    let value: Vec<u8> = redis::cmd("GET")
        .arg(name)
        .query_async(&mut conn)
        .await
        .unwrap();
    let ttl: i64 = redis::cmd("TTL")
        .arg(name)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((1..=60).contains(&ttl), "TTL {ttl}");

    let cookie = id.to_cookie_value();
    let id_bytes = URL_SAFE_NO_PAD.decode(&cookie).unwrap();
    let ticket_bytes = URL_SAFE_NO_PAD.decode(&ticket).unwrap();
    for secret in [
        cookie.as_bytes(),
        ticket.as_bytes(),
        &id_bytes,
        &ticket_bytes,
    ] {
        assert!(
            !value.windows(8).any(|w| secret.windows(8).any(|s| s == w)),
            "the stored value leaks part of a secret"
        );
    }
    assert!(a.redeem_ticket(&ticket, APP, now).await.unwrap().is_some());
}

//! Identity refresh in Redis: what the directory says of a person now, written on one replica,
//! is what every replica decides on within the revocation bound; sessions written before
//! refreshes existed read as refreshed at their creation.

use std::time::Duration;

use pforte_session::{Identity, Timestamp};

use crate::support::{
    login, redis_settings, replica, shared_url, unique_prefix, unique_subject, within,
};

const BOUND: Duration = Duration::from_secs(1);

#[tokio::test]
async fn a_refresh_on_one_replica_is_seen_on_the_other_within_the_bound() {
    let settings = redis_settings(&shared_url(), &unique_prefix());
    let (a, b) = (replica(&settings).await, replica(&settings).await);
    let now = Timestamp::now();
    let (id, session) = a.create(login(&unique_subject()), now).await.unwrap();
    assert_eq!(session.identity_refreshed, now);
    assert!(a.add_client(&session.sid, "wiki").await.unwrap());
    // B holds a copy, as after any request.
    let cached = within(BOUND, || async {
        b.get(&id, now).await.unwrap().unwrap().clients == ["wiki"]
    })
    .await;
    assert!(cached.is_some());

    let later = now.plus(Duration::from_secs(300));
    let identity = Identity {
        username: "alice".to_owned(),
        display_name: "Alice Liddell".to_owned(),
        email: Some("alice@example.org".to_owned()),
        groups: vec!["staff".to_owned()],
    };
    let refreshed = a
        .refresh_identity(&session.sid, identity.clone(), later)
        .await
        .unwrap()
        .expect("a live session refreshes");
    assert_eq!(refreshed.identity(), identity);
    let took = within(BOUND, || async {
        b.get(&id, later).await.unwrap().unwrap().groups == ["staff"]
    })
    .await;
    assert!(
        took.is_some(),
        "replica B still decides on the old groups after {BOUND:?}"
    );
    let on_b = b.get(&id, later).await.unwrap().unwrap();
    assert_eq!(on_b.identity_refreshed, later);
    assert_eq!(on_b.clients, ["wiki"], "the same session, clients and all");
    assert!(
        a.next_logout(Duration::ZERO).await.unwrap().is_none(),
        "a refresh is not a logout"
    );

    assert!(a.revoke(&session.sid).await.unwrap());
    assert!(
        b.refresh_identity(&session.sid, identity, later)
            .await
            .unwrap()
            .is_none(),
        "an ended session is not brought back by a refresh"
    );
}

#[tokio::test]
async fn a_session_written_before_refreshes_reads_as_refreshed_when_created() {
    let prefix = unique_prefix();
    let store = replica(&redis_settings(&shared_url(), &prefix)).await;
    let now = Timestamp::now();
    let (id, session) = store.create(login(&unique_subject()), now).await.unwrap();
    let key = format!("{prefix}s:{}", session.sid);
    let mut conn = redis::Client::open(shared_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let data: String = redis::cmd("HGET")
        .arg(&key)
        .arg("d")
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut data: serde_json::Value = serde_json::from_str(&data).unwrap();
    data.as_object_mut().unwrap().remove("ir");
    let () = redis::cmd("HSET")
        .arg(&key)
        .arg("d")
        .arg(data.to_string())
        .query_async(&mut conn)
        .await
        .unwrap();
    let fresh = replica(&redis_settings(&shared_url(), &prefix)).await;
    let read = fresh.get(&id, now).await.unwrap().unwrap();
    assert_eq!(read.identity_refreshed, session.created);
}

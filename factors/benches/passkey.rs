//! Passkey assertions verified per second on one core: what a second-factor or passwordless
//! login costs the login host (parse the browser's JSON and the kept state, check the client
//! data, the authenticator data and the ES256 signature, update the counter).
//!
//! `cargo bench -p pforte-factors --bench passkey -- --warm-up-time 1 --measurement-time 3`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pforte_factors::passkey::{Passkeys, StoredPasskey, user_handle};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softtoken::SoftToken;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};

const ORIGIN: &str = "https://login.example.org:8443";

fn bench(c: &mut Criterion) {
    let rp = Passkeys::new(ORIGIN, "Pforte").unwrap();
    let origin = Url::parse(ORIGIN).unwrap();
    let mut key = SoftToken::new(true).unwrap().0;

    let started = rp
        .start_registration(user_handle("alice"), "alice", "Alice", &[])
        .unwrap();
    let options: CreationChallengeResponse = serde_json::from_str(&started.options).unwrap();
    let answer = key.do_registration(origin.clone(), options).unwrap();
    let answer = serde_json::to_string(&answer).unwrap();
    let stored = rp
        .finish_registration(&started.state, &answer, "key", 0)
        .unwrap();
    let creds: Vec<StoredPasskey> = vec![stored];

    // One real assertion; verifying it again against the same state repeats the same work
    // (the state is single-use only through the session store, which is not measured here).
    let started = rp.start_authentication(&creds).unwrap();
    let options: RequestChallengeResponse = serde_json::from_str(&started.options).unwrap();
    let answer = key.do_authentication(origin, options).unwrap();
    let answer = serde_json::to_string(&answer).unwrap();
    rp.finish_authentication(&started.state, &answer, &creds)
        .unwrap();

    let mut g = c.benchmark_group("passkey");
    g.throughput(Throughput::Elements(1));
    g.bench_function("finish_authentication (ES256 assertion)", |b| {
        b.iter(|| {
            rp.finish_authentication(black_box(&started.state), black_box(&answer), &creds)
                .unwrap()
        })
    });
    g.bench_function("start_authentication (one passkey)", |b| {
        b.iter(|| rp.start_authentication(black_box(&creds)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

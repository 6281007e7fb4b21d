//! TLS termination: SNI, protocol versions, ALPN, certificate reload.

use std::time::Duration;

use pforte_e2e::client::{H1, accept_any_config, connect_tls, peer_leaf, tls_config};
use pforte_e2e::eventually;
use pforte_e2e::gateway::Gateway;
use pforte_e2e::pki::dns_names;
use pforte_e2e::upstream::Upstream;

async fn leaf_for(gw: &Gateway, sni: &str) -> rustls_pki_types::CertificateDer<'static> {
    let stream = connect_tls(gw.https, sni, accept_any_config(&[b"http/1.1"]))
        .await
        .unwrap();
    peer_leaf(&stream)
}

#[tokio::test]
async fn sni_selects_the_certificate_for_the_name() {
    let gw = Gateway::builder()
        .certificates(&[("a", &["a.gw.test"]), ("b", &["*.b.gw.test"])])
        .start()
        .await;
    assert_eq!(
        dns_names(&leaf_for(&gw, "a.gw.test").await),
        vec!["a.gw.test"]
    );
    assert_eq!(
        dns_names(&leaf_for(&gw, "mail.b.gw.test").await),
        vec!["*.b.gw.test"]
    );
    assert_eq!(
        dns_names(&leaf_for(&gw, "unknown.example").await),
        vec!["a.gw.test"],
        "unknown names get the first certificate"
    );
    // A verifying client accepts the certificate chosen for its name.
    connect_tls(gw.https, "x.b.gw.test", tls_config(&gw.root(), &[b"h2"]))
        .await
        .unwrap();
}

#[tokio::test]
async fn tls_1_2_and_1_3_with_alpn_h2_and_http1() {
    let gw = Gateway::builder().start().await;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(gw.root()).unwrap();
    let tls12 = rustls::ClientConfig::builder_with_protocol_versions(&[&rustls::version::TLS12])
        .with_root_certificates(roots)
        .with_no_client_auth();
    let stream = connect_tls(gw.https, "x.gw.test", std::sync::Arc::new(tls12))
        .await
        .unwrap();
    assert_eq!(
        stream.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    let stream = connect_tls(
        gw.https,
        "x.gw.test",
        tls_config(&gw.root(), &[b"h2", b"http/1.1"]),
    )
    .await
    .unwrap();
    assert_eq!(
        stream.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let stream = connect_tls(
        gw.https,
        "x.gw.test",
        tls_config(&gw.root(), &[b"http/1.1"]),
    )
    .await
    .unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
}

#[tokio::test]
async fn replaced_certificate_serves_new_connections_and_old_ones_live_on() {
    let app = Upstream::start("app").await;
    let gw = Gateway::builder()
        .app("app", "app.gw.test", &[app.url()])
        .start()
        .await;
    let old_leaf = leaf_for(&gw, "app.gw.test").await;
    let mut old_connection = H1::connect(gw.https, "app.gw.test", &gw.root()).await;
    assert_eq!(old_connection.get("/").await.status, 200);

    let staging = tempfile::tempdir().unwrap();
    let new = gw.ca.leaf(staging.path(), "renewed", &["*.gw.test"]);
    gw.replace_file("default.key", std::fs::read(&new.key).unwrap());
    gw.replace_file("default.crt", std::fs::read(&new.cert).unwrap());
    assert!(
        eventually(Duration::from_secs(10), async || leaf_for(
            &gw,
            "app.gw.test"
        )
        .await
            == new.der)
        .await,
        "the renewed certificate was not served:\n{}",
        gw.log()
    );
    assert_ne!(old_leaf, new.der);
    assert_eq!(
        old_connection.get("/still-here").await.status,
        200,
        "the connection opened before the swap lives on"
    );
    assert_eq!(
        H1::connect(gw.https, "app.gw.test", &gw.root())
            .await
            .get("/")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn broken_certificate_on_reload_keeps_the_old_one() {
    let gw = Gateway::builder().start().await;
    let old_leaf = leaf_for(&gw, "x.gw.test").await;
    let errors = "pforte_config_reloads_total{result=\"error\"}";
    assert_eq!(gw.metric(errors).await, Some(0.0));

    gw.replace_file(
        "default.crt",
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
    );
    assert!(
        eventually(Duration::from_secs(10), async || gw.metric(errors).await
            >= Some(1.0))
        .await,
        "{}",
        gw.log()
    );
    assert_eq!(leaf_for(&gw, "x.gw.test").await, old_leaf);
    assert!(gw.log().contains("reload refused"), "{}", gw.log());
    assert!(
        gw.log().contains("default.crt"),
        "the error names the file:\n{}",
        gw.log()
    );

    // A key that does not belong to the certificate is refused the same way.
    let staging = tempfile::tempdir().unwrap();
    let other = gw.ca.leaf(staging.path(), "other", &["*.gw.test"]);
    let mine = gw.ca.leaf(staging.path(), "mine", &["*.gw.test"]);
    gw.replace_file("default.key", std::fs::read(&other.key).unwrap());
    gw.replace_file("default.crt", std::fs::read(&mine.cert).unwrap());
    assert!(
        eventually(Duration::from_secs(10), async || gw.metric(errors).await
            >= Some(2.0))
        .await,
        "{}",
        gw.log()
    );
    assert_eq!(leaf_for(&gw, "x.gw.test").await, old_leaf);
}

#[tokio::test]
async fn failed_handshakes_are_counted() {
    let gw = Gateway::builder().start().await;
    let stranger = pforte_e2e::pki::TestCa::new();
    let refused = connect_tls(gw.https, "x.gw.test", tls_config(&stranger.der(), &[b"h2"])).await;
    assert!(
        refused.is_err(),
        "a client that does not trust the CA must fail"
    );
    let counted = eventually(Duration::from_secs(5), async || {
        gw.metric("pforte_tls_handshakes_total{result=\"error\"}")
            .await
            >= Some(1.0)
    })
    .await;
    assert!(counted);
    assert!(
        gw.metric("pforte_tls_handshakes_total{result=\"success\"}")
            .await
            .is_some()
    );
}

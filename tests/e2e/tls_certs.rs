//! Certificates as BSI TR-02102-2 wants them: a key weaker than the TR allows is refused (at
//! load, and at reload with the last good certificate kept), and an operator's OCSP response is
//! stapled, reloaded with the certificate, and refused when broken, each error naming the file.
//! The certificates and the OCSP response are made by the `openssl` command line, as an
//! operator's CA and responder would make them.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use pforte_e2e::eventually;
use pforte_e2e::gateway::{Gateway, pforte_bin};

/// The test CA's OCSP answer about `cert` (by `index.txt`), written to `default.ocsp` in `dir`,
/// as an operator's renewal job writes the file Pforte staples.
fn ocsp_response(dir: &Path, cert: &str) {
    openssl(
        dir,
        &[
            "ocsp",
            "-index",
            "index.txt",
            "-rsigner",
            "ca.crt",
            "-rkey",
            "ca.key",
            "-CA",
            "ca.crt",
            "-issuer",
            "ca.crt",
            "-cert",
            cert,
            "-respout",
            "default.ocsp",
            "-ndays",
            "1",
        ],
    );
}

/// Runs `openssl` in `dir`; panics with its output when it fails.
fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "openssl {args:?}: {text}");
    text
}

/// What `openssl s_client -status` says about the staple the gateway sends for `x.gw.test`.
async fn stapled(gw: &Gateway) -> String {
    let port = gw.https.port().to_string();
    let out = tokio::process::Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(["-servername", "x.gw.test", "-status"])
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `pforte check`'s verdict and words on the gateway's config as it is on disk now.
fn check(gw: &Gateway) -> (bool, String) {
    let out = Command::new(pforte_bin())
        .args(["check", "--config"])
        .arg(&gw.config_path)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[tokio::test]
async fn a_key_weaker_than_the_tr_allows_is_refused_and_the_last_good_one_kept() {
    let gw = Gateway::builder().start().await;
    let dir = gw.dir.path();
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "weak.key",
            "-out",
            "weak.crt",
            "-days",
            "1",
            "-subj",
            "/CN=x.gw.test",
            "-addext",
            "subjectAltName=DNS:*.gw.test",
        ],
    );
    std::fs::copy(dir.join("weak.key"), dir.join("default.key")).unwrap();
    std::fs::copy(dir.join("weak.crt"), dir.join("default.crt")).unwrap();
    assert!(
        gw.wait_for_log("RSA key has 2048 bits", Duration::from_secs(10))
            .await,
        "{}",
        gw.log()
    );
    let log = gw.log();
    assert!(
        log.contains("default.crt") && log.contains("RSA key has 2048 bits"),
        "{log}"
    );
    // The last good certificate is still served.
    let served = pforte_e2e::client::connect_tls(
        gw.https,
        "x.gw.test",
        pforte_e2e::client::tls_config(&gw.root(), &[b"http/1.1"]),
    )
    .await
    .unwrap();
    assert_eq!(pforte_e2e::client::peer_leaf(&served), gw.certs[0].der);
    // And a start (here: `pforte check`) refuses it with the same words.
    let (ok, said) = check(&gw);
    assert!(!ok, "{said}");
    assert!(
        said.contains("default.crt") && said.contains("at least 3000"),
        "{said}"
    );
}

#[tokio::test]
async fn an_ocsp_response_is_stapled_reloaded_and_refused_when_broken() {
    let gw = Gateway::builder().start().await;
    let dir = gw.dir.path();
    // The operator's CA, a leaf of serial 0x1234, and the responder's answer about it.
    let p256 = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    openssl(
        dir,
        &[
            &["req", "-x509"][..],
            &p256,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "2",
                "-subj",
                "/CN=OCSP test CA",
            ],
        ]
        .concat(),
    );
    openssl(
        dir,
        &[
            &["req"][..],
            &p256,
            &[
                "-keyout",
                "leaf.key",
                "-out",
                "leaf.csr",
                "-subj",
                "/CN=x.gw.test",
                "-addext",
                "subjectAltName=DNS:*.gw.test",
            ],
        ]
        .concat(),
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "0x1234",
            "-days",
            "1",
            "-copy_extensions",
            "copy",
            "-out",
            "leaf.crt",
        ],
    );
    std::fs::write(
        dir.join("index.txt"),
        "V\t301231235959Z\t\t1234\tunknown\t/CN=x.gw.test\n",
    )
    .unwrap();
    ocsp_response(dir, "leaf.crt");
    let chain = std::fs::read_to_string(dir.join("leaf.crt")).unwrap()
        + &std::fs::read_to_string(dir.join("ca.crt")).unwrap();
    std::fs::write(dir.join("default.crt"), chain).unwrap();
    std::fs::copy(dir.join("leaf.key"), dir.join("default.key")).unwrap();
    let config = std::fs::read_to_string(&gw.config_path).unwrap().replace(
        "key = \"default.key\"\n",
        "key = \"default.key\"\nocsp = \"default.ocsp\"\n",
    );
    std::fs::write(&gw.config_path, config).unwrap();

    let good = "OCSP Response Status: successful";
    let on = eventually(Duration::from_secs(10), async || {
        stapled(&gw).await.contains(good)
    })
    .await;
    assert!(on, "no staple:\n{}\n{}", stapled(&gw).await, gw.log());
    assert!(stapled(&gw).await.contains("Cert Status: good"));

    // A broken response file is refused, naming it; the last good staple stays.
    std::fs::write(dir.join("default.ocsp"), b"garbage").unwrap();
    assert!(
        gw.wait_for_log("not a DER OCSP response", Duration::from_secs(10))
            .await,
        "{}",
        gw.log()
    );
    assert!(gw.log().contains("default.ocsp"), "{}", gw.log());
    assert!(stapled(&gw).await.contains(good));
    let (ok, said) = check(&gw);
    assert!(!ok && said.contains("default.ocsp"), "{said}");

    // A response about another certificate is refused too.
    std::fs::write(
        dir.join("index.txt"),
        "V\t301231235959Z\t\t99\tunknown\t/CN=other\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "leaf.key",
            "-subj",
            "/CN=other",
            "-out",
            "other.csr",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "other.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "0x99",
            "-days",
            "1",
            "-out",
            "other.crt",
        ],
    );
    ocsp_response(dir, "other.crt");
    let (ok, said) = check(&gw);
    assert!(!ok && said.contains("not about this certificate"), "{said}");
}

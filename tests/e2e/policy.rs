//! The access policy in the running gateway: default deny (log in, or a 403 page naming the app),
//! public paths that pass, normalised paths that cannot sneak past a rule, decisions metered and
//! refusals logged with their rule, and hot reload that keeps the last good policy and never
//! shows a request a half-loaded one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use pforte_e2e::client::{H1, plain};
use pforte_e2e::eventually;
use pforte_e2e::gateway::{Gateway, app_toml};
use pforte_e2e::upstream::Upstream;

/// Mail and a wiki; the wiki's handbook may be read by anyone, its runbooks by nobody here.
const POLICY: &str = r#"[[rule]]
apps = ["*"]
paths = ["/.well-known/"]
allow = ["everyone"]

[[rule]]
apps = ["wiki"]
paths = ["/handbook/"]
methods = ["GET", "HEAD"]
allow = ["everyone"]

[[rule]]
apps = ["wiki"]
paths = ["/handbook/drafts/"]
deny = ["everyone"]

[[rule]]
apps = ["mail", "wiki"]
allow = ["group:staff"]
"#;

async fn start(policy: &str) -> (Gateway, Upstream, Upstream) {
    let mail = Upstream::start("mail").await;
    let wiki = Upstream::start("wiki").await;
    let apps = app_toml(
        "mail",
        "mail.gw.test",
        "/",
        &[mail.url()],
        "display_name = \"Team Mail\"",
    ) + &app_toml(
        "wiki",
        "wiki.gw.test",
        "/",
        &[wiki.url()],
        "display_name = \"Knowledge base\"",
    );
    let gw = Gateway::builder()
        .apps(apps)
        .policy(policy)
        .admin_token("s3cret-admin")
        .audit_log()
        .start()
        .await;
    (gw, mail, wiki)
}

async fn reload(gw: &Gateway) -> pforte_e2e::client::Reply {
    plain(
        gw.admin,
        "POST",
        "/reload",
        &[("authorization", "Bearer s3cret-admin")],
    )
    .await
}

#[tokio::test]
async fn default_deny_public_paths_pass_and_refusals_are_audited() {
    let (gw, mail, wiki) = start(POLICY).await;
    let mut client = H1::connect(gw.https, "mail.gw.test", &gw.root()).await;

    // Someone not logged in is sent to log in; a refused request never reaches the app.
    let refused = client.get("/inbox").await;
    assert_eq!(refused.status, 302);
    assert!(
        refused
            .header("location")
            .unwrap()
            .starts_with("https://login.gw.test/login?return_to="),
        "{:?}",
        refused.headers
    );
    assert_eq!(mail.count(), 0, "a refused request never reaches the app");

    let public = client.get("/.well-known/security.txt").await;
    assert_eq!(public.status, 200, "{}", public.text());
    assert_eq!(public.json()["upstream"], "mail");

    // Dot segments and encoded dots are normalised before routing and the decision, and the
    // app receives the normalised path.
    for sneaky in [
        "/.well-known/../inbox",
        "/.well-known/%2e%2e/inbox",
        "/.well-known//..//inbox",
    ] {
        assert_eq!(client.get(sneaky).await.status, 302, "{sneaky}");
    }
    let normalised = client.get("/x/../.well-known/./a?q=1").await;
    assert_eq!(normalised.status, 200);
    assert_eq!(normalised.json()["path"], "/.well-known/a");
    assert_eq!(normalised.json()["query"], "q=1");
    assert_eq!(client.get("/.well-known/%2F..%2Finbox").await.status, 400);

    let mut wiki_client = H1::connect(gw.https, "wiki.gw.test", &gw.root()).await;
    assert_eq!(wiki_client.get("/handbook/welcome").await.status, 200);
    let post = wiki_client
        .send(
            wiki_client
                .request("POST", "/handbook/welcome")
                .body(Default::default())
                .unwrap(),
        )
        .await;
    assert_eq!(post.status, 302, "methods limit the public rule");
    let draft = wiki_client.get("/handbook/drafts/plan").await;
    assert_eq!(draft.status, 403, "the deny rule wins over the allow rule");
    assert!(draft.text().contains("Knowledge base"));
    assert_eq!(wiki.count(), 1);

    let allowed = gw
        .metric("pforte_policy_decisions_total{app=\"mail\",result=\"allow\"}")
        .await;
    assert_eq!(allowed, Some(2.0));
    let login = gw
        .metric("pforte_policy_decisions_total{app=\"mail\",result=\"login_required\"}")
        .await;
    assert_eq!(login, Some(4.0), "the inbox and three sneaky paths");
    let denied = gw
        .metric("pforte_policy_decisions_total{app=\"wiki\",result=\"deny\"}")
        .await;
    assert_eq!(denied, Some(1.0));

    // Every refusal is in the audit log with its rule (file:line) or the absence of one.
    let audit = gw.audit();
    let denials: Vec<_> = audit
        .iter()
        .filter(|e| e["event"] == "access_denied")
        .collect();
    assert_eq!(denials.len(), 6, "{audit:?}");
    let draft = denials
        .iter()
        .find(|e| e["path"] == "/handbook/drafts/plan")
        .unwrap();
    assert_eq!(draft["app"], "wiki");
    assert_eq!(draft["decision"], "deny");
    assert!(
        draft["rule"].as_str().unwrap().ends_with("policy.toml:12"),
        "{draft}"
    );
    assert_eq!(draft["source"], "127.0.0.1");
    assert!(denials.iter().any(|e| e["decision"] == "login_required"
        && e["rule"] == "an allow rule needs a logged-in person"));
    assert!(
        !gw.log().contains("access_denied"),
        "audit events stay out of the diagnostic log"
    );
}

#[tokio::test]
async fn a_broken_policy_keeps_the_last_good_one_and_a_fixed_one_applies() {
    let (gw, _mail, _wiki) = start(POLICY).await;
    assert_eq!(gw.get("mail.gw.test", "/inbox").await.status, 302);
    let loaded_at = gw
        .metric("pforte_policy_last_reload_success_timestamp_seconds")
        .await
        .unwrap();
    assert!(loaded_at > 0.0);

    gw.replace_file(
        "policy.toml",
        POLICY.replace("allow = [\"group:staff\"]", "allow = 7"),
    );
    let refused = reload(&gw).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.text().contains("policy.toml:"),
        "{}",
        refused.text()
    );
    assert!(
        gw.wait_for_log("reload refused", Duration::from_secs(5))
            .await
    );
    assert!(gw.log().contains("policy.toml:"), "{}", gw.log());
    assert!(
        gw.metric("pforte_policy_reload_total{result=\"error\"}")
            .await
            .unwrap()
            >= 1.0
    );
    assert_eq!(
        gw.get("mail.gw.test", "/.well-known/x").await.status,
        200,
        "the last good policy still decides"
    );
    assert_eq!(
        gw.metric("pforte_policy_rules").await,
        Some(4.0),
        "the last good policy's size"
    );

    // A fixed policy that includes a new file, picked up by watching the files alone.
    std::fs::create_dir(gw.path("policy.d")).unwrap();
    let include = gw.path("policy.d/.open.tmp");
    std::fs::write(
        &include,
        "[[rule]]\napps = [\"mail\"]\npaths = [\"/inbox\"]\nallow = [\"everyone\"]\n",
    )
    .unwrap();
    std::fs::rename(&include, gw.path("policy.d/open.toml")).unwrap();
    gw.replace_file(
        "policy.toml",
        format!("include = [\"policy.d/*.toml\"]\n{POLICY}"),
    );
    assert!(
        eventually(Duration::from_secs(10), async || gw
            .get("mail.gw.test", "/inbox")
            .await
            .status
            == 200)
        .await,
        "the fixed policy was not loaded:\n{}",
        gw.log()
    );
    assert_eq!(gw.metric("pforte_policy_rules").await, Some(5.0));
    assert!(
        gw.metric("pforte_policy_last_reload_success_timestamp_seconds")
            .await
            .unwrap()
            >= loaded_at
    );
}

#[tokio::test]
async fn requests_during_policy_flips_see_the_old_or_the_new_policy_only() {
    let open = "[[rule]]\napps = [\"mail\"]\npaths = [\"/\"]\nallow = [\"everyone\"]\n";
    let closed =
        "[[rule]]\napps = [\"mail\"]\npaths = [\"/.well-known/\"]\nallow = [\"everyone\"]\n";
    let (gw, _mail, _wiki) = start(open).await;
    let gw = Arc::new(gw);
    let stop = Arc::new(AtomicBool::new(false));
    let (allowed, refused) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (gw, stop) = (gw.clone(), stop.clone());
        let (allowed, refused) = (allowed.clone(), refused.clone());
        clients.push(tokio::spawn(async move {
            let mut client = H1::connect(gw.https, "mail.gw.test", &gw.root()).await;
            let mut unexpected = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let reply = client.get("/inbox").await;
                match reply.status {
                    200 if reply.json()["upstream"] == "mail" => {
                        allowed.fetch_add(1, Ordering::Relaxed)
                    }
                    403 => refused.fetch_add(1, Ordering::Relaxed),
                    _ => {
                        unexpected.push(reply.status);
                        0
                    }
                };
            }
            unexpected
        }));
    }
    for round in 0..20 {
        gw.replace_file("policy.toml", if round % 2 == 0 { closed } else { open });
        assert_eq!(reload(&gw).await.status, 200, "{}", gw.log());
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        let unexpected = client.await.unwrap();
        assert!(
            unexpected.is_empty(),
            "answers other than 200 or 403: {unexpected:?}"
        );
    }
    assert!(allowed.load(Ordering::Relaxed) > 0 && refused.load(Ordering::Relaxed) > 0);
    assert_eq!(
        gw.metric("pforte_policy_reload_total{result=\"error\"}")
            .await,
        Some(0.0)
    );
}

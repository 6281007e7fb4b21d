use std::path::Path;

use super::*;
use crate::clients::{ClientType, GrantType, cheap_hash};
use crate::scope::Scope;

fn file() -> &'static Path {
    Path::new("clients.toml")
}

/// A file as an admin keeps it: a header, a comment per client, a comment on a line.
fn sample() -> String {
    format!(
        r#"# Registered OIDC clients.
# Reloaded like the policy.

# The office suite.
[[client]]
id = "office"
app = "docs"
secret_hash = "{}"   # rotated 2026-01
redirect_uris = ["https://office.example.org/cb"]
scopes = ["openid", "profile"]

# ---- local tools ----

# The sync tool on people's laptops.
[[client]]
id = "sync"
app = "files"
public = true
redirect_uris = ["http://127.0.0.1:8765/callback"]
scopes = ["openid"]
"#,
        cheap_hash("office-secret")
    )
}

fn new_client(id: &str) -> NewClient {
    NewClient {
        id: id.into(),
        app: "chat".into(),
        secret_hash: Some(cheap_hash("chat-secret")),
        redirect_uris: vec!["https://chat.example.org/oidc/cb".into()],
        scopes: vec!["openid".into(), "email".into()],
        ..NewClient::default()
    }
}

fn refused(result: Result<Edited, EditError>) -> String {
    match result {
        Err(EditError::Refused(e)) => e.to_string(),
        other => panic!("expected Refused, got {other:?}"),
    }
}

#[test]
fn add_appends_a_table_and_keeps_everything_else() {
    let text = sample();
    let mut client = new_client("chat");
    client.post_logout_redirect_uris = vec!["https://chat.example.org/".into()];
    client.grant_types = vec!["authorization_code".into(), "refresh_token".into()];
    client.backchannel_logout_uri = Some("https://chat.example.org/bcl".into());
    client.pairwise_subject = true;
    let edited = add(file(), &text, &client).unwrap();
    assert!(edited.text.starts_with(&text), "{}", edited.text);
    let added = &edited.text[text.len()..];
    assert!(
        added.starts_with("\n[[client]]\nid = \"chat\"\napp = \"chat\"\n"),
        "{added}"
    );
    let chat = edited.clients.get("chat").unwrap();
    assert!(matches!(&chat.client_type, ClientType::Confidential(h) if h.verify("chat-secret")));
    assert_eq!(chat.redirect_uris, client.redirect_uris);
    assert!(chat.has_post_logout_redirect_uri("https://chat.example.org/"));
    assert!(chat.allows(GrantType::RefreshToken));
    assert!(chat.scopes.contains(Scope::Email));
    assert!(chat.pairwise_subject);
    assert_eq!(edited.clients.len(), 3);
}

#[test]
fn add_writes_a_public_client_without_optional_keys() {
    let mut client = new_client("cli");
    client.secret_hash = None;
    client.redirect_uris = vec!["http://[::1]:9000/cb".into()];
    let edited = add(file(), &sample(), &client).unwrap();
    assert!(edited.text.ends_with(
        "\n\n[[client]]\nid = \"cli\"\napp = \"chat\"\npublic = true\n\
         redirect_uris = [\"http://[::1]:9000/cb\"]\nscopes = [\"openid\", \"email\"]\n"
    ));
    assert!(edited.clients.get("cli").unwrap().is_public());
}

#[test]
fn add_to_an_empty_or_comment_only_file_keeps_the_header_on_top() {
    let edited = add(file(), "", &new_client("chat")).unwrap();
    assert!(
        edited.text.starts_with("[[client]]\nid = \"chat\""),
        "{}",
        edited.text
    );

    let header = "# Clients.\n# None yet.\n";
    let edited = add(file(), header, &new_client("chat")).unwrap();
    assert!(
        edited
            .text
            .starts_with("# Clients.\n# None yet.\n\n[[client]]\nid = \"chat\""),
        "{}",
        edited.text
    );
    assert_eq!(edited.clients.len(), 1);
}

#[test]
fn refused_additions_carry_the_loaders_message() {
    let text = sample();
    let mut bad = new_client("chat");
    bad.redirect_uris = vec!["https://chat.example.org/cb#frag".into()];
    assert!(refused(add(file(), &text, &bad)).contains("has a fragment"));

    bad.redirect_uris = vec!["http://chat.example.org/cb".into()];
    assert!(refused(add(file(), &text, &bad)).contains("uses http on a non-loopback host"));

    bad.redirect_uris = vec!["not a uri".into()];
    assert!(refused(add(file(), &text, &bad)).contains("is not an absolute URI"));

    let mut bad = new_client("chat");
    bad.scopes = vec!["openid".into(), "admin".into()];
    assert!(refused(add(file(), &text, &bad)).contains("unknown scope \"admin\""));

    let message = refused(add(file(), &text, &new_client("office")));
    assert!(
        message.contains("client id \"office\" is registered twice"),
        "{message}"
    );
    assert!(
        message.contains("clients.toml:"),
        "with its place: {message}"
    );
}

#[test]
fn remove_takes_the_clients_own_comment_and_keeps_the_section_heading() {
    let text = sample();
    let edited = remove(file(), &text, "sync").unwrap();
    assert!(!edited.text.contains("sync"), "{}", edited.text);
    assert!(!edited.text.contains("laptops"), "{}", edited.text);
    assert!(
        edited.text.contains("\n\n# ---- local tools ----\n"),
        "{}",
        edited.text
    );
    assert!(edited.text.contains("# rotated 2026-01\n"));
    assert_eq!(edited.clients.len(), 1);
}

#[test]
fn removing_the_first_client_keeps_the_file_header() {
    let edited = remove(file(), &sample(), "office").unwrap();
    let expect = "# Registered OIDC clients.\n# Reloaded like the policy.\n\n\
                  # ---- local tools ----\n\n# The sync tool on people's laptops.\n[[client]]\n\
                  id = \"sync\"\n";
    assert!(edited.text.starts_with(expect), "{}", edited.text);
    assert!(!edited.text.contains("office"));

    let edited = remove(file(), &edited.text, "sync").unwrap();
    assert!(edited.clients.is_empty());
    assert!(
        edited.text.starts_with("# Registered OIDC clients."),
        "{}",
        edited.text
    );
    assert!(!edited.text.contains("[[client]]"), "{}", edited.text);
    // The emptied file takes a client again, below its header.
    let again = add(file(), &edited.text, &new_client("chat")).unwrap();
    assert!(
        again.text.starts_with("# Registered OIDC clients."),
        "{}",
        again.text
    );
}

#[test]
fn set_secret_hash_replaces_only_the_hash() {
    let text = sample();
    let hash = cheap_hash("new-secret");
    let edited = set_secret_hash(file(), &text, "office", &hash).unwrap();
    let office = edited.clients.get("office").unwrap();
    assert!(matches!(&office.client_type, ClientType::Confidential(h)
        if h.verify("new-secret") && !h.verify("office-secret")));
    assert_eq!(
        edited.text,
        text.replace(&cheap_hash("office-secret"), &hash),
        "only the hash changes, the comment on its line stays"
    );
}

#[test]
fn secrets_of_public_or_unknown_clients_are_not_set() {
    let text = sample();
    let hash = cheap_hash("x");
    assert_eq!(
        set_secret_hash(file(), &text, "sync", &hash).unwrap_err(),
        EditError::PublicClient("sync".into())
    );
    assert_eq!(
        set_secret_hash(file(), &text, "nope", &hash).unwrap_err(),
        EditError::NoSuchClient("nope".into())
    );
    assert_eq!(
        remove(file(), &text, "nope").unwrap_err(),
        EditError::NoSuchClient("nope".into())
    );
    assert_eq!(
        remove(file(), "", "nope").unwrap_err(),
        EditError::NoSuchClient("nope".into())
    );
    let message = refused(set_secret_hash(file(), &text, "office", "hunter2"));
    assert!(message.contains("not a PHC string"), "{message}");
}

#[test]
fn add_writes_a_key_client_that_may_exchange_and_must_push() {
    let client = NewClient {
        id: "indexer".into(),
        app: "chat".into(),
        jwks_uri: Some("https://indexer.example.org/jwks.json".into()),
        redirect_uris: vec!["https://indexer.example.org/cb".into()],
        scopes: vec!["openid".into()],
        grant_types: vec!["authorization_code".into(), "token_exchange".into()],
        exchange_audiences: vec!["office".into()],
        require_pushed_authorization_requests: true,
        ..NewClient::default()
    };
    let edited = add(file(), &sample(), &client).unwrap();
    assert!(
        edited
            .text
            .contains("jwks_uri = \"https://indexer.example.org/jwks.json\"")
    );
    let indexer = edited.clients.get("indexer").unwrap();
    assert!(matches!(indexer.client_type, ClientType::KeyHolder(_)));
    assert_eq!(indexer.exchange_audiences, vec!["office".to_owned()]);
    assert!(indexer.require_pushed_requests);
    assert_eq!(
        set_secret_hash(file(), &edited.text, "indexer", &cheap_hash("x")).unwrap_err(),
        EditError::KeyClient("indexer".into())
    );
}

#[test]
fn a_broken_file_is_not_edited() {
    let broken = format!("{}\n[[client]]\nid = \"x\"\n", sample());
    match add(file(), &broken, &new_client("chat")) {
        Err(EditError::Broken(e)) => assert!(e.to_string().starts_with("clients.toml:")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        remove(file(), "[[client]\n", "x"),
        Err(EditError::Broken(_))
    ));
}

#[test]
fn inline_client_arrays_are_left_to_the_admin() {
    let inline = "client = [{ id = \"a\", app = \"docs\", public = true, \
                  redirect_uris = [\"https://a.example.org/cb\"], scopes = [\"openid\"] }]\n";
    assert!(Clients::parse(file(), inline).is_ok());
    assert_eq!(
        add(file(), inline, &new_client("chat")).unwrap_err(),
        EditError::Layout(file().to_path_buf())
    );
}

#[test]
fn the_demo_clients_file_loads_and_its_secret_verifies() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/clients.toml");
    let clients = Clients::load(&path).unwrap();
    let docs = clients.get("docs").unwrap();
    assert_eq!(docs.app, "docs");
    assert!(docs.has_redirect_uri("https://docs.localhost:8443/oidc/callback"));
    assert!(
        matches!(&docs.client_type, ClientType::Confidential(h) if h.verify("docs-demo-secret"))
    );
    let cli = clients.get("cli").unwrap();
    assert!(cli.is_public());
    assert!(cli.has_redirect_uri("http://127.0.0.1:8765/callback"));
}

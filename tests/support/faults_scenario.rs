//! What the gateways under fault injection serve, and so what the load generator must see: the
//! apps, the access policy, the OIDC clients and the people (from the harness's slapd, with their
//! groups), in one place, so the files a gateway loads and the answers the load generator
//! expects cannot drift apart (`tests/bench/faults.sh` writes its files from here too).

use crate::gateway::{GatewayBuilder, UNLIMITED_RATES, app_toml};

/// The login host.
pub const LOGIN_HOST: &str = "login.gw.test";

/// The apps behind the gateway; each a host of its own.
pub const APPS: [&str; 3] = ["mail", "docs", "finance"];

/// Staff read mail and docs, partners docs, the finance group its ledger. Nobody else gets in.
pub const POLICY: &str = r#"[[rule]]
apps = ["mail", "docs"]
allow = ["group:staff"]

[[rule]]
apps = ["docs"]
allow = ["group:partners"]

[[rule]]
apps = ["finance"]
allow = ["group:finance"]
"#;

/// A confidential OIDC client: its id, its app, its secret.
pub struct RelyingParty {
    /// The `client_id`.
    pub id: &'static str,
    /// The app whose rules decide who may have tokens.
    pub app: &'static str,
    /// The client secret (the clients file holds its hash).
    pub secret: &'static str,
}

/// Two clients: one for an app most people may use, one for an app few may.
pub const CLIENTS: [RelyingParty; 2] = [
    RelyingParty {
        id: "docs",
        app: "docs",
        secret: "docs-faults-secret-0123456789",
    },
    RelyingParty {
        id: "ledger",
        app: "finance",
        secret: "ledger-faults-secret-0123456789",
    },
];

/// Where the clients say they live (never called: the load generator reads the code from the
/// redirect's `Location`).
pub const CALLBACK: &str = "https://rp.gw.test/callback";

/// A person of the demo directory (deploy/ldap/demo.ldif) and the apps the policy lets them use.
pub struct Person {
    /// The login name.
    pub username: &'static str,
    /// The password (deploy/ldap/passwords).
    pub password: &'static str,
    /// The apps of [`APPS`] the policy allows them.
    pub apps: &'static [&'static str],
}

/// Everyone who can log in (dave is disabled and is left out: failed logins feed the throttle,
/// which would then refuse everyone from 127.0.0.1).
pub const PEOPLE: [Person; 4] = [
    Person {
        username: "alice",
        password: "alicepw",
        apps: &["mail", "docs"],
    },
    Person {
        username: "bob",
        password: "bobpw",
        apps: &["docs"],
    },
    Person {
        username: "carol",
        password: "carolpw",
        apps: &["mail", "docs", "finance"],
    },
    Person {
        username: "erin",
        password: "erinpw",
        apps: &["mail", "docs"],
    },
];

impl Person {
    /// Whether the policy lets this person use `app`.
    pub fn may_use(&self, app: &str) -> bool {
        self.apps.contains(&app)
    }
}

/// The host of `app`.
pub fn host_of(app: &str) -> String {
    format!("{app}.gw.test")
}

/// The apps file: every app on `upstream`.
pub fn apps_toml(upstream: &str) -> String {
    APPS.iter()
        .map(|app| app_toml(app, &host_of(app), "/", &[upstream.to_owned()], ""))
        .collect()
}

/// The clients file, with each secret hashed (argon2id, as `pforte-admin clients add` does).
pub fn clients_toml() -> String {
    CLIENTS
        .iter()
        .map(|rp| {
            let salt: [u8; 16] = std::array::from_fn(|i| (i as u8).wrapping_mul(31) ^ 0x5a);
            let hash = pforte_oidc::clients::SecretHash::create(rp.secret, salt).unwrap();
            format!(
                "[[client]]\nid = \"{id}\"\napp = \"{app}\"\nsecret_hash = \"{hash}\"\n\
                 redirect_uris = [\"{CALLBACK}\"]\nscopes = [\"openid\", \"profile\"]\n\
                 grant_types = [\"authorization_code\", \"refresh_token\"]\n\n",
                id = rp.id,
                app = rp.app,
            )
        })
        .collect()
}

/// A gateway serving the scenario: its apps on `upstream`, the policy, the clients, and the
/// LDAP servers at `ldap_urls` (in order).
pub fn gateway(upstream: &str, ldap_urls: &[String]) -> GatewayBuilder {
    GatewayBuilder::default()
        .apps(apps_toml(upstream))
        .policy(POLICY)
        .ldap(ldap_urls)
        .oidc(&clients_toml())
        .limits(UNLIMITED_RATES)
}

//! Shared fixtures for the unit tests.

use std::path::Path;

use crate::clients::Clients;
use crate::clients::cheap_hash;

/// The issuer used throughout the tests.
pub(crate) const ISSUER: &str = "https://login.example.org";

/// A `clients.toml` with a confidential, a public and a service client.
pub(crate) fn sample() -> String {
    format!(
        r#"
[[client]]
id = "nextcloud"
app = "docs"
secret_hash = "{}"
redirect_uris = ["https://cloud.example.org/apps/user_oidc/code"]
post_logout_redirect_uris = ["https://cloud.example.org/"]
scopes = ["openid", "profile", "email", "groups", "offline_access"]
grant_types = ["authorization_code", "refresh_token"]
backchannel_logout_uri = "https://cloud.example.org/apps/user_oidc/backchannel-logout"
pairwise_subject = true
access_token_seconds = 120

[[client]]
id = "cli"
app = "docs"
public = true
redirect_uris = ["http://127.0.0.1:8400/callback"]
scopes = ["openid"]

[[client]]
id = "backup-job"
app = "backup"
secret_hash = "{}"
grant_types = ["client_credentials"]
"#,
        cheap_hash("nc-secret"),
        cheap_hash("job-secret")
    )
}

pub(crate) fn clients() -> Clients {
    Clients::parse(Path::new("clients.toml"), &sample()).unwrap()
}

//! `clients add|rotate-secret|remove`. Each change is computed and validated in full before
//! anything is asked or written; then it is confirmed (rotate and remove), written atomically,
//! and audited with the admin's OS user. A new secret is 256 random bits (URL-safe base64),
//! printed once on standard output and stored only as its argon2id hash; it never reaches the
//! audit log.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pforte::telemetry::audit::{AuditEvent, ClientChange};
use pforte_oidc::Clients;
use pforte_oidc::clients::SecretHash;
use pforte_oidc::clients::edit::{self, NewClient};

use super::{ClientsCmdError, Ctx, file};
use crate::audit;
use crate::confirm::confirm;
use crate::error::CmdError;
use crate::opt::AddClientArgs;

/// Random bytes in a client secret: 256 bits.
const SECRET_BYTES: usize = 32;
/// Random bytes in the hash's salt (argon2's recommended 128 bits).
const SALT_BYTES: usize = 16;

/// A secret made for a client: shown once, stored as `hash`.
struct NewSecret {
    secret: String,
    hash: String,
}

/// `clients add`: registers a client of an app that exists.
pub fn add(ctx: &Ctx, path: &Path, args: AddClientArgs) -> Result<(), CmdError> {
    check_app(ctx, &args.app)?;
    let before = file::read(path)?;
    let secret = if args.public || args.jwks_uri.is_some() {
        None
    } else {
        Some(new_secret()?)
    };
    let client = NewClient {
        id: args.id,
        app: args.app,
        secret_hash: secret.as_ref().map(|s| s.hash.clone()),
        redirect_uris: args.redirect_uris,
        post_logout_redirect_uris: args.post_logout_redirect_uris,
        scopes: args.scopes,
        grant_types: args.grant_types,
        backchannel_logout_uri: args.backchannel_logout_uri,
        pairwise_subject: args.pairwise,
        jwks_uri: args.jwks_uri,
        exchange_audiences: args.exchange_audiences,
        require_pushed_authorization_requests: args.require_par,
    };
    let edited = edit::add(path, &before.text, &client).map_err(ClientsCmdError::from)?;
    file::replace(&before, &edited.text)?;
    record(ClientChange::Added, &client.id, &client.app, &ctx.by);
    match (secret, &client.jwks_uri) {
        (Some(secret), _) => print_secret(
            &format!("Added client {:?} for app {:?}.", client.id, client.app),
            &client.id,
            &secret.secret,
        ),
        (None, Some(uri)) => println!(
            "Added client {:?} for app {:?}: no secret; it signs its requests with its own key, \
             checked against the keys at {uri} (private_key_jwt).\n{RELOAD}",
            client.id, client.app
        ),
        (None, None) => println!(
            "Added public client {:?} for app {:?}: no secret; it must use PKCE (S256).\n{RELOAD}",
            client.id, client.app
        ),
    }
    Ok(())
}

/// `clients rotate-secret ID`: a new secret replaces the old one. Asks first.
pub fn rotate_secret(ctx: &Ctx, path: &Path, id: &str) -> Result<(), CmdError> {
    let before = file::read(path)?;
    let secret = new_secret()?;
    let edited = edit::set_secret_hash(path, &before.text, id, &secret.hash)
        .map_err(ClientsCmdError::from)?;
    confirm(
        &format!(
            "give client {id:?} a new secret? The old one stops working when the gateways reload"
        ),
        ctx.yes,
    )?;
    file::replace(&before, &edited.text)?;
    record(
        ClientChange::SecretRotated,
        id,
        app_of(&edited.clients, id),
        &ctx.by,
    );
    print_secret(
        &format!("New secret for client {id:?}; the old one stops working at the next reload."),
        id,
        &secret.secret,
    );
    Ok(())
}

/// `clients remove ID`: the client's app can no longer log people in. Asks first.
pub fn remove(ctx: &Ctx, path: &Path, id: &str) -> Result<(), CmdError> {
    let before = file::read(path)?;
    let edited = edit::remove(path, &before.text, id).map_err(ClientsCmdError::from)?;
    // The editor loaded the old text already, so this finds the removed client's app.
    let old = Clients::parse(path, &before.text).unwrap_or_default();
    confirm(
        &format!("remove client {id:?}? Its app can no longer log people in"),
        ctx.yes,
    )?;
    file::replace(&before, &edited.text)?;
    record(ClientChange::Removed, id, app_of(&old, id), &ctx.by);
    println!("Removed client {id:?}.\n{RELOAD}");
    Ok(())
}

/// What every change says about when it takes effect.
const RELOAD: &str =
    "Running gateways pick the change up on their next reload (they watch the file).";

/// Refuses a client of an app the gateway does not have (it would refuse the whole file).
fn check_app(ctx: &Ctx, app: &str) -> Result<(), CmdError> {
    if ctx.config()?.load_apps()?.iter().any(|a| a.name == app) {
        Ok(())
    } else {
        Err(CmdError::UnknownApp(app.to_owned()))
    }
}

fn app_of<'c>(clients: &'c Clients, id: &str) -> &'c str {
    clients.get(id).map_or("", |c| c.app.as_str())
}

fn record(change: ClientChange, client: &str, app: &str, by: &str) {
    audit::record(AuditEvent::ClientChanged {
        change,
        client,
        app,
        by,
    });
}

/// A fresh secret from the system's CSPRNG, and its argon2id hash with a fresh salt.
fn new_secret() -> Result<NewSecret, ClientsCmdError> {
    let mut bytes = [0u8; SECRET_BYTES];
    let mut salt = [0u8; SALT_BYTES];
    aws_lc_rs::rand::fill(&mut bytes)
        .and_then(|()| aws_lc_rs::rand::fill(&mut salt))
        .map_err(|_| ClientsCmdError::Secret("the system gives no randomness".into()))?;
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let hash =
        SecretHash::create(&secret, salt).map_err(|e| ClientsCmdError::Secret(e.to_string()))?;
    Ok(NewSecret { secret, hash })
}

/// The only place a secret is ever shown.
fn print_secret(done: &str, id: &str, secret: &str) {
    println!(
        "{done}\nclient_id:     {id}\nclient_secret: {secret}\n\
         This secret is not shown again (the clients file keeps only its hash): put it in the \
         app's OpenID Connect settings now.\n{RELOAD}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_256_random_bits_and_their_hashes_verify() {
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        assert_ne!(a.secret, b.secret);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a.secret).unwrap().len(), 32);
        let hash = SecretHash::parse(&a.hash).unwrap();
        assert!(hash.verify(&a.secret) && !hash.verify(&b.secret));
        assert!(!a.hash.contains(&a.secret));
    }
}

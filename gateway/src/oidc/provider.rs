//! The provider as one load of the files made it: the registered clients tied to the apps whose
//! access rules govern them, the discovery document, and the pairwise salt. Built off the
//! request path and swapped with the rest of the snapshot, so a client and the policy that
//! guards its app always come from the same load.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use openidconnect::core::CoreJwsSigningAlgorithm;
use pforte_keys::{Alg, KeySet};
use pforte_oidc::claims::PairwiseSalt;
use pforte_oidc::{Client, Clients, ClientsError, discovery};

use super::cors::WebOrigins;
use super::verified_secrets::VerifiedSecrets;
use crate::config::{App, Oidc};

/// Why the provider's files cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// `clients.toml` is invalid.
    #[error(transparent)]
    Clients(#[from] ClientsError),
    /// A client names an app that apps.toml does not define.
    #[error(
        "{place}: client {client:?} belongs to app {app:?}, which the apps file does not define"
    )]
    UnknownApp {
        /// Where the app is named.
        place: String,
        /// The client.
        client: String,
        /// The app it names.
        app: String,
    },
    /// A client asks for pairwise subjects but no salt is configured.
    #[error(
        "{file}: client {client:?} asks for pairwise subjects; set [oidc] pairwise_salt in gateway.toml"
    )]
    NoPairwiseSalt {
        /// The clients file.
        file: PathBuf,
        /// The client.
        client: String,
    },
    /// The issuer (the login host's URL) cannot be an OIDC issuer.
    #[error(transparent)]
    Issuer(#[from] discovery::InvalidIssuer),
    /// The discovery document could not be written.
    #[error("cannot write the discovery document: {0}")]
    Discovery(#[source] serde_json::Error),
}

/// The provider's state for one load.
pub struct Provider {
    /// The registered clients (shared with the slow-hash pool's threads without a copy).
    pub clients: Arc<Clients>,
    /// Each client's app, as an index into the snapshot's apps (and the policy's tables).
    apps: HashMap<String, usize>,
    /// The salt of pairwise subjects (empty when none is configured and no client needs one).
    pub salt: PairwiseSalt,
    /// The discovery document, rendered once.
    pub discovery: Bytes,
    /// Client secrets already checked against their argon2 hashes, so a busy service client
    /// does not pay a deliberately slow hash on every request.
    pub secrets: VerifiedSecrets,
    /// The origins whose browser apps may call the token, userinfo and revocation endpoints.
    pub web_origins: WebOrigins,
}

impl Provider {
    /// Loads the clients named by `config` and ties each to its app in `apps`.
    pub fn load(
        config: &Oidc,
        apps: &[App],
        issuer: &str,
        keys: &KeySet,
    ) -> Result<Self, ProviderError> {
        let clients = Clients::load(&config.clients_file)?;
        let mut by_client = HashMap::new();
        for client in clients.iter() {
            let Some(index) = apps.iter().position(|app| app.name == client.app) else {
                return Err(ProviderError::UnknownApp {
                    place: client.app_place.to_string(),
                    client: client.id.clone(),
                    app: client.app.clone(),
                });
            };
            if client.pairwise_subject && config.pairwise_salt.is_none() {
                return Err(ProviderError::NoPairwiseSalt {
                    file: config.clients_file.clone(),
                    client: client.id.clone(),
                });
            }
            by_client.insert(client.id.clone(), index);
        }
        let salt = PairwiseSalt::new(
            config
                .pairwise_salt
                .as_ref()
                .map(|s| s.expose().as_bytes().to_vec())
                .unwrap_or_default(),
        );
        let mut algs: Vec<CoreJwsSigningAlgorithm> = Vec::new();
        for key in keys.keys() {
            let alg = signing_alg(key.alg());
            if !algs.contains(&alg) {
                algs.push(alg);
            }
        }
        let document = discovery::document(issuer, algs)?;
        let discovery = serde_json::to_vec(&document)
            .map_err(ProviderError::Discovery)?
            .into();
        Ok(Self {
            web_origins: WebOrigins::of(&clients),
            clients: Arc::new(clients),
            apps: by_client,
            salt,
            discovery,
            secrets: VerifiedSecrets::default(),
        })
    }

    /// The index of the app whose access rules decide for `client`.
    pub fn app_of(&self, client: &Client) -> Option<usize> {
        self.apps.get(&client.id).copied()
    }
}

/// The `openidconnect` name of a key's algorithm (for discovery and `at_hash`).
pub fn signing_alg(alg: Alg) -> CoreJwsSigningAlgorithm {
    match alg {
        Alg::Es256 => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        Alg::Rs256 => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Alg::EdDsa => CoreJwsSigningAlgorithm::EdDsa,
    }
}

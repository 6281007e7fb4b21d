//! One load of `idps.toml`: the providers and their client secrets, read with the gateway's
//! secret rule (a file or an environment variable, never inline). Built off the request path
//! and swapped with the rest of the snapshot; a bad file keeps the last good partners.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

use pforte_federation::{Providers, ProvidersError, SecretRef};

use crate::config::Federation;
use crate::config::secret::{Secret, SecretSource};

/// The providers and the secret Pforte authenticates with at each.
#[derive(Debug)]
pub struct Partners {
    /// The providers, in file order.
    pub providers: Providers,
    /// Client secrets by provider id.
    secrets: HashMap<String, Secret>,
}

impl Partners {
    /// Loads the providers file `config` names.
    pub fn load(config: &Federation) -> Result<Self, ProvidersError> {
        let read: RefCell<HashMap<String, Secret>> = RefCell::default();
        let providers = Providers::load(&config.providers_file, |secret| {
            let value = SecretSource::from(secret)
                .read(Path::new(""))
                .map_err(|e| e.to_string())?;
            read.borrow_mut().insert(key(secret), value);
            Ok(())
        })?;
        let read = read.into_inner();
        let secrets = providers
            .iter()
            .filter_map(|p| Some((p.id.clone(), read.get(&key(&p.secret))?.clone())))
            .collect();
        Ok(Self { providers, secrets })
    }

    /// The client secret for provider `id`.
    pub fn secret(&self, id: &str) -> Option<&Secret> {
        self.secrets.get(id)
    }
}

fn key(secret: &SecretRef) -> String {
    match secret {
        SecretRef::File(path) => format!("file:{}", path.display()),
        SecretRef::Env(name) => format!("env:{name}"),
    }
}

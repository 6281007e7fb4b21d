//! Second factors seen by the admin: read any account's (disabled ones too) and remove them all
//! when a person lost their device. The admin account needs read and write on the three factor
//! attributes (deploy/ldap/README.md).

use std::collections::HashSet;

use ldap3::{Mod, Scope};

use crate::admin::AdminError;
use crate::factors::{FactorKind, StoredFactors};

use super::super::factors::{ATTRIBUTES, stored};
use super::super::search::{Query, search};
use super::LdapAdmin;

impl LdapAdmin {
    /// The factors of `username`, disabled or not.
    pub(crate) async fn factors(&self, username: &str) -> Result<StoredFactors, AdminError> {
        let user = self.find(username).await?;
        self.factors_of(&user.entry.dn).await
    }

    async fn factors_of(&self, dn: &str) -> Result<StoredFactors, AdminError> {
        let query = Query {
            base: dn,
            scope: Scope::Base,
            filter: "(objectClass=*)",
            attributes: &ATTRIBUTES,
            limit: 1,
        };
        let found = search(self.ldap.clone(), self.s.operation_timeout, query)
            .await
            .map_err(|e| self.op_error("read the second factors", e.into()))?;
        Ok(found.entries.first().map(stored).unwrap_or_default())
    }

    /// Removes every factor of `username` in one modify and returns what was there; an account
    /// without factors is left untouched. Each attribute is replaced by nothing, so a value
    /// added between the read and the modify goes too.
    pub(crate) async fn reset_factors(&self, username: &str) -> Result<StoredFactors, AdminError> {
        let user = self.find(username).await?;
        let held = self.factors_of(&user.entry.dn).await?;
        if held.is_empty() {
            return Ok(held);
        }
        let mods: Vec<Mod<&str>> = FactorKind::ALL
            .iter()
            .map(|kind| Mod::Replace(kind.ldap_attribute(), HashSet::new()))
            .collect();
        self.modify("remove the second factors", &user.entry.dn, mods)
            .await?;
        Ok(held)
    }
}

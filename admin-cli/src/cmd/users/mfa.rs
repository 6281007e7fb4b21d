//! `users mfa list|reset`: the second factors kept with each person in the directory, shown as
//! counts per kind (the values are sealed secrets and never leave the directory crate here), and
//! removed all at once for a person who lost their device. Listing reads with the gateway's own
//! account; a reset is a change through [`DirectoryAdmin`](pforte_directory::DirectoryAdmin),
//! asked first and audited like every other.

use pforte::telemetry::audit::DirectoryChange;
use pforte_directory::{FactorCounts, FactorKind};
use serde::Serialize;

use super::change::{audited, open_admin};
use crate::cmd::Ctx;
use crate::confirm::confirm;
use crate::error::CmdError;
use crate::output::{self, Table};

/// One person's line of `mfa list`.
#[derive(Serialize)]
struct Row {
    user: String,
    name: String,
    #[serde(flatten)]
    counts: FactorCounts,
}

/// `users mfa list`: every enabled person with factors (with `all`, everyone).
pub(super) async fn list(ctx: &Ctx, all: bool, json: bool) -> Result<(), CmdError> {
    let directory = ctx.directory()?;
    let mut rows = Vec::new();
    for user in directory.users().await? {
        let Some(factors) = directory.factors(&user.username).await? else {
            continue;
        };
        if all || !factors.is_empty() {
            rows.push(Row {
                user: user.username,
                name: user.display_name,
                counts: factors.counts(),
            });
        }
    }
    let mut table = Table::new(&["USER", "NAME", "TOTP", "PASSKEYS", "RECOVERY CODES"]);
    for row in &rows {
        let mut cells = vec![row.user.clone(), row.name.clone()];
        cells.extend(FactorKind::ALL.map(|kind| row.counts.of(kind).to_string()));
        table.row(cells);
    }
    output::show(json, &rows, &table)
}

/// `users mfa reset USER`: asks, removes every factor in one change, audits it.
pub(super) async fn reset(ctx: &Ctx, username: &str) -> Result<(), CmdError> {
    let admin = open_admin(ctx).await?;
    let account = admin.account(username).await?;
    let held = admin.factors(username).await?;
    if held.is_empty() {
        println!(
            "{} has no second factors; nothing to reset",
            account.username
        );
        return Ok(());
    }
    confirm(
        &format!(
            "remove every second factor of {} ({}): {}? They log in with their password alone \
             until they enrol again.",
            account.username,
            account.display_name,
            describe(held.counts())
        ),
        ctx.yes,
    )?;
    let removed = admin.reset_factors(username).await?;
    audited(ctx, DirectoryChange::FactorsReset, Some(&account), "");
    println!(
        "removed {} of {}",
        describe(removed.counts()),
        account.username
    );
    Ok(())
}

/// "1 TOTP, 10 recovery codes": the kinds a person has, with counts; "none" without any.
pub(super) fn describe(counts: FactorCounts) -> String {
    let parts: Vec<String> = FactorKind::ALL
        .into_iter()
        .filter(|kind| counts.of(*kind) > 0)
        .map(|kind| {
            let n = counts.of(kind);
            let name = match (kind, n) {
                (FactorKind::Totp, _) => "TOTP",
                (FactorKind::Passkey, 1) => "passkey",
                (FactorKind::Passkey, _) => "passkeys",
                (FactorKind::RecoveryCode, 1) => "recovery code",
                (FactorKind::RecoveryCode, _) => "recovery codes",
            };
            format!("{n} {name}")
        })
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_words() {
        let counts = |totp, passkeys, recovery_codes| FactorCounts {
            totp,
            passkeys,
            recovery_codes,
        };
        assert_eq!(describe(counts(0, 0, 0)), "none");
        assert_eq!(describe(counts(1, 0, 10)), "1 TOTP, 10 recovery codes");
        assert_eq!(describe(counts(0, 1, 1)), "1 passkey, 1 recovery code");
        assert_eq!(describe(counts(2, 3, 0)), "2 TOTP, 3 passkeys");
    }
}

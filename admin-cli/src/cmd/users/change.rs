//! `users add|set-password|disable|enable|delete`: changes through [`DirectoryAdmin`], LDAP bound
//! as the configured admin account or the people file, each written to the audit log.
//! Disabling or deleting someone also ends every session of theirs in the same command, wherever
//! the sessions are ([`SessionsAt`]): every gateway refuses them within 1 s and their OpenID
//! Connect clients get a back-channel logout. The groups commands open the directory and audit
//! their changes the same way.

use pforte::config::DirectoryConfig;
use pforte::telemetry::audit::{AuditEvent, DirectoryChange};
use pforte_directory::{Account, AdminError, DirectoryAdmin, LdapAdmin, NewUser, PeopleFile};

use super::password;
use crate::audit;
use crate::cmd::Ctx;
use crate::cmd::reach::SessionsAt;
use crate::confirm::confirm;
use crate::error::CmdError;

/// The directory opened for changes: the people file, or LDAP bound as the admin account with
/// its password from `bind_password_file` or, without one, asked on the terminal.
pub async fn open_admin(ctx: &Ctx) -> Result<DirectoryAdmin, CmdError> {
    let config = ctx.config()?;
    match &config.directory {
        None => Err(CmdError::NoDirectory(config.source.display().to_string())),
        Some(DirectoryConfig::File(settings)) => {
            Ok(DirectoryAdmin::File(PeopleFile::new(settings)))
        }
        Some(DirectoryConfig::Ldap(settings)) => {
            let admin = settings.admin.as_ref().ok_or_else(|| {
                AdminError::NotConfigured(format!(
                    "{} has no [directory.ldap.admin]: give the bind_dn of an account that may \
                     change the directory",
                    config.source.display()
                ))
            })?;
            let password = password::admin(admin)?;
            let ldap = LdapAdmin::connect(settings, &password).await?;
            Ok(DirectoryAdmin::Ldap(Box::new(ldap)))
        }
    }
}

/// Writes the audit event of a change.
pub fn audited(ctx: &Ctx, change: DirectoryChange, account: Option<&Account>, group: &str) {
    audit::record(AuditEvent::DirectoryChanged {
        change,
        user: account.map_or("", |a| a.username.as_str()),
        subject: account.map_or("", |a| a.subject.as_str()),
        group,
        by: &ctx.by,
    });
}

pub(super) async fn add(ctx: &Ctx, new: &NewUser) -> Result<(), CmdError> {
    let admin = open_admin(ctx).await?;
    let account = admin.add_user(new).await?;
    audited(ctx, DirectoryChange::UserAdded, Some(&account), "");
    let mut groups: Vec<&String> = new.groups.iter().collect();
    groups.sort_unstable();
    groups.dedup();
    for group in groups {
        audited(ctx, DirectoryChange::MemberAdded, Some(&account), group);
    }
    println!("added {} ({})", account.username, account.subject);
    if new.password.is_none() {
        println!(
            "no password yet: nobody can log in as {0} until `pforte-admin users set-password {0}`",
            account.username
        );
    }
    Ok(())
}

pub(super) async fn set_password(
    ctx: &Ctx,
    username: &str,
    from_stdin: bool,
) -> Result<(), CmdError> {
    let admin = open_admin(ctx).await?;
    admin.account(username).await?;
    let password = password::new(username, from_stdin)?;
    let account = admin.set_password(username, &password).await?;
    audited(ctx, DirectoryChange::PasswordSet, Some(&account), "");
    println!("password of {} set", account.username);
    Ok(())
}

pub(super) async fn set_disabled(
    ctx: &Ctx,
    username: &str,
    disabled: bool,
) -> Result<(), CmdError> {
    // Opened first: a Redis store that does not answer stops the command before any change.
    let at = SessionsAt::open(ctx).await?;
    let admin = open_admin(ctx).await?;
    let account = admin.set_disabled(username, disabled).await?;
    if disabled {
        audited(ctx, DirectoryChange::UserDisabled, Some(&account), "");
        println!("disabled {}", account.username);
        end_sessions(&at, &account).await
    } else {
        audited(ctx, DirectoryChange::UserEnabled, Some(&account), "");
        println!("enabled {}", account.username);
        Ok(())
    }
}

pub(super) async fn delete(ctx: &Ctx, username: &str) -> Result<(), CmdError> {
    let at = SessionsAt::open(ctx).await?;
    let admin = open_admin(ctx).await?;
    let account = admin.account(username).await?;
    confirm(
        &format!(
            "delete {} ({}) with their group memberships and sessions?",
            account.username, account.display_name
        ),
        ctx.yes,
    )?;
    let account = admin.delete_user(username).await?;
    audited(ctx, DirectoryChange::UserDeleted, Some(&account), "");
    println!("deleted {}", account.username);
    end_sessions(&at, &account).await
}

/// Ends the account's sessions on every gateway (within 1 s), each audited; when that fails
/// after the directory change, says that the change stands and the sessions do not.
async fn end_sessions(at: &SessionsAt, account: &Account) -> Result<(), CmdError> {
    match at.revoke_subject(&account.subject).await {
        Ok(ended) => {
            println!(
                "ended {} session(s) of {} in {}",
                ended.len(),
                account.username,
                at.describe()
            );
            Ok(())
        }
        Err(source) => Err(CmdError::SessionsNotEnded {
            user: account.username.clone(),
            source: Box::new(source),
        }),
    }
}

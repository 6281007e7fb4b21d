//! `groups list|show|add|add-member|remove-member`. Reading uses the gateway's own directory
//! account (no admin password needed) and the same nested-group walk as a login, so `groups
//! show` lists exactly the people whose logins get the group; changes go through the directory
//! opened for changes, like the users commands.

use pforte::telemetry::audit::DirectoryChange;
use pforte_directory::{AdminError, GroupRecord, Member, MemberKind};

use super::Ctx;
use super::users::{audited, open_admin};
use crate::error::{CmdError, Exit};
use crate::opt::GroupsCommand;
use crate::output::{self, Table};

/// Runs one groups command.
pub async fn run(ctx: &Ctx, command: GroupsCommand) -> Result<Exit, CmdError> {
    match command {
        GroupsCommand::List { json } => {
            let groups = ctx.directory()?.groups().await?;
            output::show(json.json, &groups, &list_table(&groups))?;
        }
        GroupsCommand::Show { group, json } => {
            let groups = ctx.directory()?.groups().await?;
            let found = pick(&groups, &group)?;
            if json.json {
                println!("{}", serde_json::to_string_pretty(found)?);
            } else {
                print!("{}", render(found));
            }
        }
        GroupsCommand::Add { group } => {
            open_admin(ctx).await?.add_group(&group).await?;
            audited(ctx, DirectoryChange::GroupAdded, None, &group);
            println!("added group {group}");
        }
        GroupsCommand::AddMember { group, user } => {
            let admin = open_admin(ctx).await?;
            admin.add_member(&group, &user).await?;
            let account = admin.account(&user).await?;
            audited(ctx, DirectoryChange::MemberAdded, Some(&account), &group);
            println!("added {} to {group}", account.username);
        }
        GroupsCommand::RemoveMember { group, user } => {
            let admin = open_admin(ctx).await?;
            admin.remove_member(&group, &user).await?;
            let account = admin.account(&user).await?;
            audited(ctx, DirectoryChange::MemberRemoved, Some(&account), &group);
            println!("removed {} from {group}", account.username);
        }
    }
    Ok(Exit::OK)
}

/// The group called `name`: the exact name, else the one name that matches without regard to
/// case (LDAP compares group names that way).
fn pick<'g>(groups: &'g [GroupRecord], name: &str) -> Result<&'g GroupRecord, CmdError> {
    let unknown = || CmdError::People(AdminError::UnknownGroup(name.to_string()));
    if let Some(exact) = groups.iter().find(|g| g.name == name) {
        return Ok(exact);
    }
    let mut loose = groups.iter().filter(|g| g.name.eq_ignore_ascii_case(name));
    match (loose.next(), loose.next()) {
        (Some(one), None) => Ok(one),
        _ => Err(unknown()),
    }
}

/// A member as one cell: nested groups marked with `@`, disabled people with `(disabled)`.
fn cell(member: &Member) -> String {
    let name = match member.kind {
        MemberKind::Group => format!("@{}", member.name),
        MemberKind::User | MemberKind::Other => member.name.clone(),
    };
    if member.disabled {
        format!("{name} (disabled)")
    } else {
        name
    }
}

/// `groups list`: direct members, and how many people are in the group at all.
fn list_table(groups: &[GroupRecord]) -> Table {
    let mut table = Table::new(&["GROUP", "PEOPLE", "DIRECT MEMBERS"]);
    for group in groups {
        let people = group
            .members
            .iter()
            .filter(|m| m.kind == MemberKind::User)
            .count();
        let direct: Vec<String> = group
            .members
            .iter()
            .filter(|m| m.is_direct())
            .map(cell)
            .collect();
        table.row(vec![
            group.name.clone(),
            people.to_string(),
            output::list(&direct),
        ]);
    }
    table
}

/// `groups show` for people: name and DN, then one member a line.
fn render(group: &GroupRecord) -> String {
    let mut out = format!("group: {}\n", group.name);
    if let Some(dn) = &group.dn {
        out.push_str(&format!("dn:    {dn}\n"));
    }
    if group.members.is_empty() {
        out.push_str("members: none\n");
        return out;
    }
    let mut table = Table::new(&["MEMBER", "KIND", "THROUGH", "ACCOUNT"]);
    for m in &group.members {
        table.row(vec![
            m.name.clone(),
            match m.kind {
                MemberKind::Group => "group",
                MemberKind::User => "user",
                MemberKind::Other => "other",
            }
            .to_string(),
            if m.is_direct() {
                "(direct)".to_string()
            } else {
                m.via.join(",")
            },
            if m.kind != MemberKind::User {
                String::new()
            } else if m.disabled {
                "disabled".to_string()
            } else {
                "enabled".to_string()
            },
        ]);
    }
    out.push_str(&table.render());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, kind: MemberKind, via: &[&str], disabled: bool) -> Member {
        Member {
            name: name.into(),
            kind,
            via: via.iter().map(|v| (*v).to_string()).collect(),
            disabled,
        }
    }

    fn staff() -> GroupRecord {
        GroupRecord {
            name: "staff".into(),
            dn: Some("cn=staff,ou=groups,dc=example,dc=org".into()),
            members: vec![
                member("finance", MemberKind::Group, &[], false),
                member("alice", MemberKind::User, &[], false),
                member("carol", MemberKind::User, &["finance"], false),
                member("dave", MemberKind::User, &["it"], true),
            ],
        }
    }

    #[test]
    fn show_marks_nested_members_with_the_group_they_come_through() {
        let text = render(&staff());
        assert!(text.starts_with("group: staff\ndn:    cn=staff"), "{text}");
        assert!(text.contains("carol    user   finance   enabled"), "{text}");
        assert!(
            text.contains("dave     user   it        disabled"),
            "{text}"
        );
        assert!(text.contains("alice    user   (direct)  enabled"), "{text}");
    }

    #[test]
    fn list_shows_direct_members_and_counts_everyone() {
        let text = list_table(&[staff()]).render();
        assert!(text.contains("staff  3       @finance,alice"), "{text}");
    }

    #[test]
    fn names_match_exactly_then_without_case() {
        let groups = [staff()];
        assert!(pick(&groups, "Staff").is_ok());
        let err = pick(&groups, "nosuch").unwrap_err();
        assert_eq!(err.exit(), Exit::BAD_INPUT);
        assert!(err.to_string().contains("no group \"nosuch\""), "{err}");
    }
}

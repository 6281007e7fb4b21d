use std::path::Path;

use super::*;
use crate::policy::engine::AppSummary;

fn apps(names: &[&str]) -> Vec<AppSummary> {
    names
        .iter()
        .map(|name| AppSummary {
            name: (*name).to_owned(),
            hosts: vec![format!("{name}.test")],
            path_prefix: String::new(),
            display_name: (*name).to_owned(),
            icon: None,
        })
        .collect()
}

/// A policy from `text` for `app_names`, in a folder of its own.
fn policy(dir: &Path, text: &str, app_names: &[&str]) -> Policy {
    let entry = dir.join(format!("p{}.toml", text.len()));
    std::fs::write(&entry, text).unwrap();
    engine::load(&entry, &apps(app_names)).unwrap().policy
}

fn side<'a>(policy: &'a Policy, clients: &[(&str, &str)]) -> Side<'a> {
    Side {
        policy,
        clients: clients
            .iter()
            .map(|(id, app)| ((*id).to_owned(), (*app).to_owned()))
            .collect(),
    }
}

fn person(name: &str, groups: &[&str]) -> UserGroups {
    UserGroups {
        name: name.into(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
    }
}

fn people() -> Vec<UserGroups> {
    vec![
        person("alice", &["staff", "admins"]),
        person("bob", &["partners"]),
        person("carol", &["staff", "finance"]),
    ]
}

const BEFORE: &str = "[[rule]]\napps = [\"mail\", \"docs\"]\nallow = [\"group:staff\"]\n\n\
                      [[rule]]\napps = [\"video\"]\nallow = [\"group:partners\", \"group:staff\"]\n";

#[test]
fn a_group_that_loses_an_app_is_listed_with_the_rule_that_let_it_in() {
    let dir = tempfile::tempdir().unwrap();
    let all = ["mail", "docs", "video"];
    let old = policy(dir.path(), BEFORE, &all);
    let new = policy(
        dir.path(),
        "[[rule]]\napps = [\"mail\"]\nallow = [\"group:staff\"]\n\n\
         [[rule]]\napps = [\"video\", \"docs\"]\nallow = [\"group:partners\"]\n",
        &all,
    );
    let impact = compute(
        &side(&old, &[]),
        &side(&new, &[]),
        &people(),
        &Limits::default(),
    );
    let summary: Vec<(&str, IpAddr, Vec<&str>, Vec<&str>)> = impact
        .apps
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.from,
                c.gained.listed.iter().map(String::as_str).collect(),
                c.lost.listed.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("docs", INSIDE, vec!["bob"], vec!["alice", "carol"]),
            ("video", INSIDE, vec![], vec!["alice", "carol"]),
        ],
        "the same from outside is not repeated"
    );
    let docs = &impact.apps[0];
    assert_eq!(docs.gained.rules.len(), 1);
    assert!(
        docs.gained.rules[0].starts_with("allow ") && docs.gained.rules[0].ends_with(":5"),
        "{:?}",
        docs.gained.rules
    );
    assert!(
        docs.lost.rules[0].starts_with("no longer allowed by ")
            && docs.lost.rules[0].ends_with(":1"),
        "{:?}",
        docs.lost.rules
    );
    assert_eq!(impact.people_checked, 3);
    assert_eq!(impact.people_not_checked, 0);
    assert!(impact.clients.is_empty());
}

#[test]
fn keeping_an_app_to_the_office_is_a_loss_from_outside_only() {
    let dir = tempfile::tempdir().unwrap();
    let all = ["mail", "docs", "video"];
    let old = policy(dir.path(), BEFORE, &all);
    let office = BEFORE.replace(
        "allow = [\"group:staff\"]\n",
        "allow = [\"group:staff\"]\nfrom = [\"10.0.0.0/8\"]\n",
    );
    let new = policy(dir.path(), &office, &all);
    let impact = compute(
        &side(&old, &[]),
        &side(&new, &[]),
        &people(),
        &Limits::default(),
    );
    let lost: Vec<(&str, IpAddr, usize)> = impact
        .apps
        .iter()
        .map(|c| (c.name.as_str(), c.from, c.lost.count))
        .collect();
    assert_eq!(lost, [("mail", OUTSIDE, 2), ("docs", OUTSIDE, 2)]);
}

#[test]
fn a_large_directory_is_cut_short_with_counts() {
    let dir = tempfile::tempdir().unwrap();
    let old = policy(dir.path(), BEFORE, &["mail", "docs", "video"]);
    let new = policy(
        dir.path(),
        "[[rule]]\napps = [\"mail\"]\nallow = [\"group:staff\"]\n",
        &["mail", "docs", "video"],
    );
    let many: Vec<UserGroups> = (0..10)
        .map(|i| person(&format!("p{i}"), &["staff"]))
        .collect();
    let limits = Limits {
        people: 7,
        listed: 3,
        rules: 1,
    };
    let impact = compute(&side(&old, &[]), &side(&new, &[]), &many, &limits);
    assert_eq!(impact.people_checked, 7);
    assert_eq!(impact.people_not_checked, 3, "the rest are counted");
    let docs = &impact.apps[0];
    assert_eq!(docs.name, "docs");
    assert_eq!(docs.lost.count, 7, "every person checked is counted");
    assert_eq!(
        docs.lost.listed,
        ["p0", "p1", "p2"],
        "only the first few named"
    );
    assert_eq!(docs.lost.rules.len(), 1);
}

#[test]
fn a_client_moved_to_another_app_changes_who_gets_its_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let all = ["mail", "docs", "video"];
    let old = policy(dir.path(), BEFORE, &all);
    let impact = compute(
        &side(
            &old,
            &[("webmail", "mail"), ("meet", "video"), ("gone", "docs")],
        ),
        &side(
            &old,
            &[("webmail", "video"), ("meet", "video"), ("new", "docs")],
        ),
        &people(),
        &Limits::default(),
    );
    assert!(impact.apps.is_empty(), "the policy is the same");
    type Line<'a> = (
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Vec<&'a str>,
        Vec<&'a str>,
    );
    let clients: Vec<Line<'_>> = impact
        .clients
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.app_before.as_deref(),
                c.app_after.as_deref(),
                c.gained.listed.iter().map(String::as_str).collect(),
                c.lost.listed.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        clients,
        [
            ("gone", Some("docs"), None, vec![], vec!["alice", "carol"]),
            ("new", None, Some("docs"), vec!["alice", "carol"], vec![]),
            ("webmail", Some("mail"), Some("video"), vec!["bob"], vec![]),
        ]
    );
}

#[test]
fn a_public_app_is_a_gain_for_someone_not_logged_in_and_nothing_is_no_change() {
    let dir = tempfile::tempdir().unwrap();
    let all = ["mail", "docs", "video"];
    let old = policy(dir.path(), BEFORE, &all);
    let open =
        format!("{BEFORE}\n[[rule]]\napps = [\"docs\"]\npaths = [\"/\"]\nallow = [\"everyone\"]\n");
    let new = policy(dir.path(), &open, &all);
    let impact = compute(
        &side(&old, &[]),
        &side(&new, &[]),
        &people(),
        &Limits::default(),
    );
    assert_eq!(impact.apps.len(), 1);
    assert_eq!(impact.apps[0].gained.listed, [ANONYMOUS, "bob"]);
    let same = compute(
        &side(&old, &[("c", "mail")]),
        &side(&old, &[("c", "mail")]),
        &people(),
        &Limits::default(),
    );
    assert!(same.is_empty());
}

//! A guest's local groups, mapped from the provider's claims by the rules in `idps.toml`.
//!
//! Each rule maps one upstream group (exactly as the provider spells it) to one local group.
//! A guest gets every group a rule maps; when no rule maps, the `default_group` if there is
//! one, else the login is refused: a partner nobody decided on gets nothing by accident.

use serde_json::{Map, Value};

/// One rule: an upstream group and the local group it grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The provider's group, compared exactly.
    pub upstream: String,
    /// The local group the policy decides on.
    pub local: String,
}

/// A guest provider's group mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestRules {
    /// The claim holding the upstream groups: an array of strings, or one string.
    pub groups_claim: String,
    /// The group given when no rule maps; without it such a guest is refused.
    pub default_group: Option<String>,
    /// The rules, in file order.
    pub rules: Vec<Rule>,
}

/// No rule mapped any of the guest's upstream groups and there is no default group.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no rule maps the upstream groups {upstream:?} and the provider has no default group")]
pub struct Unmapped {
    /// The upstream groups the guest had, for the audit record.
    pub upstream: Vec<String>,
}

impl GuestRules {
    /// The local groups for a guest with these claims, sorted and without repeats.
    pub fn map(&self, claims: &Map<String, Value>) -> Result<Vec<String>, Unmapped> {
        let upstream = upstream_groups(claims.get(&self.groups_claim));
        let mut local: Vec<String> = self
            .rules
            .iter()
            .filter(|rule| upstream.contains(&rule.upstream))
            .map(|rule| rule.local.clone())
            .collect();
        if local.is_empty() {
            match &self.default_group {
                Some(group) => local.push(group.clone()),
                None => return Err(Unmapped { upstream }),
            }
        }
        local.sort();
        local.dedup();
        Ok(local)
    }
}

/// The strings of a groups claim: an array's strings (other members ignored) or one string.
fn upstream_groups(claim: Option<&Value>) -> Vec<String> {
    match claim {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rules(default_group: Option<&str>) -> GuestRules {
        GuestRules {
            groups_claim: "groups".into(),
            default_group: default_group.map(str::to_owned),
            rules: vec![
                Rule {
                    upstream: "partner-ministry/staff".into(),
                    local: "partners".into(),
                },
                Rule {
                    upstream: "partner-ministry/video".into(),
                    local: "video-users".into(),
                },
                Rule {
                    upstream: "partner-ministry/all".into(),
                    local: "partners".into(),
                },
            ],
        }
    }

    fn claims(value: Value) -> Map<String, Value> {
        let Value::Object(map) = json!({ "groups": value }) else {
            unreachable!()
        };
        map
    }

    #[test]
    fn every_rule_that_matches_grants_its_group_once() {
        let groups = rules(None)
            .map(&claims(json!([
                "partner-ministry/staff",
                "partner-ministry/all",
                "partner-ministry/video",
                "other"
            ])))
            .unwrap();
        assert_eq!(groups, ["partners", "video-users"]);
    }

    #[test]
    fn matching_is_exact() {
        let unmapped = rules(None)
            .map(&claims(json!([
                "Partner-Ministry/Staff",
                "partner-ministry/staff/x"
            ])))
            .unwrap_err();
        assert_eq!(unmapped.upstream.len(), 2);
    }

    #[test]
    fn nothing_mapped_takes_the_default_group_or_refuses() {
        assert_eq!(
            rules(Some("guests"))
                .map(&claims(json!(["other"])))
                .unwrap(),
            ["guests"]
        );
        assert!(rules(None).map(&claims(json!(["other"]))).is_err());
        assert!(rules(None).map(&Map::new()).is_err());
        assert!(rules(None).map(&claims(json!(42))).is_err());
    }

    #[test]
    fn a_single_string_claim_is_one_group() {
        assert_eq!(
            rules(None)
                .map(&claims(json!("partner-ministry/staff")))
                .unwrap(),
            ["partners"]
        );
    }
}

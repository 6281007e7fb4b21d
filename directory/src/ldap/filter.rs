//! Search filters. Every value that came from outside (a typed username, a DN) is escaped with
//! `ldap3::ldap_escape` before it is put into a filter, so `*`, `(`, `)`, `\` and NUL match
//! themselves and cannot widen a search.

use ldap3::ldap_escape;

/// The placeholder in the user filter template.
pub(crate) const USERNAME: &str = "{username}";

/// Active Directory's transitive-membership matching rule (LDAP_MATCHING_RULE_IN_CHAIN).
const IN_CHAIN: &str = "1.2.840.113556.1.4.1941";

/// The filter that finds the user typed on the login page.
pub(crate) fn user(template: &str, username: &str) -> String {
    template.replace(USERNAME, &ldap_escape(username))
}

/// The filter that finds every user (`{username}` becomes a presence match).
pub(crate) fn all_users(template: &str) -> String {
    template.replace(USERNAME, "*")
}

/// Both filters.
pub(crate) fn and(a: &str, b: &str) -> String {
    format!("(&{a}{b})")
}

/// Entries whose `attribute` holds any of `dns` (groups that contain any of these members).
pub(crate) fn any_member(attribute: &str, dns: &[String]) -> String {
    let terms: String = dns
        .iter()
        .map(|dn| format!("({attribute}={})", ldap_escape(dn)))
        .collect();
    format!("(|{terms})")
}

/// Entries whose `attribute` equals `value` (escaped).
pub(crate) fn equals(attribute: &str, value: &str) -> String {
    format!("({attribute}={})", ldap_escape(value))
}

/// Entries whose binary `attribute` equals `bytes`, every byte escaped as `\\xx` (an Active
/// Directory objectGUID).
pub(crate) fn equals_bytes(attribute: &str, bytes: &[u8]) -> String {
    let value: String = bytes.iter().map(|b| format!("\\{b:02x}")).collect();
    format!("({attribute}={value})")
}

/// Groups that contain `dn` directly or through any nesting (Active Directory only).
pub(crate) fn in_chain(dn: &str) -> String {
    format!("(member:{IN_CHAIN}:={})", ldap_escape(dn))
}

/// Checks a filter's syntax.
pub(crate) fn check(filter: &str) -> Result<(), String> {
    ldap3::parse_filter(filter)
        .map(|_| ())
        .map_err(|()| format!("{filter:?} is not a valid LDAP filter"))
}

/// Checks the user filter template: valid once filled in, and it names `{username}`.
pub(crate) fn check_user_template(template: &str) -> Result<(), String> {
    if !template.contains(USERNAME) {
        return Err(format!("{template:?} must contain {USERNAME}"));
    }
    check(&user(template, "x"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "(&(objectClass=inetOrgPerson)(uid={username}))";

    #[test]
    fn binary_values_are_escaped_byte_by_byte() {
        assert_eq!(
            equals_bytes("objectGUID", &[0x00, 0x2a, 0xff]),
            "(objectGUID=\\00\\2a\\ff)"
        );
        assert!(check(&equals_bytes("objectGUID", &[0x28, 0x29, 0x2a])).is_ok());
    }

    #[test]
    fn usernames_are_escaped() {
        assert_eq!(
            user(T, "alice"),
            "(&(objectClass=inetOrgPerson)(uid=alice))"
        );
        assert_eq!(user(T, "*"), "(&(objectClass=inetOrgPerson)(uid=\\2a))");
        assert_eq!(
            user(T, ")(uid=*"),
            "(&(objectClass=inetOrgPerson)(uid=\\29\\28uid=\\2a))"
        );
        assert_eq!(
            user(T, "a\\b"),
            "(&(objectClass=inetOrgPerson)(uid=a\\5cb))"
        );
        assert_eq!(user(T, "a\0"), "(&(objectClass=inetOrgPerson)(uid=a\\00))");
        for hostile in ["*", ")(uid=*", "alice)(|(uid=*", "a\\b", "a\0b"] {
            assert_eq!(check(&user(T, hostile)), Ok(()), "{hostile:?}");
        }
    }

    proptest::proptest! {
        /// Whatever is typed, the filter keeps the template's structure: the escaped value holds
        /// no parenthesis or asterisk, and the filter parses.
        #[test]
        fn no_username_changes_the_filter_structure(name in "\\PC*|[*()\\\\\\x00a-z]{0,12}") {
            let f = user(T, &name);
            proptest::prop_assert_eq!(f.matches('(').count(), T.matches('(').count());
            proptest::prop_assert_eq!(f.matches(')').count(), T.matches(')').count());
            proptest::prop_assert_eq!(f.matches('*').count(), 0);
            proptest::prop_assert!(check(&f).is_ok());
        }
    }

    #[test]
    fn dns_in_group_filters_are_escaped() {
        let dns = vec![
            "uid=alice,ou=people".to_owned(),
            "cn=a(b)*,ou=groups".to_owned(),
        ];
        assert_eq!(
            any_member("member", &dns),
            "(|(member=uid=alice,ou=people)(member=cn=a\\28b\\29\\2a,ou=groups))"
        );
        assert_eq!(
            in_chain("CN=x*,DC=ad"),
            "(member:1.2.840.113556.1.4.1941:=CN=x\\2a,DC=ad)"
        );
        assert_eq!(check(&in_chain("CN=x,DC=ad")), Ok(()));
    }

    #[test]
    fn listing_and_combining() {
        assert_eq!(equals("cn", "a*(b)"), "(cn=a\\2a\\28b\\29)");
        assert_eq!(all_users(T), "(&(objectClass=inetOrgPerson)(uid=*))");
        assert_eq!(and("(a=1)", "(b=2)"), "(&(a=1)(b=2))");
    }

    #[test]
    fn templates_are_checked() {
        assert_eq!(check_user_template(T), Ok(()));
        assert!(check_user_template("(uid=alice)").is_err());
        assert!(check_user_template("(uid={username}").is_err());
        assert!(check("(employeeType=disabled)").is_ok());
        assert!(check("employeeType=disabled)(").is_err());
    }
}

//! The query string of an admin request, checked before anything is done: every parameter
//! known to the endpoint and given at most once, so a typo (`?subjet=`) is a 400 naming it
//! instead of a request that does something else.

use super::reply::AdminError;

/// The longest `by` accepted (an admin's name for the audit log).
const LONGEST_BY: usize = 64;

/// Decoded parameters of one request.
pub(super) struct Query(Vec<(String, String)>);

impl Query {
    /// Decodes `query`, refusing parameters outside `allowed` and repeated ones.
    pub(super) fn parse(query: Option<&str>, allowed: &[&str]) -> Result<Self, AdminError> {
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        for (i, (name, _)) in pairs.iter().enumerate() {
            if !allowed.contains(&name.as_str()) {
                return Err(AdminError::bad(
                    name,
                    format!(
                        "unknown parameter; this endpoint takes {}",
                        allowed.join(", ")
                    ),
                ));
            }
            if pairs[..i].iter().any(|(earlier, _)| earlier == name) {
                return Err(AdminError::bad(name, "given twice"));
            }
        }
        Ok(Self(pairs))
    }

    /// The value of `name`, if given.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Exactly one of `names`, non-empty: which one and its value.
    pub(super) fn one_of<'a>(
        &'a self,
        names: &[&'static str],
    ) -> Result<(&'static str, &'a str), AdminError> {
        let given: Vec<(&'static str, &str)> = names
            .iter()
            .filter_map(|name| self.get(name).map(|v| (*name, v)))
            .collect();
        match given.as_slice() {
            [(name, "")] => Err(AdminError::bad(name, "empty")),
            [one] => Ok(*one),
            [] => Err(AdminError::bad(
                names.first().copied().unwrap_or_default(),
                format!("missing: name one of {}", names.join(", ")),
            )),
            [_, (second, _), ..] => Err(AdminError::bad(
                second,
                format!("name only one of {}", names.join(", ")),
            )),
        }
    }

    /// Who the admin is, for the audit log (`by`, else "admin endpoint"): at most 64
    /// characters and no control characters, so a log line cannot be forged through it.
    pub(super) fn by(&self) -> Result<&str, AdminError> {
        match self.get("by") {
            None => Ok("admin endpoint"),
            Some("") => Err(AdminError::bad("by", "empty")),
            Some(by) if by.chars().count() > LONGEST_BY => Err(AdminError::bad(
                "by",
                format!("longer than {LONGEST_BY} characters"),
            )),
            Some(by) if by.chars().any(char::is_control) => {
                Err(AdminError::bad("by", "control characters"))
            }
            Some(by) => Ok(by),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: AdminError) -> String {
        match e {
            AdminError::BadParam { field, .. } => field,
            other => panic!("not a bad parameter: {other}"),
        }
    }

    #[test]
    fn unknown_repeated_missing_and_double_parameters_are_named() {
        let allowed = ["sid", "subject", "by"];
        let q = |s: &str| Query::parse(Some(s), &allowed);
        assert_eq!(field(q("subjet=x").err().unwrap()), "subjet");
        assert_eq!(field(q("sid=a&sid=b").err().unwrap()), "sid");
        let none = q("").ok().unwrap();
        assert_eq!(field(none.one_of(&["sid", "subject"]).unwrap_err()), "sid");
        let both = q("sid=a&subject=b").ok().unwrap();
        assert_eq!(
            field(both.one_of(&["sid", "subject"]).unwrap_err()),
            "subject"
        );
        let empty = q("subject=").ok().unwrap();
        assert_eq!(
            field(empty.one_of(&["sid", "subject"]).unwrap_err()),
            "subject"
        );
        let one = q("subject=u%20x&by=erin").ok().unwrap();
        assert_eq!(one.one_of(&["sid", "subject"]).unwrap(), ("subject", "u x"));
        assert_eq!(one.by().unwrap(), "erin");
    }

    #[test]
    fn by_is_a_short_printable_name() {
        let by = |s: &str| {
            Query::parse(Some(s), &["by"])
                .ok()
                .unwrap()
                .by()
                .map(str::to_owned)
        };
        assert_eq!(by("").unwrap(), "admin endpoint");
        assert_eq!(by("by=alice").unwrap(), "alice");
        assert!(by("by=a%0Aforged").is_err());
        assert!(by(&format!("by={}", "x".repeat(65))).is_err());
        assert!(by("by=").is_err());
    }
}

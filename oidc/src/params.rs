//! Request parameters as the protocol sees them: name/value pairs, each name at most once.
//!
//! RFC 6749 §3.1 says a parameter sent without a value is treated as omitted and that no
//! parameter may appear twice; [`Params`] applies both rules once, for every endpoint.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// The parameters of one request (query string or form body), already percent-decoded.
#[derive(Debug, Clone, Default)]
pub struct Params {
    values: HashMap<String, String>,
    repeated: Vec<String>,
}

impl Params {
    /// Collects decoded pairs; empty values count as absent, and repeated names are recorded.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let mut params = Self::default();
        for (name, value) in pairs {
            let (name, value) = (name.into(), value.into());
            if value.is_empty() {
                continue;
            }
            match params.values.entry(name) {
                Entry::Occupied(seen) => {
                    if !params.repeated.contains(seen.key()) {
                        params.repeated.push(seen.key().clone());
                    }
                }
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
            }
        }
        params
    }

    /// Parses an `application/x-www-form-urlencoded` string (a query or a form body).
    pub fn parse_urlencoded(input: &str) -> Self {
        Self::from_pairs(form_urlencoded::parse(input.as_bytes()).into_owned())
    }

    /// The value of `name`, if it was sent once with a value. A repeated name yields its
    /// first value; callers reject repeats through [`Params::repeated`] first.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The first parameter name that was sent more than once, if any.
    pub fn repeated(&self) -> Option<&str> {
        self.repeated.first().map(String::as_str)
    }

    /// Every parameter with a value (a repeated one once, with its first value), in no
    /// particular order: for rebuilding a request's URL.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether `name` was sent more than once.
    pub fn is_repeated(&self, name: &str) -> bool {
        self.repeated.iter().any(|n| n == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_absent_and_repeats_are_recorded() {
        let p = Params::parse_urlencoded("a=1&b=&a=2&c=x%20y");
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), None);
        assert_eq!(p.get("c"), Some("x y"));
        assert_eq!(p.repeated(), Some("a"));
        assert!(p.is_repeated("a"));
        assert!(!p.is_repeated("c"));
    }
}

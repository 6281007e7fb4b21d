//! A posted `application/x-www-form-urlencoded` form, read once: the first value of each field
//! wins, unknown fields are kept but never asked for, and a field that is missing reads as
//! empty, so handlers state which fields they need and nothing else.

/// The fields of one posted form.
#[derive(Debug, Default)]
pub struct Form {
    fields: Vec<(String, String)>,
}

/// The most fields a form may have; the rest are ignored (the body is already size-limited).
const MAX_FIELDS: usize = 64;

impl Form {
    /// Reads a form body.
    pub fn parse(body: &[u8]) -> Self {
        let mut fields: Vec<(String, String)> = Vec::new();
        for (key, value) in form_urlencoded::parse(body).take(MAX_FIELDS) {
            if !fields.iter().any(|(k, _)| k == key.as_ref()) {
                fields.push((key.into_owned(), value.into_owned()));
            }
        }
        Self { fields }
    }

    /// The first value of `name`, or `""`.
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The first value of `name` when it is present and not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        Some(self.get(name)).filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_value_wins_and_missing_fields_read_empty() {
        let form = Form::parse(b"code=123%20456&code=999999&return_to=&x");
        assert_eq!(form.get("code"), "123 456");
        assert_eq!(form.non_empty("return_to"), None);
        assert_eq!(form.get("absent"), "");
        assert_eq!(Form::parse(b"\xff\xfe=&&=").get("a"), "");
    }
}

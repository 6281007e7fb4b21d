//! The canonical JSON of an event, the bytes its hash is taken over: RFC 8785 (JCS) for the
//! values audit events hold. Object members are sorted by name, nothing is indented, strings are
//! escaped as JCS escapes them (serde_json's escaping is the same for every string Rust can hold),
//! and numbers are integers within ±2^53, which JCS writes as plain decimals. A fractional or a
//! larger number has no single spelling another tool would agree on, so it is refused: the writer
//! turns such a field into text before sealing.

use serde_json::{Map, Value};

use crate::error::AuditError;

/// The largest integer JCS writes as plain decimal digits (IEEE 754 doubles are exact up to it).
const MAX_EXACT: u64 = 1 << 53;

/// Appends the canonical JSON of an object to `out`.
pub fn write_object(map: &Map<String, Value>, out: &mut String) -> Result<(), AuditError> {
    let mut names: Vec<&String> = map.keys().collect();
    names.sort_unstable();
    out.push('{');
    for (i, name) in names.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(name, out);
        out.push(':');
        if let Some(value) = map.get(name) {
            write_value(name, value, out)?;
        }
    }
    out.push('}');
    Ok(())
}

fn write_value(field: &str, value: &Value, out: &mut String) -> Result<(), AuditError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(field, n, out)?,
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(field, item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => write_object(map, out)?,
    }
    Ok(())
}

fn write_number(field: &str, n: &serde_json::Number, out: &mut String) -> Result<(), AuditError> {
    let refuse = |reason| AuditError::NotCanonical {
        field: field.to_string(),
        reason,
    };
    if let Some(u) = n.as_u64() {
        if u > MAX_EXACT {
            return Err(refuse("an integer above 2^53 has no exact JSON number"));
        }
        out.push_str(&u.to_string());
    } else if let Some(i) = n.as_i64() {
        if i.unsigned_abs() > MAX_EXACT {
            return Err(refuse("an integer below -2^53 has no exact JSON number"));
        }
        out.push_str(&i.to_string());
    } else {
        return Err(refuse(
            "a fractional number has no single canonical spelling",
        ));
    }
    Ok(())
}

fn write_string(text: &str, out: &mut String) {
    // Writing a str into JSON cannot fail; the fallback keeps the output valid JSON regardless.
    match serde_json::to_string(text) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("\"\""),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn canonical(value: Value) -> Result<String, AuditError> {
        let Value::Object(map) = value else {
            panic!("test values are objects")
        };
        let mut out = String::new();
        write_object(&map, &mut out).map(|()| out)
    }

    #[test]
    fn members_are_sorted_and_strings_escaped_as_jcs_does() {
        let text = canonical(json!({
            "z": 1, "a": "line\nbreak \"quoted\" \u{1} é/", "m": [true, null, {"y": -3, "b": "x"}]
        }))
        .unwrap();
        assert_eq!(
            text,
            r#"{"a":"line\nbreak \"quoted\" \u0001 é/","m":[true,null,{"b":"x","y":-3}],"z":1}"#
        );
    }

    #[test]
    fn numbers_without_one_spelling_are_refused() {
        assert!(canonical(json!({"f": 1.5})).is_err());
        assert!(canonical(json!({"big": (1u64 << 53) + 1})).is_err());
        assert!(canonical(json!({"ok": 1u64 << 53})).is_ok());
    }
}

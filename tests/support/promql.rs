//! The metric names a PromQL expression reads, so the alert rules and the dashboard can be
//! checked against what a running gateway exports. Not a PromQL parser: it drops what cannot
//! be a metric name (strings, label matchers, ranges, grouping label lists, Grafana variables,
//! numbers and durations, keywords) and keeps each identifier that is not called as a function.

use std::collections::BTreeSet;

/// Words of the language that are not metric names where they stand alone.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "inf",
    "nan",
    "Inf",
    "NaN",
    "atan2",
];

/// The aggregation operators, which may stand before their `by (...)` instead of their
/// parenthesis.
const AGGREGATIONS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
];

/// Keywords followed by a list of label names in parentheses.
const LABEL_LISTS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// Every metric name `expr` reads.
pub fn metric_names(expr: &str) -> BTreeSet<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    let mut skip_list = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' | '`' => i = skip_string(&chars, i),
            '{' => i = skip_to(&chars, i, '}'),
            '[' => i = skip_to(&chars, i, ']'),
            '(' if skip_list => {
                skip_list = false;
                i = skip_to(&chars, i, ')');
            }
            '$' => {
                // A Grafana variable: `$__rate_interval`, `${app}`.
                i += 1;
                if chars.get(i) == Some(&'{') {
                    i = skip_to(&chars, i, '}');
                } else {
                    while chars.get(i).is_some_and(|c| is_ident(*c)) {
                        i += 1;
                    }
                }
            }
            c if c.is_ascii_digit() || c == '.' => {
                // A number or a duration (5m, 1e3, 0.95, 1h30m).
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '.')
                {
                    i += 1;
                }
            }
            c if is_ident_start(c) => {
                let start = i;
                while chars.get(i).is_some_and(|c| is_ident(*c)) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let mut next = i;
                while chars.get(next).is_some_and(|c| c.is_whitespace()) {
                    next += 1;
                }
                if LABEL_LISTS.contains(&word.as_str()) {
                    skip_list = chars.get(next) == Some(&'(');
                } else if chars.get(next) == Some(&'(')
                    || KEYWORDS.contains(&word.as_str())
                    || AGGREGATIONS.contains(&word.as_str())
                {
                    // A function or an aggregation: its arguments are read on.
                } else {
                    names.insert(word);
                }
            }
            _ => i += 1,
        }
    }
    names
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// The index after the string that opens at `i` (backslash escapes honoured).
fn skip_string(chars: &[char], i: usize) -> usize {
    let quote = chars[i];
    let mut j = i + 1;
    while j < chars.len() && chars[j] != quote {
        if chars[j] == '\\' {
            j += 1;
        }
        j += 1;
    }
    j + 1
}

/// The index after the `close` that ends the bracket opening at `i`, strings inside skipped.
fn skip_to(chars: &[char], i: usize, close: char) -> usize {
    let mut j = i + 1;
    while j < chars.len() && chars[j] != close {
        if matches!(chars[j], '"' | '\'' | '`') {
            j = skip_string(chars, j);
        } else {
            j += 1;
        }
    }
    j + 1
}

/// The metric families a `/metrics` page exports (its `# TYPE` lines), with their types.
pub fn families(scrape: &str) -> std::collections::BTreeMap<String, String> {
    scrape
        .lines()
        .filter_map(|line| {
            let mut words = line.strip_prefix("# TYPE ")?.split_whitespace();
            Some((words.next()?.to_owned(), words.next()?.to_owned()))
        })
        .collect()
}

/// The names of `names` that no family of `families` exports: a histogram's `_bucket`, `_sum`
/// and `_count` series belong to its family, a summary's `_sum` and `_count` to its own; `up`
/// is Prometheus' own, not the gateway's.
pub fn unexported<'a>(
    names: impl IntoIterator<Item = &'a String>,
    families: &std::collections::BTreeMap<String, String>,
) -> Vec<String> {
    names
        .into_iter()
        .filter(|name| *name != "up")
        .filter(|name| {
            if families.contains_key(*name) {
                return false;
            }
            let family_of = |suffix: &str, kinds: &[&str]| {
                name.strip_suffix(suffix)
                    .and_then(|family| families.get(family))
                    .is_some_and(|kind| kinds.contains(&kind.as_str()))
            };
            !(family_of("_bucket", &["histogram"])
                || family_of("_sum", &["histogram", "summary"])
                || family_of("_count", &["histogram", "summary"]))
        })
        .cloned()
        .collect()
}

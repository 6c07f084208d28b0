//! The YAML deserializer's errors, turned into [`PolicyError`]s that name
//! the line, the rule and what to do.

use crate::error::{HINT_MARK, PolicyError};

/// Turns the YAML deserializer's error into a [`PolicyError`]: location,
/// rule name (looked up from the path), message and hint.
///
/// The typed deserializer reads events lazily, so in a document that is broken
/// further down it may first trip over a missing key; the generic parse finds
/// the syntax error, which is the one to report.
pub(super) fn translate(typed: &yaml_serde::Error, yaml: &str) -> PolicyError {
    let document = yaml_serde::from_str::<yaml_serde::Value>(yaml);
    let error = document.as_ref().err().unwrap_or(typed);
    let location = error.location();
    let mut text = error.to_string();
    if let Some(at) = &location {
        let suffix = format!(" at line {} column {}", at.line(), at.column());
        if let Some(start) = text.find(&suffix) {
            text.replace_range(start..start + suffix.len(), "");
        }
    }
    let (path, rest) = match text.split_once(": ") {
        Some((path, rest)) if is_path(path) => (Some(path.to_owned()), rest.to_owned()),
        _ => (None, text.clone()),
    };
    let (message, hint) = match rest.split_once(HINT_MARK) {
        Some((message, hint)) => (message.to_owned(), Some(hint.to_owned())),
        None => (rest.clone(), None),
    };
    let hint = hint.or_else(|| suggestion(&message));
    let (rule, field) = match (&path, document.ok()) {
        (Some(path), Some(document)) => split_rule(path, &document),
        (path, _) => (None, path.clone()),
    };
    let message = match field {
        Some(field) => format!("{field}: {message}"),
        None => message,
    };
    let mut out = PolicyError::new(message).in_rule(rule).with_hint(hint);
    if let Some(at) = location {
        out = out.at(at.line(), at.column());
    }
    out
}

fn is_path(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '-' | '?'))
}

/// `rules[2].conditions.users[0]` -> (name of rule 2, `conditions.users[0]`);
/// other paths stay whole.
fn split_rule(path: &str, document: &yaml_serde::Value) -> (Option<String>, Option<String>) {
    let whole = (None, Some(path.to_owned()));
    let Some(rest) = path.strip_prefix("rules[") else {
        return whole;
    };
    let Some((index, field)) = rest.split_once(']') else {
        return whole;
    };
    let Ok(index) = index.parse::<usize>() else {
        return whole;
    };
    let name = document
        .get("rules")
        .and_then(|rules| rules.get(index))
        .and_then(|rule| rule.get("name"))
        .and_then(yaml_serde::Value::as_str)
        .map(str::to_owned);
    let field = field.strip_prefix('.').unwrap_or(field);
    match name {
        Some(name) => (Some(name), (!field.is_empty()).then(|| field.to_owned())),
        None => whole,
    }
}

/// `did you mean ...?` for unknown keys and effects.
fn suggestion(message: &str) -> Option<String> {
    if message.starts_with("invalid type: ") && message.ends_with("expected a list") {
        return Some("write a list, such as `[alice, bob]` or one `- item` per line".to_owned());
    }
    let (kind, rest) = if let Some(rest) = message.strip_prefix("unknown field `") {
        ("key", rest)
    } else if let Some(rest) = message.strip_prefix("unknown variant `") {
        ("value", rest)
    } else {
        return None;
    };
    let (given, expected) = rest.split_once('`')?;
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let best = candidates
        .iter()
        .map(|c| (edit_distance(&given.to_lowercase(), c), *c))
        .min()?;
    if best.0 <= 2 {
        Some(format!("did you mean `{}`?", best.1))
    } else if candidates.is_empty() {
        None
    } else {
        Some(format!(
            "valid {kind}s here: {}",
            candidates
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute =
                previous.get(j).copied().unwrap_or(usize::MAX) + usize::from(ca != *cb);
            let delete = previous
                .get(j + 1)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            let insert = current
                .get(j)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            current.push(substitute.min(delete).min(insert));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_use_edit_distance() {
        assert_eq!(edit_distance("alow", "allow"), 1);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(
            suggestion("unknown field `source_ip`, expected one of `users`, `source_ips`")
                .as_deref(),
            Some("did you mean `source_ips`?")
        );
        assert_eq!(
            suggestion("unknown variant `permit`, expected `allow` or `deny`").as_deref(),
            Some("valid values here: `allow`, `deny`")
        );
    }
}

//! Where rules are in the source, for lints and tools.

pub(super) type Position = (usize, usize);

/// Where the top-level `rules` key and each rule's `name:` are, for lints and
/// tools. A light scan of block-style YAML (the deserializer reports no
/// positions for values it accepted); a rule written in flow style gets `None`.
pub(super) fn rule_positions(
    yaml: &str,
    names: &[&str],
) -> (Option<Position>, Vec<Option<Position>>) {
    let mut rules_at = None;
    let mut in_rules = false;
    let mut found: Vec<(Position, String)> = Vec::new();
    for (index, line) in yaml.lines().enumerate() {
        let number = index + 1;
        let first = line.chars().next();
        if first.is_some_and(|c| !c.is_whitespace() && c != '#' && c != '-') {
            in_rules = key_value(line, "rules").is_some();
            if in_rules {
                rules_at = Some((number, 1));
            }
            continue;
        }
        if !in_rules {
            continue;
        }
        // Skip indentation and sequence dashes: `  - name: x`.
        let mut rest = line;
        loop {
            let trimmed = rest.trim_start_matches(' ');
            if let Some(after) = trimmed.strip_prefix('-').filter(|a| a.starts_with(' ')) {
                rest = after;
            } else {
                rest = trimmed;
                break;
            }
        }
        if let Some(value) = key_value(rest, "name") {
            let column = line.len() - rest.len() + 1;
            found.push(((number, column), value));
        }
    }
    let mut used = vec![false; found.len()];
    let positions = names
        .iter()
        .map(|name| {
            let hit = found
                .iter()
                .zip(used.iter_mut())
                .find(|((_, value), used)| !**used && value == name)?;
            *hit.1 = true;
            Some(hit.0.0)
        })
        .collect();
    (rules_at, positions)
}

/// `key: value` at the start of `text` -> the value, unquoted, without comment.
fn key_value(text: &str, key: &str) -> Option<String> {
    let after = text.strip_prefix(key)?.trim_start_matches(' ');
    let value = after.strip_prefix(':')?;
    if !(value.is_empty() || value.starts_with([' ', '\t'])) {
        return None;
    }
    let value = value.trim();
    Some(if let Some(inner) = value.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => out.extend(chars.next()),
                c => out.push(c),
            }
        }
        out
    } else if let Some(inner) = value.strip_prefix('\'') {
        inner.split("'").next().unwrap_or_default().to_owned()
    } else {
        value
            .split(" #")
            .next()
            .unwrap_or_default()
            .trim_end()
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_finds_rule_names_in_block_style() {
        let yaml = "version: \"1\"\nrules:\n- name: \"a b\"  # c\n  effect: allow\n-   name: 'c'\n    effect: deny\n- {name: d, effect: deny}\n";
        let (rules_at, at) = rule_positions(yaml, &["a b", "c", "d"]);
        assert_eq!(rules_at, Some((2, 1)));
        assert_eq!(at, vec![Some((3, 3)), Some((5, 5)), None]);
    }
}

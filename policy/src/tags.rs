//! A profile's static session tags, checked against the rules STS applies to
//! `AssumeRole` tags so that a policy that loads can always be used.

use crate::error::Invalid;

/// STS allows 50 session tags; the TVM adds `sentinel-session-id`,
/// `sentinel-user` and `sentinel-profile`.
pub(crate) const MAX_PROFILE_TAGS: usize = 47;
const RESERVED_PREFIX: &str = "sentinel-";

/// Whether STS accepts `c` in a session tag key or value:
/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`: letters, separators, numbers and a few
/// symbols. `is_alphabetic` is slightly wider than `\p{L}` (it admits some
/// combining marks); STS would refuse those at vend time, which fails closed.
pub fn is_session_tag_char(c: char) -> bool {
    c.is_alphabetic()
        || c.is_numeric()
        || is_separator(c)
        || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
}

/// Unicode general categories Zs, Zl and Zp.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

const TAG_HINT: &str =
    "tag keys are 1-128 and values 0-256 letters, digits, spaces or `_ . : / = + - @`";

/// Checks the tags in document order.
pub(crate) fn check(tags: &[(String, String)]) -> Result<(), Invalid> {
    if tags.len() > MAX_PROFILE_TAGS {
        return Err(Invalid::new(format!(
            "{} session tags is more than the {MAX_PROFILE_TAGS} a profile may set",
            tags.len()
        ))
        .hint("STS allows 50 session tags and sentinel sets 3 of them"));
    }
    for (index, (key, value)) in tags.iter().enumerate() {
        let key_len = key.chars().count();
        if key_len == 0 || key_len > 128 {
            return Err(Invalid::new(format!(
                "session tag key `{key}` must be 1 to 128 characters long"
            )));
        }
        if let Some(bad) = key.chars().find(|c| !is_session_tag_char(*c)) {
            return Err(Invalid::new(format!(
                "session tag key `{key}` contains `{}`, which STS does not allow",
                bad.escape_default()
            ))
            .hint(TAG_HINT));
        }
        let lower = key.to_lowercase();
        if lower.starts_with("aws:") {
            return Err(Invalid::new(format!(
                "session tag key `{key}` uses the `aws:` prefix, which AWS reserves"
            )));
        }
        // SECURITY: the TVM sets these keys to the session ID, user and profile;
        // a policy must not be able to forge or shadow them.
        if lower.starts_with(RESERVED_PREFIX) {
            return Err(Invalid::new(format!(
                "session tag key `{key}` uses the `sentinel-` prefix, which sentinel reserves for its own tags"
            )));
        }
        if value.chars().count() > 256 {
            return Err(Invalid::new(format!(
                "session tag `{key}` has a value longer than 256 characters"
            )));
        }
        if let Some(bad) = value.chars().find(|c| !is_session_tag_char(*c)) {
            return Err(Invalid::new(format!(
                "session tag `{key}` has a value containing `{}`, which STS does not allow",
                bad.escape_default()
            ))
            .hint(TAG_HINT));
        }
        // STS compares tag keys case-insensitively.
        let earlier = tags.iter().take(index);
        if let Some((other, _)) = earlier.clone().find(|(k, _)| k.to_lowercase() == lower) {
            return Err(Invalid::new(format!(
                "session tag key `{key}` repeats `{other}` (tag keys are case-insensitive)"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn accepts_what_sts_accepts() {
        check(&tags(&[
            ("team", "payments"),
            ("cost-center", "CC 12/a@b.c:d=e+f_g"),
            ("empty", ""),
        ]))
        .unwrap();
        check(&tags(&[("équipe", "paiements")])).unwrap();
        let many: Vec<(String, String)> =
            (0..47).map(|i| (format!("k{i}"), String::new())).collect();
        check(&many).unwrap();
    }

    #[test]
    fn refuses_what_sts_or_sentinel_would_refuse() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("", "x")], "1 to 128"),
            (&[("team!", "x")], "does not allow"),
            (&[("team", "a;b")], "does not allow"),
            (&[("aws:foo", "x")], "`aws:` prefix"),
            (&[("AWS:foo", "x")], "`aws:` prefix"),
            (&[("sentinel-user", "x")], "reserves"),
            (&[("Sentinel-Extra", "x")], "reserves"),
            (&[("team", "a"), ("Team", "b")], "case-insensitive"),
        ];
        for (pairs, expected) in cases {
            let e = check(&tags(pairs)).unwrap_err();
            assert!(e.message.contains(expected), "{pairs:?}: {e}");
        }
        let long_key = "k".repeat(129);
        assert!(check(&tags(&[(&long_key, "")])).is_err());
        let long_value = "v".repeat(257);
        assert!(check(&tags(&[("k", &long_value)])).is_err());
        let too_many: Vec<(String, String)> =
            (0..48).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(
            check(&too_many)
                .unwrap_err()
                .message
                .contains("more than the 47")
        );
    }
}

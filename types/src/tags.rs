//! Session tags as STS accepts them on `AssumeRole`, and the keys Sentinel reserves.

use crate::InvalidValue;

/// STS allows at most 50 session tags on one call.
pub const MAX_SESSION_TAGS: usize = 50;
/// Tags Sentinel sets on every session (see [`SENTINEL_TAGS`]).
pub const SESSION_ID_TAG: &str = "sentinel-session-id";
/// The derived user.
pub const USER_TAG: &str = "sentinel-user";
/// The profile.
pub const PROFILE_TAG: &str = "sentinel-profile";
/// Every key Sentinel sets itself.
pub const SENTINEL_TAGS: [&str; 3] = [SESSION_ID_TAG, USER_TAG, PROFILE_TAG];
/// The approved request a session was vended under (`require_approval`).
pub const APPROVAL_ID_TAG: &str = "sentinel-approval-id";
/// The break-glass event a session was vended under.
pub const BREAKGLASS_ID_TAG: &str = "sentinel-breakglass-id";
/// What a profile may add: STS's limit less Sentinel's own tags and the one slot for
/// [`APPROVAL_ID_TAG`] or [`BREAKGLASS_ID_TAG`].
pub const MAX_PROFILE_TAGS: usize = MAX_SESSION_TAGS - SENTINEL_TAGS.len() - 1;
const MAX_KEY: usize = 128;
const MAX_VALUE: usize = 256;
const RESERVED_PREFIX: &str = "sentinel-";
const HINT: &str =
    "tag keys are 1-128 and values 0-256 letters, digits, spaces or `_ . : / = + - @`";

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

/// A value for a tag STS would refuse (IAM names allow `,`, tags do not): characters
/// outside the tag charset become `_`, and the value is cut to 256 characters.
pub fn tag_value(raw: &str) -> String {
    raw.chars()
        .map(|c| if is_session_tag_char(c) { c } else { '_' })
        .take(MAX_VALUE)
        .collect()
}

/// Checks one tag against STS's rules (length, charset, the `aws:` prefix).
pub fn check_tag(key: &str, value: &str) -> Result<(), InvalidValue> {
    let key_len = key.chars().count();
    if key_len == 0 || key_len > MAX_KEY {
        return Err(InvalidValue::new(format!(
            "session tag key `{key}` must be 1 to {MAX_KEY} characters long"
        )));
    }
    if let Some(bad) = key.chars().find(|c| !is_session_tag_char(*c)) {
        return Err(InvalidValue::new(format!(
            "session tag key `{key}` contains `{}`, which STS does not allow",
            bad.escape_default()
        ))
        .hint(HINT));
    }
    if key.to_lowercase().starts_with("aws:") {
        return Err(InvalidValue::new(format!(
            "session tag key `{key}` uses the `aws:` prefix, which AWS reserves"
        )));
    }
    if value.chars().count() > MAX_VALUE {
        return Err(InvalidValue::new(format!(
            "session tag `{key}` has a value longer than {MAX_VALUE} characters"
        )));
    }
    if let Some(bad) = value.chars().find(|c| !is_session_tag_char(*c)) {
        return Err(InvalidValue::new(format!(
            "session tag `{key}` has a value containing `{}`, which STS does not allow",
            bad.escape_default()
        ))
        .hint(HINT));
    }
    Ok(())
}

/// Checks a whole set of tags for one `AssumeRole` call: each tag, at most
/// [`MAX_SESSION_TAGS`], and no key twice (STS compares keys case-insensitively).
pub fn check_tags(tags: &[(String, String)]) -> Result<(), InvalidValue> {
    if tags.len() > MAX_SESSION_TAGS {
        return Err(InvalidValue::new(format!(
            "{} session tags exceed the STS limit of {MAX_SESSION_TAGS}",
            tags.len()
        )));
    }
    for (index, (key, value)) in tags.iter().enumerate() {
        check_tag(key, value)?;
        let lower = key.to_lowercase();
        if let Some((other, _)) = tags
            .iter()
            .take(index)
            .find(|(k, _)| k.to_lowercase() == lower)
        {
            return Err(InvalidValue::new(format!(
                "session tag key `{key}` repeats `{other}` (tag keys are case-insensitive)"
            )));
        }
    }
    Ok(())
}

/// Checks the static tags a profile sets: [`check_tags`], at most
/// [`MAX_PROFILE_TAGS`], and none in Sentinel's `sentinel-` namespace.
pub fn check_profile_tags(tags: &[(String, String)]) -> Result<(), InvalidValue> {
    if tags.len() > MAX_PROFILE_TAGS {
        return Err(InvalidValue::new(format!(
            "{} session tags is more than the {MAX_PROFILE_TAGS} a profile may set",
            tags.len()
        ))
        .hint("STS allows 50 session tags and sentinel sets up to 4 of them"));
    }
    // SECURITY: the TVM sets these keys to the session ID, user and profile; a policy
    // must not be able to forge or shadow them.
    if let Some((key, _)) = tags
        .iter()
        .find(|(k, _)| k.to_lowercase().starts_with(RESERVED_PREFIX))
    {
        check_tag(key, "")?;
        return Err(InvalidValue::new(format!(
            "session tag key `{key}` uses the `sentinel-` prefix, which sentinel reserves for its own tags"
        )));
    }
    check_tags(tags)
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
        check_profile_tags(&tags(&[
            ("team", "payments"),
            ("cost-center", "CC 12/a@b.c:d=e+f_g"),
            ("empty", ""),
        ]))
        .unwrap();
        check_profile_tags(&tags(&[("équipe", "paiements")])).unwrap();
        let many: Vec<(String, String)> =
            (0..46).map(|i| (format!("k{i}"), String::new())).collect();
        check_profile_tags(&many).unwrap();
        check_tags(&tags(&[("sentinel-user", "alice")])).unwrap();
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
            let e = check_profile_tags(&tags(pairs)).unwrap_err();
            assert!(e.message().contains(expected), "{pairs:?}: {e}");
        }
        let long_key = "k".repeat(129);
        assert!(check_profile_tags(&tags(&[(&long_key, "")])).is_err());
        let long_value = "v".repeat(257);
        assert!(check_profile_tags(&tags(&[("k", &long_value)])).is_err());
        let too_many: Vec<(String, String)> =
            (0..47).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(
            check_profile_tags(&too_many)
                .unwrap_err()
                .message()
                .contains("more than the 46")
        );
        let fifty_one: Vec<(String, String)> =
            (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(
            check_tags(&fifty_one)
                .unwrap_err()
                .message()
                .contains("limit of 50")
        );
    }

    #[test]
    fn tag_values_are_made_acceptable() {
        assert_eq!(tag_value("deployer/build-42"), "deployer/build-42");
        assert_eq!(tag_value("a,b;c"), "a_b_c");
        assert_eq!(tag_value(&"x".repeat(300)).len(), 256);
        check_tag("k", &tag_value("any, thing; at all!")).unwrap();
    }
}

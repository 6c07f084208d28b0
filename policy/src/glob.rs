//! Glob patterns on user names and ARNs.
//!
//! Only `*` (any run of characters, `/` and `:` included) and `?` (exactly one
//! character) are wildcards; everything else matches itself, case-sensitively.
//! `[`, `]`, `{` and `}` are refused rather than taken literally, because a
//! reader would expect character classes or alternatives that the matcher
//! (wildmatch) does not implement.

use std::fmt;

use wildmatch::WildMatch;

use crate::error::Invalid;

/// A validated glob, compiled once.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Glob {
    source: String,
    matcher: Matcher,
}

/// The common shapes get a plain string comparison; the rest wildmatch.
#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    Any,
    Literal,
    Prefix(String),
    Suffix(String),
    Wild(WildMatch),
}

fn has_wildcards(text: &str) -> bool {
    text.contains(['*', '?'])
}

pub(crate) const GLOB_HINT: &str =
    "globs support `*` (any run of characters) and `?` (one character) only";

impl Glob {
    pub(crate) fn new(pattern: &str) -> Result<Self, Invalid> {
        if pattern.is_empty() {
            return Err(Invalid::new("empty glob").hint(GLOB_HINT));
        }
        if let Some(bad) = pattern.chars().find(|c| matches!(c, '[' | ']' | '{' | '}')) {
            return Err(Invalid::new(format!(
                "glob `{pattern}` uses `{bad}`, which is not supported"
            ))
            .hint(GLOB_HINT));
        }
        if pattern.chars().any(char::is_control) {
            return Err(Invalid::new(format!(
                "glob `{}` contains a control character",
                pattern.escape_default()
            )));
        }
        let matcher = if pattern.chars().all(|c| c == '*') {
            Matcher::Any
        } else if !has_wildcards(pattern) {
            Matcher::Literal
        } else if let Some(prefix) = pattern.strip_suffix('*').filter(|p| !has_wildcards(p)) {
            Matcher::Prefix(prefix.to_owned())
        } else if let Some(suffix) = pattern.strip_prefix('*').filter(|s| !has_wildcards(s)) {
            Matcher::Suffix(suffix.to_owned())
        } else {
            Matcher::Wild(WildMatch::new(pattern))
        };
        Ok(Self {
            source: pattern.to_owned(),
            matcher,
        })
    }

    #[inline]
    pub(crate) fn matches(&self, input: &str) -> bool {
        match &self.matcher {
            Matcher::Any => true,
            Matcher::Literal => same(self.source.as_bytes(), input.as_bytes()),
            Matcher::Prefix(prefix) => input
                .as_bytes()
                .get(..prefix.len())
                .is_some_and(|head| same(prefix.as_bytes(), head)),
            Matcher::Suffix(suffix) => input
                .len()
                .checked_sub(suffix.len())
                .and_then(|start| input.as_bytes().get(start..))
                .is_some_and(|tail| same(suffix.as_bytes(), tail)),
            Matcher::Wild(wild) => wild.matches(input),
        }
    }

    /// The glob as written.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// The one string the glob matches, when it has no wildcards.
    pub(crate) fn literal(&self) -> Option<&str> {
        (self.matcher == Matcher::Literal).then_some(self.source.as_str())
    }

    /// Matches every string.
    pub(crate) fn is_universal(&self) -> bool {
        self.matcher == Matcher::Any
    }

    /// Whether every string `other` matches, this glob matches too. Exact for
    /// literals; for two patterns only the obvious cases (so lints never
    /// report a false shadow).
    pub(crate) fn covers(&self, other: &Glob) -> bool {
        self.is_universal()
            || self.source == other.source
            || (other.matcher == Matcher::Literal && self.matches(&other.source))
    }
}

/// Byte equality without a `memcmp` call for the short strings policies hold
/// (user names, account IDs): two overlapping word loads cover 8..=16 bytes.
#[inline]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    fn word(bytes: &[u8], at: usize) -> u64 {
        bytes
            .get(at..at + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map_or(0, u64::from_ne_bytes)
    }
    let len = a.len();
    if len != b.len() {
        return false;
    }
    if (8..=16).contains(&len) {
        word(a, 0) == word(b, 0) && word(a, len - 8) == word(b, len - 8)
    } else {
        a == b
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_spans_slashes_and_colons_and_question_mark_is_one_character() {
        let g = Glob::new("arn:aws:iam::*:user/*").unwrap();
        assert!(g.matches("arn:aws:iam::123456789012:user/eng/alice"));
        assert!(!g.matches("arn:aws:sts::123456789012:assumed-role/R/S"));
        let q = Glob::new("ops-?").unwrap();
        assert!(q.matches("ops-1"));
        assert!(!q.matches("ops-12"));
        assert!(!q.matches("ops-"));
        assert!(Glob::new("*").unwrap().matches(""));
    }

    #[test]
    fn every_shape_matches_like_the_general_matcher() {
        let inputs = [
            "",
            "a",
            "ab",
            "abc",
            "ops-1",
            "x/ops-1",
            "ops-",
            "arn:aws:iam::1:user/a",
        ];
        for pattern in [
            "*",
            "**",
            "ops-*",
            "*ops-1",
            "*-*",
            "o?s-*",
            "a",
            "*a*",
            "arn:*:user/*",
            "?",
        ] {
            let glob = Glob::new(pattern).unwrap();
            let reference = WildMatch::new(pattern);
            for input in inputs {
                assert_eq!(
                    glob.matches(input),
                    reference.matches(input),
                    "{pattern} on {input}"
                );
            }
        }
    }

    #[test]
    fn short_string_equality_is_exact() {
        let words = [
            "",
            "a",
            "alice",
            "alice123",
            "alice1234",
            "123456789012",
            "123456789013",
            "0123456789abcdef",
            "0123456789abcdeg",
            "0123456789abcdefg",
        ];
        for a in words {
            for b in words {
                assert_eq!(same(a.as_bytes(), b.as_bytes()), a == b, "{a} {b}");
            }
        }
    }

    #[test]
    fn matching_is_case_sensitive_and_literal_otherwise() {
        let g = Glob::new("alice").unwrap();
        assert!(g.matches("alice"));
        assert!(!g.matches("Alice"));
        assert!(!g.matches("alice2"));
        assert!(Glob::new("a.b+c").unwrap().matches("a.b+c"));
    }

    #[test]
    fn brackets_braces_and_empty_patterns_are_refused_with_a_hint() {
        for bad in ["ops-[ab]", "ops-]", "{a,b}", "x}"] {
            let e = Glob::new(bad).unwrap_err();
            assert!(e.message.contains("is not supported"), "{bad}: {e}");
            assert_eq!(e.hint.as_deref(), Some(GLOB_HINT));
        }
        assert_eq!(Glob::new("").unwrap_err().message, "empty glob");
        assert!(Glob::new("a\u{7}").is_err());
    }

    #[test]
    fn covers_is_conservative() {
        let star = Glob::new("*").unwrap();
        let ops = Glob::new("ops-*").unwrap();
        let ops1 = Glob::new("ops-1").unwrap();
        assert!(star.covers(&ops));
        assert!(ops.covers(&ops1));
        assert!(ops.covers(&ops));
        assert!(!ops1.covers(&ops));
        assert!(
            !ops.covers(&Glob::new("ops-?").unwrap()),
            "not proven, so not claimed"
        );
    }
}

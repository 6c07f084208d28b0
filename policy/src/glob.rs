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
    matcher: WildMatch,
    literal: bool,
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
        Ok(Self {
            source: pattern.to_owned(),
            matcher: WildMatch::new(pattern),
            literal: !pattern.contains(['*', '?']),
        })
    }

    pub(crate) fn matches(&self, input: &str) -> bool {
        if self.literal {
            self.source == input
        } else {
            self.matcher.matches(input)
        }
    }

    /// Matches every string.
    pub(crate) fn is_universal(&self) -> bool {
        self.source.chars().all(|c| c == '*')
    }

    /// Whether every string `other` matches, this glob matches too. Exact for
    /// literals; for two patterns only the obvious cases (so lints never
    /// report a false shadow).
    pub(crate) fn covers(&self, other: &Glob) -> bool {
        self.is_universal()
            || self.source == other.source
            || (other.literal && self.matches(&other.source))
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

//! The SSM path under which policies live: `<root>/<profile>`.

use crate::account::shown;
use crate::{InvalidValue, string_newtype};

/// An SSM parameter hierarchy path that holds one policy per profile: absolute,
/// `/`-separated names of `a-zA-Z0-9_.-`, at most 15 levels with the profile, outside
/// the `/aws` and `/ssm` prefixes AWS reserves. Stored without a trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PolicyRoot(String);

impl PolicyRoot {
    /// Checks `raw` (a trailing `/` is dropped).
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let root = raw.trim_end_matches('/');
        let bad = |why: &str| {
            InvalidValue::new(format!("`{}` {why}", shown(raw)))
                .hint("write an absolute SSM path such as `/sentinel/policies`")
        };
        if !root.starts_with('/') {
            return Err(bad("must start with `/`"));
        }
        let valid_chars = root
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '.' | '-'));
        if !valid_chars || root.contains("//") || root.len() > 900 || root.matches('/').count() > 14
        {
            return Err(bad("is not a valid SSM parameter path"));
        }
        let lower = root.to_ascii_lowercase();
        if lower.starts_with("/aws") || lower.starts_with("/ssm") {
            return Err(bad("uses a prefix reserved by AWS"));
        }
        Ok(Self(root.to_owned()))
    }

    /// The parameter name of `profile`'s policy: `<root>/<profile>`.
    pub fn parameter(&self, profile: &str) -> String {
        format!("{}/{profile}", self.0)
    }
}
string_newtype!(PolicyRoot);

impl Default for PolicyRoot {
    /// `/sentinel/policies`.
    fn default() -> Self {
        Self("/sentinel/policies".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_are_absolute_ssm_paths_outside_reserved_prefixes() {
        assert_eq!(PolicyRoot::parse("/a/b/").unwrap().as_str(), "/a/b");
        assert_eq!(
            PolicyRoot::default().parameter("prod"),
            "/sentinel/policies/prod"
        );
        for bad in [
            "relative/path",
            "/aws/reserved",
            "/AWS",
            "/ssm/x",
            "/a//b",
            "/a b",
            "",
        ] {
            assert!(PolicyRoot::parse(bad).is_err(), "{bad}");
        }
        let deep = "/a".repeat(15);
        assert!(PolicyRoot::parse(&deep).is_err());
    }
}

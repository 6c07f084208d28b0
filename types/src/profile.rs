//! Profile names: the `<profile>` of `<root>/<profile>` in SSM.

use crate::account::shown;
use crate::{InvalidValue, string_newtype};

/// A profile name: `^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`, so that it is one SSM path
/// segment and safe in a URL, a log line and a session tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileName(String);

impl ProfileName {
    /// Checks `raw` against `^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let mut chars = raw.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if first_ok && rest_ok && raw.len() <= 128 {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidValue::new(format!(
                "profile `{}` is not a valid profile name (letters, digits, `_`, `.`, `-`; up to 128; starting with a letter or digit)",
                shown(raw)
            )))
        }
    }
}
string_newtype!(ProfileName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_are_one_path_segment() {
        for ok in ["prod", "a", "Team-1.stage_x", &"p".repeat(128)] {
            assert!(ProfileName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-prod",
            ".prod",
            "_x",
            "a/b",
            "../x",
            "a b",
            "é",
            &"p".repeat(129),
        ] {
            let e = ProfileName::parse(bad).unwrap_err();
            assert!(e.message().contains("is not a valid profile name"), "{bad}");
        }
    }
}

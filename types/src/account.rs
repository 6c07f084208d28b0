//! AWS account and organization IDs.

use crate::{InvalidValue, string_newtype};

/// A 12-digit AWS account ID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(pub(crate) String);

impl AccountId {
    /// Exactly 12 ASCII digits.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if raw.len() == 12 && raw.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidValue::new(format!(
                "`{}` is not an AWS account ID (12 digits)",
                shown(raw)
            )))
        }
    }
}
string_newtype!(AccountId);

/// An AWS Organizations ID: `o-` and 10 to 32 lowercase letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgId(String);

impl OrgId {
    /// `o-[a-z0-9]{10,32}`.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let ok = raw.strip_prefix("o-").is_some_and(|rest| {
            (10..=32).contains(&rest.len())
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidValue::new(format!(
                "`{}` is not an AWS organization ID (`o-` and 10 to 32 lowercase letters or digits)",
                shown(raw)
            )))
        }
    }
}
string_newtype!(OrgId);

/// Caller-supplied text is echoed in messages, but bounded.
pub(crate) fn shown(raw: &str) -> String {
    raw.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_twelve_digits() {
        assert_eq!(
            AccountId::parse("123456789012").unwrap().as_str(),
            "123456789012"
        );
        for bad in [
            "",
            "12345678901",
            "1234567890123",
            "12345678901a",
            " 123456789012",
        ] {
            assert!(AccountId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn org_ids_follow_the_organizations_pattern() {
        assert!(OrgId::parse("o-abc1234567").is_ok());
        assert!(OrgId::parse(&format!("o-{}", "a".repeat(32))).is_ok());
        for bad in ["o-abc", "o-ABC1234567", "x-abc1234567", "o-", ""] {
            assert!(OrgId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn serde_refuses_invalid_values() {
        let ok: AccountId = serde_json::from_str("\"123456789012\"").unwrap();
        assert_eq!(ok, "123456789012");
        assert!(serde_json::from_str::<AccountId>("\"12\"").is_err());
        assert_eq!(serde_json::to_string(&ok).unwrap(), "\"123456789012\"");
    }
}

//! The two names STS stamps on a role session: the role session name and the
//! SourceIdentity.

use crate::account::shown;
use crate::{InvalidValue, SessionId, string_newtype};

/// STS allows 2 to 64 characters in both names.
const MIN_LEN: usize = 2;
const MAX_LEN: usize = 64;

/// STS's charset for RoleSessionName and SourceIdentity: `[\w+=,.@-]`.
pub fn is_sts_identity_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-')
}

fn check(what: &str, raw: &str) -> Result<(), InvalidValue> {
    if !(MIN_LEN..=MAX_LEN).contains(&raw.len()) || !raw.chars().all(is_sts_identity_char) {
        return Err(InvalidValue::new(format!(
            "{what} `{}` is not valid for STS (2 to 64 of `A-Z a-z 0-9 _ + = , . @ -`)",
            shown(raw)
        )));
    }
    Ok(())
}

/// The role session name of a vended session: `sentinel-<session id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleSessionName(String);

impl RoleSessionName {
    /// The name Sentinel gives the session `id`.
    pub fn for_session(id: &SessionId) -> Self {
        Self(format!("sentinel-{id}"))
    }

    /// Any role session name STS accepts.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        check("role session name", raw)?;
        Ok(Self(raw.to_owned()))
    }

    /// The session id, when this is a name Sentinel gave.
    pub fn session_id(&self) -> Option<SessionId> {
        self.0
            .strip_prefix("sentinel-")
            .and_then(|id| SessionId::parse(id).ok())
    }
}
string_newtype!(RoleSessionName);

/// The SourceIdentity Sentinel sets: `sentinel=<user>`, in STS's charset and length.
/// AWS carries it through every later role hop and the caller cannot change it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceIdentity(String);

impl SourceIdentity {
    /// `sentinel=<user>`: characters outside `[A-Za-z0-9_=,.@-]` become `_`, cut to 64.
    pub fn for_user(user: &str) -> Self {
        Self(
            "sentinel="
                .chars()
                .chain(user.chars())
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '_' | '=' | ',' | '.' | '@' | '-') {
                        c
                    } else {
                        '_'
                    }
                })
                .take(MAX_LEN)
                .collect(),
        )
    }

    /// Any SourceIdentity STS accepts: 2 to 64 characters of its charset, not
    /// starting with `aws:` (which the charset already excludes).
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        check("source identity", raw)?;
        Ok(Self(raw.to_owned()))
    }
}
string_newtype!(SourceIdentity);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_carry_the_session_id() {
        let id = SessionId::from_bytes([7; 16]);
        let name = RoleSessionName::for_session(&id);
        assert_eq!(name.as_str(), format!("sentinel-{id}"));
        assert_eq!(name.session_id(), Some(id));
        assert!(RoleSessionName::parse(name.as_str()).is_ok());
        assert_eq!(RoleSessionName::parse("other").unwrap().session_id(), None);
        for bad in ["a", "has space", &"x".repeat(65), "a:b"] {
            assert!(RoleSessionName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn source_identity_is_sanitised_to_the_sts_charset_and_cut_to_64() {
        assert_eq!(SourceIdentity::for_user("alice").as_str(), "sentinel=alice");
        let long = SourceIdentity::for_user(&"x".repeat(100));
        assert_eq!(long.as_str().len(), 64);
        assert!(SourceIdentity::parse(long.as_str()).is_ok());
        assert!(SourceIdentity::parse("aws:x").is_err());
    }
}

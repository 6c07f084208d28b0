//! The session identifier: 128 random bits written as 32 lowercase hex characters.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::StoreError;

/// Number of random bytes in a session id (128 bits).
const ID_BYTES: usize = 16;
/// Length of the textual form: two hex characters per byte.
const ID_LEN: usize = ID_BYTES * 2;

/// Identifies one vended session. Always 32 lowercase hex characters, so it is safe to
/// put into a role session name (`sentinel-<id>`), a header or a log line as it is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SessionId(String);

impl SessionId {
    /// Draws a fresh id from the operating system's random number generator.
    pub fn random() -> Result<Self, StoreError> {
        let mut bytes = [0u8; ID_BYTES];
        // SECURITY: session ids are unguessable only because they come from the OS CSPRNG;
        // a failure is an error, never a fallback to a weaker source.
        getrandom::fill(&mut bytes).map_err(StoreError::Random)?;
        Ok(Self(hex::encode(bytes)))
    }

    /// Accepts exactly 32 lowercase hex characters; anything else (upper case, whitespace,
    /// another length) is refused rather than normalised, so one session has one spelling.
    pub fn parse(s: &str) -> Result<Self, InvalidSessionId> {
        let well_formed =
            s.len() == ID_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if well_formed {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidSessionId::new(s))
        }
    }

    /// The 32-character textual form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for SessionId {
    type Err = InvalidSessionId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for SessionId {
    type Error = InvalidSessionId;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<SessionId> for String {
    fn from(id: SessionId) -> Self {
        id.0
    }
}

impl AsRef<str> for SessionId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A string that is not a session id. Its message quotes at most the first 40 characters
/// of the input, so a huge or hostile value cannot flood a log line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{shown}` is not a session id (expected 32 lowercase hex characters)")]
pub struct InvalidSessionId {
    shown: String,
}

impl InvalidSessionId {
    const SHOWN_CHARS: usize = 40;

    fn new(input: &str) -> Self {
        let mut shown: String = input
            .chars()
            .take(Self::SHOWN_CHARS)
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        if input.chars().count() > Self::SHOWN_CHARS {
            shown.push_str("...");
        }
        Self { shown }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_32_lowercase_hex_and_distinct() {
        let a = SessionId::random().unwrap();
        let b = SessionId::random().unwrap();
        assert_eq!(a.as_str().len(), 32);
        assert!(
            a.as_str()
                .bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
        assert_eq!(SessionId::parse(a.as_str()).unwrap(), a);
    }

    #[test]
    fn parse_refuses_everything_but_32_lowercase_hex() {
        assert!(SessionId::parse("0123456789abcdef0123456789abcdef").is_ok());
        for bad in [
            "",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0",
            "0123456789ABCDEF0123456789ABCDEF",
            "0123456789abcdef0123456789abcdeg",
            " 0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdé",
        ] {
            assert!(SessionId::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn invalid_id_message_quotes_a_bounded_prefix() {
        let long = "x".repeat(10_000);
        let message = SessionId::parse(&long).unwrap_err().to_string();
        assert!(message.len() < 120, "{message}");
        assert!(message.starts_with("`xxxx"));
        assert!(message.contains("..."));
        let message = SessionId::parse("a\nb").unwrap_err().to_string();
        assert!(message.contains("`a?b`"), "{message}");
    }

    #[test]
    fn serde_uses_the_plain_string_and_validates() {
        let id = SessionId::parse("0123456789abcdef0123456789abcdef").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"0123456789abcdef0123456789abcdef\"");
        assert_eq!(serde_json::from_str::<SessionId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<SessionId>("\"nope\"").is_err());
    }
}

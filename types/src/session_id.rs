//! The session identifier: 128 random bits written as 32 lowercase hex characters.

use crate::account::shown;
use crate::{InvalidValue, string_newtype};

/// Number of random bytes in a session id (128 bits).
pub const SESSION_ID_BYTES: usize = 16;
const ID_LEN: usize = SESSION_ID_BYTES * 2;

/// Identifies one vended session. Always 32 lowercase hex characters, so it is safe to
/// put into a role session name (`sentinel-<id>`), a header or a log line as it is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(String);

impl SessionId {
    /// The id for 16 bytes, which the caller draws from the OS CSPRNG.
    pub fn from_bytes(bytes: [u8; SESSION_ID_BYTES]) -> Self {
        use std::fmt::Write as _;
        let mut text = String::with_capacity(ID_LEN);
        for b in bytes {
            let _ = write!(text, "{b:02x}");
        }
        Self(text)
    }

    /// Accepts exactly 32 lowercase hex characters; anything else (upper case, whitespace,
    /// another length) is refused rather than normalised, so one session has one spelling.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let well_formed =
            raw.len() == ID_LEN && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidValue::new(format!(
                "`{}` is not a session id (32 lowercase hex characters)",
                shown(raw).escape_default()
            )))
        }
    }
}
string_newtype!(SessionId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_lowercase_hex() {
        let id = SessionId::from_bytes([0xab; 16]);
        assert_eq!(id.as_str(), "ab".repeat(16));
        assert_eq!(SessionId::parse(id.as_str()).unwrap(), id);
        for bad in [
            "",
            "ABABABABABABABABABABABABABABABAB",
            "abababababababababababababababa",
            "ababababababababababababababababa",
            " abababababababababababababababa",
            "gbababababababababababababababab",
        ] {
            assert!(SessionId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn serde_is_the_text_and_refuses_bad_ids() {
        let id = SessionId::from_bytes([1; 16]);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<SessionId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<SessionId>("\"nope\"").is_err());
    }
}

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

/// `sentinel=`: the prefix every SourceIdentity Sentinel sets begins with.
const PREFIX: &str = "sentinel=";
/// Lowercase hex digits of SHA-256 kept in the long form.
const HASH_DIGITS: usize = 24;

impl SourceIdentity {
    /// `sentinel=<user>`, injective: two different users never get the same value,
    /// because downstream trust policies may condition on `sts:SourceIdentity` and it
    /// survives every later role hop.
    ///
    /// `=` is the escape character: every byte of the user's UTF-8 outside
    /// `[A-Za-z0-9_+,.@-]` (including `=`, `/`, `:`) is written `=XX` (uppercase hex).
    /// When that is longer than 64 characters, a readable prefix (never cut inside an
    /// escape) is followed by `=H` and 24 lowercase hex digits of SHA-256 of the user;
    /// `=H` is no valid escape, so a long form never equals a short one.
    pub fn for_user(user: &str) -> Self {
        use std::fmt::Write as _;
        let mut encoded = String::from(PREFIX);
        // Where each escape or character ends, for a cut that never splits an escape.
        let mut boundaries = vec![encoded.len()];
        for &b in user.as_bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b',' | b'.' | b'@' | b'-') {
                encoded.push(char::from(b));
            } else {
                let _ = write!(encoded, "={b:02X}");
            }
            boundaries.push(encoded.len());
        }
        if encoded.len() <= MAX_LEN {
            return Self(encoded);
        }
        let room = MAX_LEN - 2 - HASH_DIGITS;
        let cut = boundaries
            .iter()
            .copied()
            .filter(|&at| at <= room)
            .max()
            .unwrap_or(PREFIX.len());
        let digest = <sha2::Sha256 as sha2::Digest>::digest(user.as_bytes());
        let mut long: String = encoded.get(..cut).unwrap_or(PREFIX).to_owned();
        long.push_str("=H");
        for b in digest.iter().take(HASH_DIGITS / 2) {
            let _ = write!(long, "{b:02x}");
        }
        Self(long)
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

    fn si(user: &str) -> String {
        SourceIdentity::for_user(user).to_string()
    }

    #[test]
    fn source_identity_escapes_with_equals_and_hex() {
        assert_eq!(si("alice"), "sentinel=alice");
        assert_eq!(si("deployer/build-42"), "sentinel=deployer=2Fbuild-42");
        assert_eq!(si("a+b,c.d@e_f-g"), "sentinel=a+b,c.d@e_f-g");
        assert_eq!(si("a=b"), "sentinel=a=3Db");
        assert_eq!(si("222233334444:alice"), "sentinel=222233334444=3Aalice");
        assert_eq!(si("jörg"), "sentinel=j=C3=B6rg");
        assert!(SourceIdentity::parse("aws:x").is_err());
    }

    /// The collisions the v1 encoding had: `_` for every unknown character, and a cut
    /// at 64 that dropped what told two long users apart.
    #[test]
    fn users_that_collided_before_get_distinct_values() {
        assert_ne!(si("deployer_build-42"), si("deployer/build-42"));
        let role = "r".repeat(58);
        assert_ne!(
            si(&format!("{role}/session-1")),
            si(&format!("{role}/session-2"))
        );
        assert_ne!(si("a b"), si("a_b"));
        assert_ne!(si("a+b"), si("a_b"));
    }

    #[test]
    fn long_users_keep_a_readable_prefix_and_a_hash() {
        let long = si(&"x".repeat(100));
        assert!(long.len() <= 64, "{long}");
        assert!(long.starts_with("sentinel=xxx"), "{long}");
        let (_, hash) = long.rsplit_once("=H").unwrap();
        assert_eq!(hash.len(), 24);
        assert!(
            hash.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        // Never cut inside an escape: the prefix ends on a whole character.
        let slashes = si(&"/".repeat(40));
        let prefix = slashes.rsplit_once("=H").unwrap().0;
        let escapes = prefix.strip_prefix("sentinel=").unwrap();
        assert!(escapes.split('=').skip(1).all(|e| e == "2F"), "{prefix}");
        assert!(slashes.len() <= 64);
    }

    proptest::proptest! {
        #[test]
        fn distinct_users_get_distinct_valid_values(a in "\\PC{1,80}", b in "\\PC{1,80}") {
            let (x, y) = (si(&a), si(&b));
            for v in [&x, &y] {
                proptest::prop_assert!((2..=64).contains(&v.len()), "{}", v);
                proptest::prop_assert!(v.chars().all(is_sts_identity_char), "{}", v);
                proptest::prop_assert!(SourceIdentity::parse(v).is_ok());
            }
            if a != b {
                proptest::prop_assert_ne!(x, y);
            }
        }

        #[test]
        fn near_collisions_stay_distinct(stem in "[a-z/_:= ]{50,70}", tail in "[a-z/_]{1,3}") {
            let a = format!("{stem}{tail}");
            let b = format!("{stem}{tail}x");
            proptest::prop_assert_ne!(si(&a), si(&b));
        }
    }
}

//! Sentinel's vocabulary of validated names: every AWS rule the product relies on
//! (what an account ID, an ARN, a role session name, a session tag or a credential
//! duration may be) lives here, once.
//!
//! Each type is a newtype that can only hold a valid value: parse it at the
//! boundary (`FromStr`, serde, or a named constructor) and pass it on. `Display`
//! writes the canonical text back. [`timestamp`] is the one stored form of an instant
//! that the tables and their cursors share. The crate is pure: no I/O, no async, no clock,
//! no AWS SDK (its `Cargo.toml` proves it). It is not the policy language (crate
//! `policy`), the wire contract (crate `protocol`) nor the session record (crate
//! `sessions`); those are built from these types.
//!
//! ```
//! use sentinel_types::{ProfileName, RoleArn, SessionDuration, SourceIdentity};
//!
//! let role: RoleArn = "arn:aws:iam::111122223333:role/team/SentinelProtected-prod".parse().unwrap();
//! assert_eq!(role.name(), "SentinelProtected-prod");
//! assert_eq!(role.account().as_str(), "111122223333");
//!
//! let duration: SessionDuration = "1h30m".parse().unwrap();
//! assert_eq!(duration.secs(), 5400);
//! assert!("14m".parse::<SessionDuration>().is_err());
//!
//! assert!("prod".parse::<ProfileName>().is_ok());
//! assert!("../prod".parse::<ProfileName>().is_err());
//!
//! assert_eq!(SourceIdentity::for_user("alice").as_str(), "sentinel=alice");
//! ```

mod account;
mod arn;
mod digest;
mod duration;
mod error;
mod policy_name;
mod policy_root;
mod profile;
mod report;
mod session_id;
mod sts_identity;
pub mod tags;
mod text;
pub mod timestamp;
mod workload;

pub use account::{AccountId, OrgId};
pub use arn::{Arn, RoleArn, is_iam_name_char, is_partition};
pub use digest::short_digest;
pub use duration::{SessionDuration, parse_span};
pub use error::InvalidValue;
pub use policy_name::PolicyName;
pub use policy_root::PolicyRoot;
pub use profile::ProfileName;
pub use report::error_chain;
pub use session_id::{SESSION_ID_BYTES, SessionId};
pub use sts_identity::{RoleSessionName, SourceIdentity, is_sts_identity_char};
pub use text::is_hidden_char;
pub use workload::{workload_user, workload_user_prefix};

/// Implements `Display`, `FromStr` (through `parse`), `AsRef<str>` and string serde
/// for a newtype over `String` with a `parse(&str) -> Result<Self, InvalidValue>`.
macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            /// The canonical text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            /// The text, honouring width and alignment (`{:<20}`).
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.pad(&self.0)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                Self::parse(&raw).map_err(::serde::de::Error::custom)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}
pub(crate) use string_newtype;

//! The name of a policy document in the policy root: a profile's, or the admin policy.

use std::fmt;
use std::str::FromStr;

use crate::{InvalidValue, ProfileName};

/// What `<root>/<name>` holds: a profile's policy, or the admin policy at `_admin` (the
/// leading `_` keeps it apart from every profile name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyName {
    /// `<root>/<profile>`.
    Profile(ProfileName),
    /// `<root>/_admin`.
    Admin,
}

impl PolicyName {
    /// The admin policy's name in the root.
    pub const ADMIN: &'static str = "_admin";

    /// `_admin`, or a valid profile name.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if raw == Self::ADMIN {
            Ok(Self::Admin)
        } else {
            ProfileName::parse(raw).map(Self::Profile)
        }
    }
}

impl From<ProfileName> for PolicyName {
    fn from(profile: ProfileName) -> Self {
        Self::Profile(profile)
    }
}

impl fmt::Display for PolicyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Profile(profile) => fmt::Display::fmt(profile, f),
            Self::Admin => f.pad(Self::ADMIN),
        }
    }
}

impl FromStr for PolicyName {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_is_the_one_name_that_is_not_a_profile() {
        assert_eq!(PolicyName::parse("_admin").unwrap(), PolicyName::Admin);
        assert_eq!(PolicyName::parse("prod").unwrap().to_string(), "prod");
        assert!(PolicyName::parse("_other").is_err());
        assert!(PolicyName::parse("../prod").is_err());
    }
}

//! The `profile` section: the protected role, durations and session tags.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::fields::{FromText, Present, Seconds, Text, checked_map};
use crate::error::Invalid;
use crate::set::Profile;
use sentinel_types::{RoleArn, SessionDuration};

/// `profile`: checked as a whole (default within max, tags) before it is left.
pub(super) struct ProfileSection(pub(super) Profile);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFields {
    role_arn: Text<RoleArn>,
    #[serde(default)]
    default_duration: Present<Seconds>,
    #[serde(default)]
    max_duration: Present<Seconds>,
    #[serde(default)]
    session_tags: Present<TagList>,
}

impl<'de> Deserialize<'de> for ProfileSection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "the profile: a mapping with `role_arn` and optional `default_duration`, `max_duration`, `session_tags`",
            |f: ProfileFields| {
                let default_duration = f
                    .default_duration
                    .0
                    .map_or(SessionDuration::DEFAULT, |s| s.0);
                let max_duration = f.max_duration.0.map(|s| s.0);
                if let Some(max) = max_duration.filter(|max| default_duration > *max) {
                    return Err(Invalid::new(format!(
                        "default_duration `{}` is longer than max_duration `{}`",
                        default_duration,
                        max
                    ))
                    .hint("lower default_duration or raise max_duration (default_duration is 15m when left out)"));
                }
                Ok(ProfileSection(Profile {
                    role_arn: f.role_arn.0,
                    default_duration: default_duration.secs(),
                    max_duration: max_duration.map(SessionDuration::secs),
                    session_tags: f.session_tags.0.map(|t| t.0).unwrap_or_default(),
                }))
            },
        )
    }
}

/// `session_tags`: a mapping of strings, kept in document order.
struct TagList(Vec<(String, String)>);

impl<'de> Deserialize<'de> for TagList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TagList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of session tag keys to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TagList, A::Error> {
                let mut tags = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, String>()? {
                    tags.push((key, value));
                }
                sentinel_types::tags::check_profile_tags(&tags)
                    .map_err(|e| de::Error::custom(Invalid::from(e)))?;
                Ok(TagList(tags))
            }
        }
        d.deserialize_map(V)
    }
}

impl FromText for RoleArn {
    const EXPECTING: &'static str = "an IAM role ARN";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        Ok(RoleArn::parse(text)?)
    }
}

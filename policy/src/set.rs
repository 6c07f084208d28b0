//! The validated, compiled policy: what [`crate::parse`] returns and
//! [`crate::evaluate`] reads.

use std::fmt;
use std::str::FromStr;

use crate::condition::{Checks, Conditions, Predicate};
use crate::error::{Invalid, PolicyError};
use crate::lint::Lint;

/// A profile's policy, validated and compiled. Only [`crate::parse`] makes one.
#[derive(Debug, Clone)]
pub struct PolicySet {
    pub(crate) profile: Profile,
    pub(crate) rules: Vec<Rule>,
    pub(crate) lints: Vec<Lint>,
    /// The distinct conditions the rules' [`Checks`] refer to.
    pub(crate) predicates: Vec<Predicate>,
}

impl PolicySet {
    /// The protected role and the profile's duration and tag settings.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The rules in evaluation order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Warnings about a document that is valid but probably not what its
    /// author meant (shadowed rules, allows after a catch-all deny, no rules).
    pub fn lints(&self) -> &[Lint] {
        &self.lints
    }
}

/// The `profile` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The protected role the TVM assumes.
    pub role_arn: RoleArn,
    /// Seconds granted when the caller asks for no duration.
    pub default_duration: u32,
    /// The longest credentials this profile grants, in seconds.
    pub max_duration: Option<u32>,
    /// Static session tags, in document order.
    pub session_tags: Vec<(String, String)>,
}

/// `allow` or `deny`: nothing else issues credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Issue credentials.
    Allow,
    /// Refuse, and stop looking at later rules.
    Deny,
}

impl Effect {
    /// `allow` or `deny`, as written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub(crate) name: String,
    pub(crate) effect: Effect,
    pub(crate) conditions: Conditions,
    pub(crate) checks: Checks,
    pub(crate) max_duration: Option<u32>,
    pub(crate) reason: Option<String>,
    pub(crate) line: Option<usize>,
    pub(crate) column: Option<usize>,
}

impl Rule {
    /// The rule's unique name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the rule decides when its conditions hold.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// The cap on credentials this rule grants, in seconds.
    pub fn max_duration(&self) -> Option<u32> {
        self.max_duration
    }

    /// Why the rule exists, as its author wrote it.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// Whether the rule has no conditions that could fail: it matches every request.
    pub fn is_catch_all(&self) -> bool {
        self.conditions.covers(&Conditions::default())
    }

    /// The 1-based line of the rule's `name:` in the source, when found.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The 1-based column of the rule's `name` key, when found.
    pub fn column(&self) -> Option<usize> {
        self.column
    }
}

/// `arn:<partition>:iam::<12 digits>:role/<path/>name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleArn(String);

impl RoleArn {
    /// The ARN as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 12-digit account that owns the role.
    pub fn account_id(&self) -> &str {
        self.0.split(':').nth(4).unwrap_or_default()
    }

    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub fn partition(&self) -> &str {
        self.0.split(':').nth(1).unwrap_or_default()
    }

    /// The role name, without its path.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or_default()
    }

    pub(crate) fn check(raw: &str) -> Result<Self, Invalid> {
        let bad = |why: &str| {
            Invalid::new(format!("`{raw}` is not an IAM role ARN: {why}"))
                .hint("write `arn:aws:iam::123456789012:role/SentinelProtected-NAME`")
        };
        let mut parts = raw.splitn(6, ':');
        let (
            Some("arn"),
            Some(partition),
            Some(service),
            Some(region),
            Some(account),
            Some(resource),
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return Err(bad("expected `arn:<partition>:iam::<account>:role/<name>`"));
        };
        if !is_partition(partition) {
            return Err(bad("unknown partition"));
        }
        if service != "iam" || !region.is_empty() {
            return Err(bad("the service must be `iam` with no region"));
        }
        if !is_account_id(account) {
            return Err(bad("the account must be 12 digits"));
        }
        let Some(path) = resource.strip_prefix("role/") else {
            return Err(bad("the resource must be `role/<name>`"));
        };
        let mut segments = path.split('/').peekable();
        while let Some(segment) = segments.next() {
            let last = segments.peek().is_none();
            let ok_len = if last {
                (1..=64).contains(&segment.len())
            } else {
                !segment.is_empty()
            };
            if !ok_len || !segment.chars().all(is_iam_name_char) {
                return Err(bad(
                    "the role name must be 1-64 of `A-Z a-z 0-9 + = , . @ _ -`",
                ));
            }
        }
        if path.len() > 576 {
            return Err(bad("the role path is too long"));
        }
        Ok(Self(raw.to_owned()))
    }
}

impl FromStr for RoleArn {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::check(s).map_err(|e| PolicyError::new(e.message).with_hint(e.hint))
    }
}

impl fmt::Display for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `aws`, or `aws-` followed by lowercase words (`aws-cn`, `aws-us-gov`, `aws-iso-b`).
pub(crate) fn is_partition(s: &str) -> bool {
    s == "aws"
        || s.strip_prefix("aws-").is_some_and(|rest| {
            !rest.is_empty()
                && !rest.starts_with('-')
                && !rest.ends_with('-')
                && !rest.contains("--")
                && rest
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Characters IAM allows in user, role and session names.
pub(crate) fn is_iam_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '=' | ',' | '.' | '@' | '_' | '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_in_every_partition_with_paths() {
        for ok in [
            "arn:aws:iam::123456789012:role/SentinelProtected-dev",
            "arn:aws-cn:iam::123456789012:role/x",
            "arn:aws-us-gov:iam::123456789012:role/team/prod/SentinelProtected-prod",
            "arn:aws-iso-b:iam::123456789012:role/a.b@c",
        ] {
            let arn: RoleArn = ok.parse().unwrap();
            assert_eq!(arn.as_str(), ok);
            assert_eq!(arn.account_id(), "123456789012");
        }
        let arn: RoleArn = "arn:aws-us-gov:iam::123456789012:role/team/prod/P"
            .parse()
            .unwrap();
        assert_eq!(arn.partition(), "aws-us-gov");
        assert_eq!(arn.name(), "P");
    }

    #[test]
    fn malformed_role_arns_are_refused_with_a_hint() {
        for bad in [
            "",
            "SentinelProtected-dev",
            "arn:aws:iam::12345678901:role/x",
            "arn:aws:iam::1234567890123:role/x",
            "arn:aws:iam::12345678901a:role/x",
            "arn:aws:iam:us-east-1:123456789012:role/x",
            "arn:aws:sts::123456789012:role/x",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/a//b",
            "arn:aws:iam::123456789012:role/has space",
            "arn:azure:iam::123456789012:role/x",
            "arn:aws-:iam::123456789012:role/x",
            "arn:aws:iam::123456789012:role/x:y",
        ] {
            let e = bad.parse::<RoleArn>().unwrap_err();
            assert!(e.message().contains("is not an IAM role ARN"), "{bad}: {e}");
            assert!(e.hint().is_some());
        }
        let long = format!("arn:aws:iam::123456789012:role/{}", "r".repeat(65));
        assert!(long.parse::<RoleArn>().is_err());
    }

    #[test]
    fn effects_print_as_written() {
        assert_eq!(Effect::Allow.to_string(), "allow");
        assert_eq!(Effect::Deny.as_str(), "deny");
    }
}

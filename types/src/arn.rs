//! Amazon Resource Names: the generic shape, and IAM role ARNs.

use crate::account::shown;
use crate::{AccountId, InvalidValue, string_newtype};

/// `aws`, or `aws-` followed by lowercase words (`aws-cn`, `aws-us-gov`, `aws-iso-b`).
pub fn is_partition(s: &str) -> bool {
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

/// Characters IAM allows in user, role and role session names: `[\w+=,.@-]`.
pub fn is_iam_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '=' | ',' | '.' | '@' | '_' | '-')
}

/// An ARN, split into its parts: `arn:<partition>:<service>:<region>:<account>:<resource>`.
/// The account may be empty (S3 buckets); when present it is a 12-digit ID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arn {
    text: String,
    partition: String,
    service: String,
    region: String,
    account: Option<AccountId>,
    resource: String,
}

impl Arn {
    /// Parses the six colon-separated parts; the partition must be an AWS partition
    /// and a non-empty account must be 12 digits.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let bad = || InvalidValue::new(format!("`{}` is not an ARN", shown(raw)));
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
            return Err(bad());
        };
        if !is_partition(partition) || service.is_empty() || resource.is_empty() {
            return Err(bad());
        }
        let account = match account {
            "" => None,
            digits => Some(AccountId::parse(digits).map_err(|_| bad())?),
        };
        Ok(Self {
            text: raw.to_owned(),
            partition: partition.to_owned(),
            service: service.to_owned(),
            region: region.to_owned(),
            account,
            resource: resource.to_owned(),
        })
    }

    /// The ARN as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub fn partition(&self) -> &str {
        &self.partition
    }

    /// `iam`, `sts`, `s3`, ...
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The region, empty for global services.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The owning account, when the ARN names one.
    pub fn account(&self) -> Option<&AccountId> {
        self.account.as_ref()
    }

    /// Everything after the account: `role/path/Name`, `assumed-role/R/S`, ...
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The resource's last `/`-separated segment: a role's or user's name.
    pub fn name(&self) -> &str {
        self.resource.rsplit('/').next().unwrap_or(&self.resource)
    }
}

impl std::fmt::Display for Arn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Arn {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// `arn:<partition>:iam::<12 digits>:role/<path/>name`: a role STS can assume.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleArn(String);

const ROLE_HINT: &str = "write `arn:aws:iam::123456789012:role/SentinelProtected-NAME`";

impl RoleArn {
    /// Checks the partition, service `iam` without a region, the 12-digit account, and
    /// a path of IAM-name segments ending in a 1–64 character role name.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let bad = |why: &str| {
            InvalidValue::new(format!("`{}` is not an IAM role ARN: {why}", shown(raw)))
                .hint(ROLE_HINT)
        };
        let arn = Arn::parse(raw).map_err(|_| {
            bad("expected `arn:<partition>:iam::<account>:role/<name>` with a 12-digit account")
        })?;
        if arn.service() != "iam" || !arn.region().is_empty() {
            return Err(bad("the service must be `iam` with no region"));
        }
        if arn.account().is_none() {
            return Err(bad("the account must be 12 digits"));
        }
        let Some(path) = arn.resource().strip_prefix("role/") else {
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

    /// The 12-digit account that owns the role.
    pub fn account(&self) -> AccountId {
        // Checked by `parse`: the fifth field is 12 digits.
        AccountId(self.0.split(':').nth(4).unwrap_or_default().to_owned())
    }

    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub fn partition(&self) -> &str {
        self.0.split(':').nth(1).unwrap_or_default()
    }

    /// The role name, without its path.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or_default()
    }
}
string_newtype!(RoleArn);

impl From<RoleArn> for String {
    fn from(arn: RoleArn) -> Self {
        arn.0
    }
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
            assert_eq!(arn.account().as_str(), "123456789012");
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
            assert!(e.hint_text().is_some());
        }
        let long = format!("arn:aws:iam::123456789012:role/{}", "r".repeat(65));
        assert!(long.parse::<RoleArn>().is_err());
    }

    #[test]
    fn arns_expose_their_parts() {
        let arn = Arn::parse("arn:aws-cn:sts::123456789012:assumed-role/R/S").unwrap();
        assert_eq!(arn.partition(), "aws-cn");
        assert_eq!(arn.service(), "sts");
        assert_eq!(arn.region(), "");
        assert_eq!(arn.account().unwrap().as_str(), "123456789012");
        assert_eq!(arn.resource(), "assumed-role/R/S");
        assert_eq!(arn.name(), "S");
        let bucket = Arn::parse("arn:aws:s3:::bucket").unwrap();
        assert_eq!(bucket.account(), None);
        assert_eq!(bucket.name(), "bucket");
        for bad in [
            "",
            "arn:aws:iam::123",
            "arn:azure:iam::123456789012:user/a",
            "arn:aws:iam::12345678901:user/a",
            "arn:aws::::x",
            "arn:aws:iam::123456789012:",
        ] {
            assert!(Arn::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn partitions_are_aws_or_aws_dash_words() {
        for ok in ["aws", "aws-cn", "aws-us-gov", "aws-iso-b", "aws-eusc"] {
            assert!(is_partition(ok), "{ok}");
        }
        for bad in ["", "aws-", "aws--x", "aws-x-", "azure", "AWS", "aws-CN"] {
            assert!(!is_partition(bad), "{bad}");
        }
    }
}

//! The SNS channel: [`TopicArn`] and [`SnsChannel`].

use std::str::FromStr;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_sns::config::Region;
use aws_sdk_sns::config::timeout::TimeoutConfig;
use aws_sdk_sns::types::MessageAttributeValue;

use super::notice::{MAX_NAME_CHARS, clip};
use super::{Channel, Notice, SendFuture};

/// An SNS topic ARN, `arn:<partition>:sns:<region>:<12 digits>:<name>`, standard (not
/// FIFO) topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicArn {
    arn: String,
    region: String,
}

impl TopicArn {
    /// The whole ARN.
    pub fn as_str(&self) -> &str {
        &self.arn
    }

    /// The topic's region: `Publish` must be sent there, whatever the TVM's own region.
    pub fn region(&self) -> &str {
        &self.region
    }
}

impl FromStr for TopicArn {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        let shape = || {
            format!(
                "`{raw}` is not an SNS topic ARN (arn:<partition>:sns:<region>:<account>:<name>)"
            )
        };
        let mut parts = raw.split(':');
        let (
            Some("arn"),
            Some(partition),
            Some("sns"),
            Some(region),
            Some(account),
            Some(name),
            None,
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return Err(shape());
        };
        let lower = |s: &str, digits: bool| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || (digits && c.is_ascii_digit()))
        };
        if !partition.starts_with("aws") || !lower(partition, false) || !lower(region, true) {
            return Err(shape());
        }
        if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!(
                "`{raw}`: the account must be 12 digits, not `{account}`"
            ));
        }
        if name.ends_with(".fifo") {
            return Err(format!(
                "`{raw}` is a FIFO topic; notifications need a standard topic"
            ));
        }
        let name_ok = (1..=256).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            return Err(format!(
                "`{raw}`: a topic name is 1 to 256 letters, digits, `-` and `_`"
            ));
        }
        Ok(Self {
            arn: raw.to_owned(),
            region: region.to_owned(),
        })
    }
}

/// SNS `Publish` of [`Notice::payload`] with [`Notice::subject`] and the String message
/// attributes `kind` and `profile`, for subscription filter policies.
pub struct SnsChannel {
    client: aws_sdk_sns::Client,
    topic: TopicArn,
    name: String,
}

impl SnsChannel {
    /// A client for `topic`'s region from the process's SDK configuration (credentials,
    /// endpoint), every call bounded by `timeout` (all attempts together).
    pub fn new(topic: TopicArn, sdk_config: &SdkConfig, timeout: Duration) -> Self {
        let config = aws_sdk_sns::config::Builder::from(sdk_config)
            .region(Region::new(topic.region().to_owned()))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(timeout)
                    .operation_attempt_timeout(timeout)
                    .operation_timeout(timeout)
                    .build(),
            )
            .build();
        Self {
            client: aws_sdk_sns::Client::from_conf(config),
            name: format!("sns {}", topic.as_str()),
            topic,
        }
    }

    async fn publish(&self, notice: &Notice) -> Result<(), String> {
        let string = |value: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| e.to_string())
        };
        let mut call = self
            .client
            .publish()
            .topic_arn(self.topic.as_str())
            .subject(notice.subject())
            .message(notice.payload().to_string())
            .message_attributes("kind", string(notice.kind.as_str())?);
        // SNS refuses an empty attribute value; a notice always has a profile, though.
        let profile = clip(&notice.profile, MAX_NAME_CHARS);
        if !profile.is_empty() {
            call = call.message_attributes("profile", string(&profile)?);
        }
        match call.send().await {
            Ok(_) => Ok(()),
            // The error chain only: `classify`'s detail adds the SDK's debug dump of the
            // whole response, too much for a line per failed notice.
            Err(e) => Err(match sentinel_aws::classify(&e).kind {
                sentinel_aws::FailureKind::AccessDenied => {
                    format!("access denied: {}", sentinel_types::error_chain(&e))
                }
                sentinel_aws::FailureKind::Unavailable => sentinel_types::error_chain(&e),
            }),
        }
    }
}

impl Channel for SnsChannel {
    fn name(&self) -> &str {
        &self.name
    }

    fn send<'a>(&'a self, notice: &'a Notice) -> SendFuture<'a> {
        Box::pin(self.publish(notice))
    }
}

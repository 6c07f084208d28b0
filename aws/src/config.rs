//! The one way Sentinel's binaries load the AWS SDK configuration: the standard chain
//! (environment, shared files, instance or container credentials) with every call
//! bounded by an attempt timeout and an operation timeout.
//!
//! Without them the SDK waits on an endpoint that accepts a connection and never
//! answers for as long as the socket lives, and a request to the TVM hangs with it. With
//! them, such a call fails as a timeout, which callers classify like any unavailable
//! service (fail closed, the code of that step).
//!
//! ```no_run
//! # async fn example() -> Result<(), sentinel_aws::config::TimeoutSettingError> {
//! use sentinel_aws::config::{self, AwsTimeouts};
//!
//! let timeouts = AwsTimeouts::from_lookup(|name| std::env::var(name).ok())?;
//! let sdk = config::load(timeouts).await;
//! let ssm = aws_sdk_ssm::Client::new(&sdk);
//! # let _ = ssm;
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};

/// Variable for the time one attempt of an AWS call may take, in milliseconds.
pub const ATTEMPT_TIMEOUT_VARIABLE: &str = "SENTINEL_AWS_TIMEOUT_MS";
/// Variable for the time an AWS call may take with all its retries, in milliseconds.
pub const OPERATION_TIMEOUT_VARIABLE: &str = "SENTINEL_AWS_OPERATION_TIMEOUT_MS";

/// The largest value either variable accepts: a Lambda invocation's own limit (15 minutes).
const MAX_TIMEOUT_MS: u64 = 900_000;
/// The SDK's own connect timeout (behaviour version 2026-01-12 and later).
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// How long an AWS call may take: each attempt, and all attempts together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsTimeouts {
    /// One attempt (connect, send, read the answer).
    pub attempt: Duration,
    /// The whole call, retries and back-off included.
    pub operation: Duration,
}

impl Default for AwsTimeouts {
    /// 3 s per attempt, 8 s per call.
    fn default() -> Self {
        Self {
            attempt: Duration::from_secs(3),
            operation: Duration::from_secs(8),
        }
    }
}

/// A timeout variable that stops start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid setting `{variable}`: {message}")]
pub struct TimeoutSettingError {
    /// The environment variable.
    pub variable: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl AwsTimeouts {
    /// Reads [`ATTEMPT_TIMEOUT_VARIABLE`] and [`OPERATION_TIMEOUT_VARIABLE`] through
    /// `lookup` (the environment in production, a map in tests). Unset or empty means the
    /// default; otherwise a whole number of milliseconds from 1 to 900000.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, TimeoutSettingError> {
        let defaults = Self::default();
        let read = |variable: &'static str, default: Duration| match lookup(variable)
            .map(|raw| raw.trim().to_owned())
        {
            None => Ok(default),
            Some(raw) if raw.is_empty() => Ok(default),
            Some(raw) => parse_millis(variable, &raw),
        };
        Ok(Self {
            attempt: read(ATTEMPT_TIMEOUT_VARIABLE, defaults.attempt)?,
            operation: read(OPERATION_TIMEOUT_VARIABLE, defaults.operation)?,
        })
    }

    /// The SDK form. The connect timeout stays the SDK's 3.1 s, or the attempt timeout
    /// when that is shorter.
    pub fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT.min(self.attempt))
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }
}

fn parse_millis(variable: &'static str, raw: &str) -> Result<Duration, TimeoutSettingError> {
    let invalid = |message: String| TimeoutSettingError { variable, message };
    let millis: u64 = raw
        .parse()
        .map_err(|_| invalid(format!("`{raw}` is not a whole number of milliseconds")))?;
    if !(1..=MAX_TIMEOUT_MS).contains(&millis) {
        return Err(invalid(format!(
            "`{raw}` is not between 1 and {MAX_TIMEOUT_MS} milliseconds"
        )));
    }
    Ok(Duration::from_millis(millis))
}

/// The standard loader with `timeouts` applied, for callers that set more (a region).
pub fn loader(timeouts: AwsTimeouts) -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts.timeout_config())
}

/// The SDK configuration every Sentinel binary builds its clients from, once per process.
pub async fn load(timeouts: AwsTimeouts) -> SdkConfig {
    loader(timeouts).load().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn timeouts(vars: &[(&str, &str)]) -> Result<AwsTimeouts, TimeoutSettingError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        AwsTimeouts::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_are_three_and_eight_seconds() {
        for vars in [&[][..], &[(ATTEMPT_TIMEOUT_VARIABLE, " ")][..]] {
            let t = timeouts(vars).unwrap();
            assert_eq!(t.attempt, Duration::from_secs(3));
            assert_eq!(t.operation, Duration::from_secs(8));
        }
    }

    #[test]
    fn values_are_milliseconds() {
        let t = timeouts(&[
            (ATTEMPT_TIMEOUT_VARIABLE, "250"),
            (OPERATION_TIMEOUT_VARIABLE, "1500"),
        ])
        .unwrap();
        assert_eq!(t.attempt, Duration::from_millis(250));
        assert_eq!(t.operation, Duration::from_millis(1500));
    }

    #[test]
    fn bad_values_name_the_variable() {
        for variable in [ATTEMPT_TIMEOUT_VARIABLE, OPERATION_TIMEOUT_VARIABLE] {
            for raw in ["0", "-5", "3s", "1.5", "900001", "many"] {
                let err = timeouts(&[(variable, raw)]).unwrap_err();
                assert_eq!(err.variable, variable, "{raw}");
                assert!(err.to_string().contains(variable), "{err}");
                assert!(err.to_string().contains(raw), "{err}");
            }
        }
    }

    #[test]
    fn sdk_config_carries_both_timeouts_and_a_bounded_connect() {
        let t = AwsTimeouts {
            attempt: Duration::from_millis(500),
            operation: Duration::from_millis(1500),
        };
        let config = t.timeout_config();
        assert_eq!(config.operation_attempt_timeout(), Some(t.attempt));
        assert_eq!(config.operation_timeout(), Some(t.operation));
        assert_eq!(config.connect_timeout(), Some(Duration::from_millis(500)));
        let config = AwsTimeouts {
            attempt: Duration::from_secs(10),
            operation: Duration::from_secs(20),
        }
        .timeout_config();
        assert_eq!(config.connect_timeout(), Some(CONNECT_TIMEOUT));
    }
}

//! Adapters for the AWS services the admin commands use. Only this module
//! imports `aws_sdk_*`; the rest of the CLI speaks in its own words.

pub mod sts;

use aws_config::{Region, SdkConfig};

use crate::failure::{Failure, error_chain};

/// The SDK configuration from the standard environment, with `--region` on top and
/// the default AWS timeouts, so no command hangs on an endpoint that never answers.
pub async fn sdk_config(region: Option<&str>) -> SdkConfig {
    let loader = sentinel_aws::config::loader(sentinel_aws::config::AwsTimeouts::default());
    match region {
        Some(region) => loader.region(Region::new(region.to_owned())).load().await,
        None => loader.load().await,
    }
}

/// One line for a failed SDK call: the operation and the SDK's whole error chain.
pub(crate) fn sdk_failure(operation: &str, error: &(dyn std::error::Error + 'static)) -> Failure {
    let text = error_chain(error);
    Failure::error(format!("{operation} failed: {text}"))
        .with_hint("check the AWS credentials and region of this shell (AWS_PROFILE, AWS_REGION)")
}

/// The DynamoDB session store for `table`.
pub fn session_store(config: &SdkConfig, table: &str) -> sessions::DynamoSessionStore {
    sessions::DynamoSessionStore::new(aws_sdk_dynamodb::Client::new(config), table)
}

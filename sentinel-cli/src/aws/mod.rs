//! The SDK configuration the commands that call AWS themselves use (`policy`,
//! `bootstrap`); session administration goes through the TVM.

use aws_config::{Region, SdkConfig};

/// The SDK configuration from the standard environment, with `--region` on top and
/// the default AWS timeouts, so no command hangs on an endpoint that never answers.
pub async fn sdk_config(region: Option<&str>) -> SdkConfig {
    let loader = sentinel_aws::config::loader(sentinel_aws::config::AwsTimeouts::default());
    match region {
        Some(region) => loader.region(Region::new(region.to_owned())).load().await,
        None => loader.load().await,
    }
}

//! The SDK configuration the commands that call AWS themselves use (`policy`,
//! `bootstrap`); session administration goes through the TVM.

use aws_config::{Region, SdkConfig};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// The SDK configuration from the standard environment, with `--region` on top and
/// the default AWS timeouts, so no command hangs on an endpoint that never answers.
pub async fn sdk_config(region: Option<&str>) -> SdkConfig {
    let loader = sentinel_aws::config::loader(sentinel_aws::config::AwsTimeouts::default())
        .http_client(https_client());
    match region {
        Some(region) => loader.region(Region::new(region.to_owned())).load().await,
        None => loader.load().await,
    }
}

/// The HTTPS client of every SDK call the CLI makes (SSM, and the credential chain's SSO,
/// STS and metadata calls): the workspace's one client (`sentinel_aws::https`), on rustls
/// with *ring* instead of aws-lc-rs, which is most of a megabyte smaller (BENCHMARKS.md,
/// footprint).
///
/// The CLI's SDK crates are built without `default-https-client`, so an SDK
/// configuration or credentials provider built without this client has no HTTP client
/// at all (and `DefaultCredentialsChain::build` panics): pass it everywhere.
pub fn https_client() -> SharedHttpClient {
    sentinel_aws::https::sdk_client()
}

//! The SDK configuration the commands that call AWS themselves use (`policy`,
//! `bootstrap`); session administration goes through the TVM.

use aws_config::{Region, SdkConfig};
use aws_smithy_async::rt::sleep::SharedAsyncSleep;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, Connector, proxy::ProxyConfig};
use aws_smithy_runtime_api::client::http::{HttpConnectorSettings, SharedHttpClient};

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
/// STS and metadata calls): the SDK's default client, on rustls with *ring* instead of
/// aws-lc-rs, which is most of a megabyte smaller (BENCHMARKS.md, footprint).
///
/// The CLI's SDK crates are built without `default-https-client`, so an SDK
/// configuration or credentials provider built without this client has no HTTP client
/// at all (and `DefaultCredentialsChain::build` panics): pass it everywhere.
pub fn https_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        connector(settings.cloned(), components.and_then(|c| c.sleep_impl()))
    })
}

/// One HTTPS connector as the SDK's default client builds it: native trusted roots,
/// proxies from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`, connect and read timeouts from
/// `settings` (which need `sleep`).
pub fn connector(
    settings: Option<HttpConnectorSettings>,
    sleep: Option<SharedAsyncSleep>,
) -> Connector {
    let mut builder = Connector::builder().tls_provider(Provider::Rustls(CryptoMode::Ring));
    builder.set_connector_settings(settings);
    builder.set_sleep_impl(sleep);
    builder.set_proxy_config(Some(ProxyConfig::from_env()));
    builder.build()
}

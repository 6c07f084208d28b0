//! The workspace's one HTTP client: the AWS SDK's own HTTPS connector (rustls, the
//! system's trusted roots, proxies from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`), for the
//! SDK's calls and for the few calls that are not SDK operations: the CLI's calls to the
//! TVM, the JWT verifier's discovery and JWKS fetches, the TVM's webhook, the
//! authorizer's replay of a proof to STS and the proxy's upstream calls. One client
//! stack per binary instead of a second one (reqwest had its own hyper client and TLS
//! setup next to the SDK's).
//!
//! The TLS crypto is a feature: `https-aws-lc` (rustls on aws-lc-rs, with the hybrid
//! post-quantum key exchange X25519MLKEM768 preferred, as the SDK's default client) or
//! `https-ring` (rustls on *ring*: classical key exchange, most of a megabyte smaller;
//! the CLI's choice). With both, aws-lc wins.
//!
//! [`HttpsClient`] never follows a redirect (a 3xx is an answer like any other), bounds
//! the whole exchange, answer body included, by one deadline, and reads at most the
//! number of bytes its caller allows. Its errors never name the URL: a webhook's path
//! is a secret.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, Connector, proxy::ProxyConfig};
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use tokio::time::Instant;

#[cfg(not(any(feature = "https-aws-lc", feature = "https-ring")))]
compile_error!("feature `https` needs its TLS crypto: `https-aws-lc` or `https-ring`");

/// The crypto the features chose.
fn crypto() -> CryptoMode {
    #[cfg(feature = "https-aws-lc")]
    return CryptoMode::AwsLc;
    #[cfg(all(feature = "https-ring", not(feature = "https-aws-lc")))]
    return CryptoMode::Ring;
}

/// An HTTP client for the AWS SDK (`SdkConfig::http_client`, credentials providers) on
/// [`connector`]: the SDK's default client with this crate's TLS crypto. A binary whose
/// SDK crates are built without `default-https-client` has no other.
pub fn sdk_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        connector(settings.cloned(), components.and_then(|c| c.sleep_impl()))
    })
}

/// One HTTPS connector as the SDK's default client builds it: the system's trusted
/// roots, proxies from the environment, connect and read timeouts from `settings`
/// (which need `sleep`). Plain `http://` URLs work too (loopback endpoints in tests).
pub fn connector(
    settings: Option<HttpConnectorSettings>,
    sleep: Option<SharedAsyncSleep>,
) -> Connector {
    connector_via(settings, sleep, ProxyConfig::from_env())
}

fn connector_via(
    settings: Option<HttpConnectorSettings>,
    sleep: Option<SharedAsyncSleep>,
    proxies: ProxyConfig,
) -> Connector {
    let mut builder = Connector::builder().tls_provider(Provider::Rustls(crypto()));
    builder.set_connector_settings(settings);
    builder.set_sleep_impl(sleep);
    builder.set_proxy_config(Some(proxies));
    builder.build()
}

/// Why a call got no usable answer. No variant names the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpsError {
    /// The request could not be built (a header or URL the HTTP stack refuses).
    #[error("invalid request: {0}")]
    Request(String),
    /// No connection, TLS refused, or the connection broke.
    #[error("{0}")]
    Transport(String),
    /// The deadline passed before the answer was read in full.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The answer's body is longer than the caller allows.
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
}

/// An HTTPS client with a connect timeout and a deadline for each whole exchange.
#[derive(Debug, Clone)]
pub struct HttpsClient {
    connector: SharedHttpConnector,
    timeout: Duration,
}

impl HttpsClient {
    /// Connections give up after `connect_timeout`; a call, answer body included, after
    /// `timeout`.
    pub fn new(connect_timeout: Duration, timeout: Duration) -> Self {
        Self::via(connect_timeout, timeout, ProxyConfig::from_env())
    }

    /// As [`HttpsClient::new`], but never through a proxy named by `HTTPS_PROXY` and the
    /// like: for a service that allow-lists this host's own egress address.
    pub fn direct(connect_timeout: Duration, timeout: Duration) -> Self {
        Self::via(connect_timeout, timeout, ProxyConfig::disabled())
    }

    fn via(connect_timeout: Duration, timeout: Duration, proxies: ProxyConfig) -> Self {
        let settings = HttpConnectorSettings::builder()
            .connect_timeout(connect_timeout.min(timeout))
            .build();
        let connector = connector_via(
            Some(settings),
            Some(SharedAsyncSleep::new(TokioSleep::new())),
            proxies,
        );
        Self {
            connector: SharedHttpConnector::new(connector),
            timeout,
        }
    }

    /// Sends `request` and reads the status and headers of the answer; its body is read
    /// by [`Response::body`], before the same deadline. A `Host` and a `Content-Length`
    /// are written from the URL and the body.
    pub async fn send(&self, request: http::Request<Vec<u8>>) -> Result<Response, HttpsError> {
        let deadline = Instant::now() + self.timeout;
        let (parts, body) = request.into_parts();
        let body = if body.is_empty() {
            SdkBody::empty()
        } else {
            SdkBody::from(body)
        };
        let request = http::Request::from_parts(parts, body);
        let request = HttpRequest::try_from(request)
            .map_err(|e| HttpsError::Request(sentinel_types::error_chain(&e)))?;
        let response = tokio::time::timeout_at(deadline, self.connector.call(request))
            .await
            .map_err(|_| HttpsError::Timeout(self.timeout))?
            .map_err(|e| HttpsError::Transport(sentinel_types::error_chain(&e)))?;
        let (parts, body) = response
            .try_into_http1x()
            .map_err(|e| HttpsError::Transport(sentinel_types::error_chain(&e)))?
            .into_parts();
        Ok(Response {
            status: parts.status,
            headers: parts.headers,
            body,
            deadline,
            timeout: self.timeout,
        })
    }
}

/// An answer whose body is still to be read.
#[derive(Debug)]
pub struct Response {
    status: http::StatusCode,
    headers: http::HeaderMap,
    body: SdkBody,
    deadline: Instant,
    timeout: Duration,
}

impl Response {
    /// An answer already in hand (a fake upstream in tests), its body `body`; its deadline
    /// is a day away.
    pub fn from_bytes(status: http::StatusCode, headers: http::HeaderMap, body: Vec<u8>) -> Self {
        let timeout = Duration::from_secs(24 * 60 * 60);
        Self {
            status,
            headers,
            body: SdkBody::from(body),
            deadline: Instant::now() + timeout,
            timeout,
        }
    }

    /// The status.
    pub fn status(&self) -> http::StatusCode {
        self.status
    }

    /// The headers, as received.
    pub fn headers(&self) -> &http::HeaderMap {
        &self.headers
    }

    /// The first value of header `name`, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body, at most `limit` bytes ([`HttpsError::TooLarge`] past that, without
    /// reading the rest).
    pub async fn body(self, limit: usize) -> Result<Vec<u8>, HttpsError> {
        let mut stream = ByteStream::new(self.body);
        let read = async {
            let mut body = Vec::new();
            while let Some(chunk) = stream.next().await {
                let chunk =
                    chunk.map_err(|e| HttpsError::Transport(sentinel_types::error_chain(&e)))?;
                if body.len().saturating_add(chunk.len()) > limit {
                    return Err(HttpsError::TooLarge(limit));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body)
        };
        tokio::time::timeout_at(self.deadline, read)
            .await
            .map_err(|_| HttpsError::Timeout(self.timeout))?
    }

    /// The body as a stream of frames (to pass on as it arrives), which fails with
    /// [`HttpsError::Timeout`] once the call's deadline passes.
    pub fn into_body(self) -> ResponseBody {
        ResponseBody {
            body: self.body,
            deadline: Box::pin(tokio::time::sleep_until(self.deadline)),
            timeout: self.timeout,
        }
    }
}

/// A [`Response`]'s body as an [`http_body::Body`], bounded by the call's deadline.
#[derive(Debug)]
pub struct ResponseBody {
    body: SdkBody,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
}

impl http_body::Body for ResponseBody {
    type Data = bytes::Bytes;
    type Error = HttpsError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        if this.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(HttpsError::Timeout(this.timeout))));
        }
        Pin::new(&mut this.body).poll_frame(cx).map(|frame| {
            frame.map(|result| {
                result.map_err(|e| HttpsError::Transport(sentinel_types::error_chain(&*e)))
            })
        })
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests;

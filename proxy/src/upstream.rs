//! The one upstream: an HTTP client that never follows redirects, never uses an
//! environment proxy, and gives the whole answer a deadline.

use std::time::Duration;

use http::HeaderMap;
use reqwest::{Method, Url};

/// A request for the upstream, already checked and rewritten.
#[derive(Debug, Clone)]
pub struct UpstreamRequest {
    pub method: String,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Why the upstream gave no answer (the text is for the log only).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// Not within the timeout (504 `UPSTREAM_TIMEOUT`).
    #[error("upstream timed out: {0}")]
    Timeout(String),
    /// Unreachable, refused, TLS failure, malformed answer (502 `UPSTREAM_ERROR`).
    #[error("upstream failed: {0}")]
    Failed(String),
}

/// Sends requests to the upstream.
pub trait Upstream: Send + Sync {
    /// Sends `request`; the answer's body is read by the caller.
    fn send(
        &self,
        request: UpstreamRequest,
    ) -> impl Future<Output = Result<reqwest::Response, UpstreamError>> + Send;
}

/// The upstream over HTTPS (or HTTP) with reqwest and rustls.
#[derive(Debug, Clone)]
pub struct HttpUpstream {
    client: reqwest::Client,
}

impl HttpUpstream {
    /// A client whose every request, its body included, must finish within `timeout`.
    pub fn new(timeout: Duration) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            // SECURITY: a redirect is the upstream's answer to pass on (or refuse), never
            // a request the proxy makes to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            // The upstream is contacted directly, from the egress IP it allow-lists;
            // HTTP(S)_PROXY variables are not honoured.
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| format!("cannot build the upstream HTTP client: {e}"))?;
        Ok(Self { client })
    }
}

impl Upstream for HttpUpstream {
    async fn send(&self, request: UpstreamRequest) -> Result<reqwest::Response, UpstreamError> {
        let method = Method::from_bytes(request.method.as_bytes())
            .map_err(|e| UpstreamError::Failed(format!("method: {e}")))?;
        self.client
            .request(method, request.url)
            .headers(request.headers)
            .body(request.body)
            .send()
            .await
            .map_err(classify)
    }
}

/// Timeouts apart from every other failure, with the whole cause chain but not the URL
/// (its query may carry the caller's data; the decision line has the canonical path).
pub fn classify(error: reqwest::Error) -> UpstreamError {
    let error = error.without_url();
    let text = sentinel_types::error_chain(&error);
    if error.is_timeout() {
        UpstreamError::Timeout(text)
    } else {
        UpstreamError::Failed(text)
    }
}

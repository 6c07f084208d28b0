//! The one upstream: an HTTP client that never follows redirects, never uses an
//! environment proxy, and gives the whole answer a deadline.

use std::time::Duration;

use http::{HeaderMap, Method};
use sentinel_aws::https::{HttpsClient, HttpsError, Response};
use url::Url;

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
    ) -> impl Future<Output = Result<Response, UpstreamError>> + Send;
}

/// The upstream over HTTPS (or HTTP) with the workspace's one HTTP client
/// (`sentinel_aws::https`: the SDK's connector, rustls).
#[derive(Debug, Clone)]
pub struct HttpUpstream {
    client: HttpsClient,
}

impl HttpUpstream {
    /// A client whose every request, its body included, must finish within `timeout`.
    /// SECURITY: it never follows a redirect (a redirect is the upstream's answer to pass
    /// on, or refuse, never a request the proxy makes to wherever it points), and it
    /// contacts the upstream directly, from the egress IP the upstream allow-lists:
    /// `HTTP(S)_PROXY` variables are not honoured.
    pub fn new(timeout: Duration) -> Self {
        Self {
            client: HttpsClient::direct(timeout.min(Duration::from_secs(5)), timeout),
        }
    }
}

impl Upstream for HttpUpstream {
    async fn send(&self, request: UpstreamRequest) -> Result<Response, UpstreamError> {
        let method = Method::from_bytes(request.method.as_bytes())
            .map_err(|e| UpstreamError::Failed(format!("method: {e}")))?;
        let mut outgoing = http::Request::new(request.body);
        *outgoing.method_mut() = method;
        *outgoing.uri_mut() = request
            .url
            .as_str()
            .parse()
            .map_err(|e| UpstreamError::Failed(format!("target: {e}")))?;
        *outgoing.headers_mut() = request.headers;
        self.client.send(outgoing).await.map_err(classify)
    }
}

/// Timeouts apart from every other failure, with the whole cause chain; the client's
/// errors never name the URL (its query may carry the caller's data; the decision line
/// has the canonical path).
pub fn classify(error: HttpsError) -> UpstreamError {
    let text = sentinel_types::error_chain(&error);
    match error {
        HttpsError::Timeout(_) => UpstreamError::Timeout(text),
        _ => UpstreamError::Failed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_is_told_apart_from_every_other_failure() {
        let timeout = classify(HttpsError::Timeout(Duration::from_secs(2)));
        assert_eq!(
            timeout,
            UpstreamError::Timeout("no answer within 2s".into())
        );
        for other in [
            HttpsError::Transport("connection refused".into()),
            HttpsError::TooLarge(10),
            HttpsError::Request("bad header".into()),
        ] {
            assert!(matches!(classify(other), UpstreamError::Failed(_)));
        }
    }
}

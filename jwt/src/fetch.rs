//! Getting discovery documents and JWKS over HTTPS.

use std::time::Duration;

use sentinel_aws::https::{HttpsClient, HttpsError};

/// A fetched document.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    /// The body.
    pub body: Vec<u8>,
    /// The `Cache-Control` header, if any.
    pub cache_control: Option<String>,
}

/// Fetches a URL (the reason for a failure is for the log).
pub trait Fetch: Send + Sync {
    /// GET `url`; anything but a 200 with a body of at most 1 MiB is an error.
    fn get(&self, url: &str) -> impl Future<Output = Result<Fetched, String>> + Send;
}

/// The largest discovery document or JWKS accepted.
const MAX_DOCUMENT: usize = 1024 * 1024;

/// [`Fetch`] over the workspace's one HTTP client (`sentinel_aws::https`): 3 s to
/// connect, 5 s per request, no redirects (an issuer's URLs are its own).
#[derive(Debug, Clone)]
pub struct HttpFetch {
    client: HttpsClient,
}

impl HttpFetch {
    /// A client with a 5 s timeout and no redirects.
    pub fn new() -> Self {
        Self {
            client: HttpsClient::new(Duration::from_secs(3), Duration::from_secs(5)),
        }
    }
}

impl Default for HttpFetch {
    fn default() -> Self {
        Self::new()
    }
}

impl Fetch for HttpFetch {
    async fn get(&self, url: &str) -> Result<Fetched, String> {
        let request = http::Request::get(url)
            .header("accept", "application/json")
            .body(Vec::new())
            .map_err(|e| format!("GET {url}: {e}"))?;
        let response = self
            .client
            .send(request)
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {url}: status {}", response.status()));
        }
        let cache_control = response.header("cache-control").map(str::to_owned);
        let body = response.body(MAX_DOCUMENT).await.map_err(|e| match e {
            HttpsError::TooLarge(limit) => format!("GET {url}: larger than {limit} bytes"),
            e => format!("GET {url}: {e}"),
        })?;
        Ok(Fetched {
            body,
            cache_control,
        })
    }
}

//! Getting discovery documents and JWKS over HTTPS.

use std::time::Duration;

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

/// [`Fetch`] with reqwest (rustls), 5 s per request.
#[derive(Debug, Clone)]
pub struct HttpFetch {
    client: reqwest::Client,
}

impl HttpFetch {
    /// A client with a 5 s timeout and no redirects (an issuer's URLs are its own).
    pub fn new() -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(3))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the JWKS HTTP client: {e}"))?;
        Ok(Self { client })
    }
}

impl Fetch for HttpFetch {
    async fn get(&self, url: &str) -> Result<Fetched, String> {
        let mut response = self
            .client
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {url}: status {}", response.status()));
        }
        let cache_control = response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?
        {
            if body.len() + chunk.len() > MAX_DOCUMENT {
                return Err(format!("GET {url}: larger than {MAX_DOCUMENT} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            body,
            cache_control,
        })
    }
}
